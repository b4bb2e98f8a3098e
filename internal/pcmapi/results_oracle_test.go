package pcmapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// parseResultsJSON is parseResults as it was written with encoding/json: the reference the
// hand-written scanner is fuzzed against (FuzzParseResults).
// parseResultsJSON decodes body as a JSON array of ReportResponse objects. ok is false when the
// body is anything else (an element that is not an object included). Texts are redacted of the
// token the request carried and sanitised.
func parseResultsJSON(body []byte, token string) (results []ItemResult, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return nil, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, false
	}
	results = make([]ItemResult, len(elems))
	for i, elem := range elems {
		var r reportResponse
		if len(elem) == 0 || elem[0] != '{' || json.Unmarshal(elem, &r) != nil {
			return nil, false
		}
		results[i] = ItemResult{
			ReportID:      cleanText(string(r.ReportID), token),
			Status:        cleanText(string(r.Status), token),
			CorrelationID: cleanText(string(r.CorrelationID), token),
			Message:       cleanText(string(r.Message), token),
		}
	}
	return results, true
}

// FuzzParseResults: the hand-written scanner reads every body exactly as encoding/json does.
func FuzzParseResults(f *testing.F) {
	for _, seed := range []string{
		`[{"reportId":"r-1","status":"ACCEPTED"},{"reportId":"r-2","status":"DISCARDED","message":"Missing property: endpoint"}]`,
		`[]`, ` [ ] `, `[{}]`, `[1]`, `[{"status":null}]`, `[{"STATUS":"PAIRED ","ReportId":7,"message":{"a":[1,"}"]}}]`,
		`[{"status":"ACC\u0045PTED","correlationId":"\ud800"}]`, `[{"status":"a","status":null,"Status":"b"}]`,
		`[{"rep\u006frtId":"x"}]`, `{"message":"x"}`, `[{"message":"tok-1 leaked"}]`, "[{\"message\":\"\xff\"}]",
		`[{"status":true,"reportId":-1.5e3}] `, `[{"a":"\\"}, {"b":[{"c":{}}]}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if s := string(body); plainText(s) && sanitize(s, maxMessageRunes) != s {
			t.Fatalf("plainText(%q) but sanitize changes it", s)
		}
		want, wantOK := parseResultsJSON(body, "tok-1")
		got, gotOK := parseResults(body, "tok-1")
		if wantOK != gotOK || !reflect.DeepEqual(want, got) && (len(want) > 0 || len(got) > 0) {
			t.Fatalf("body %q:\nencoding/json %v %#v\nscanner       %v %#v", body, wantOK, want, gotOK, got)
		}
	})
}
