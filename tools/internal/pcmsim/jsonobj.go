package pcmsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// object is a decoded JSON object that remembers its key order.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

var errNotObject = errors.New("not a JSON object")

// parseObject decodes raw as a JSON object (a repeated key keeps its last value, as in
// encoding/json).
func parseObject(raw json.RawMessage) (object, error) {
	o := object{vals: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return o, errNotObject
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return o, err
		}
		key, ok := tok.(string)
		if !ok {
			return o, errNotObject
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return o, err
		}
		if _, dup := o.vals[key]; !dup {
			o.keys = append(o.keys, key)
		}
		o.vals[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return o, err
	}
	return o, nil
}

// readArray decodes body as a JSON array of at most maxItems elements. It returns errNotArray
// for anything that is not one well-formed JSON array, and errTooManyItems past maxItems.
func readArray(body []byte, maxItems int) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, errNotArray
	}
	items := []json.RawMessage{}
	for dec.More() {
		if len(items) == maxItems {
			return nil, errTooManyItems
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errNotArray
		}
		items = append(items, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, errNotArray
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotArray // trailing data after the array
	}
	return items, nil
}

var (
	errNotArray     = errors.New("not a JSON array")
	errTooManyItems = errors.New("too many items")
)

// jsonKind names the JSON type of a raw value.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch c := raw[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	default:
		return fmt.Sprintf("invalid(%q)", c)
	}
}
