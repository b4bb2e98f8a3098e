package pcmapi

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFlatResults(t *testing.T) {
	for body, want := range map[string]bool{
		`[{"reportId":"r-1","status":"ACCEPTED"},{"reportId":"r-2","status":"DISCARDED","message":"Missing property: endpoint"}]`: true,
		" [ ] ": true,
		"[{}]":  true,
		"[ {\"a\" : null , \"b\":true,\"c\":false}\n]\r\n": true,
		`[{"m":"a \"quoted\" \\ \/ \n text"}]`:             true,
		`[{"a":1}]`:                                        false, // numbers: json.Valid decides
		`[{"a":{"b":"c"}}]`:                                false,
		`[{"a":"\u0041"}]`:                                 false,
		"[{\"a\":\"\xc3\xa9\"}]":                           false, // non-ASCII: json.Valid decides
		`[{"a":"b"},]`:                                     false,
		`[{"a":"b"}`:                                       false,
		`[{"a":"b"}] x`:                                    false,
		`[{"a" "b"}]`:                                      false,
		`[{"a":"b",}]`:                                     false,
		`[{"a":"b"}{"c":"d"}]`:                             false,
		`[{"a":tru}]`:                                      false,
		`{"a":"b"}`:                                        false,
		`["a"]`:                                            false,
		"[{\"a\":\"b\tc\"}]":                               false, // a raw tab in a string is invalid JSON
		``:                                                 false,
	} {
		assert.Equal(t, want, flatResults([]byte(body)), "%q", body)
		if want {
			assert.True(t, json.Valid([]byte(body)), "%q", body)
		}
	}
}

// FuzzFlatResults: the fast check never accepts a body json.Valid refuses.
func FuzzFlatResults(f *testing.F) {
	for _, seed := range []string{
		`[{"reportId":"r-1","status":"ACCEPTED"}]`, `[]`, `[{}]`, `[{"a":null,"b":true}]`,
		`[{"a":"\"\\\/"}]`, `[{"a":"b"},]`, `[{"a":"b"}`, `[{"a":"\`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if flatResults(body) && !json.Valid(body) {
			t.Fatalf("flatResults accepts %q, which is not valid JSON", body)
		}
	})
}
