package pcmapi

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// parseResults decodes body as a JSON array of ReportResponse objects. ok is false when the
// body is anything else (an element that is not an object included). Texts are redacted of the
// token the request carried and sanitised.
//
// It reads what encoding/json would, field by field (names matched case-insensitively, the
// last of repeated keys wins, a null leaves a field as it was, any other non-string value is
// kept as its JSON text), without reflection and with one copy per text at most: the
// per-item answer of a 5,000-report POST was a third of the exporter's CPU. FuzzParseResults
// checks it against the encoding/json version.
func parseResults(body []byte, token string) (results []ItemResult, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' || !flatResults(body) && !json.Valid(body) {
		return nil, false
	}
	// From here on the body is valid JSON: the scanner only finds the boundaries.
	s := scanner{data: body, pos: 1}
	results = make([]ItemResult, 0, bytes.Count(body, []byte{'{'}))
	s.space()
	if s.peek() == ']' {
		return results, true
	}
	for {
		s.space()
		if s.peek() != '{' {
			return nil, false
		}
		var r reportResponse
		s.object(&r)
		results = append(results, ItemResult{
			ReportID:      cleanText(string(r.ReportID), token),
			Status:        cleanText(string(r.Status), token),
			CorrelationID: cleanText(string(r.CorrelationID), token),
			Message:       cleanText(string(r.Message), token),
		})
		s.space()
		if s.next() != ',' {
			return results, true // ']': the body is valid JSON
		}
	}
}

// scanner walks valid JSON.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) peek() byte { return s.data[s.pos] }

func (s *scanner) next() byte {
	c := s.data[s.pos]
	s.pos++
	return c
}

func (s *scanner) space() { s.pos = skipSpace(s.data, s.pos) }

// object reads one object into r; s is at its '{'.
func (s *scanner) object(r *reportResponse) {
	s.pos++
	s.space()
	if s.peek() == '}' {
		s.pos++
		return
	}
	for {
		s.space()
		key := s.value() // a string
		s.space()
		s.pos++ // ':'
		s.space()
		start := s.pos
		raw := s.value()
		if field := r.field(key); field != nil {
			field.set(raw, s.data[start] == '"')
		}
		s.space()
		if s.next() == '}' {
			return
		}
	}
}

// value skips one value and returns its text.
func (s *scanner) value() []byte {
	start := s.pos
	switch s.next() {
	case '"':
		for {
			switch s.next() {
			case '\\':
				s.pos++
			case '"':
				return s.data[start:s.pos]
			}
		}
	case '{', '[':
		depth := 1
		for depth > 0 {
			switch s.next() {
			case '"':
				s.pos--
				s.value()
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		return s.data[start:s.pos]
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.data[start:s.pos]
		}
		s.pos++
	}
	return s.data[start:s.pos]
}

// field returns the field a key names, nil for any other key. Like encoding/json, an exact
// match wins, else a case-insensitive one.
func (r *reportResponse) field(quoted []byte) *lenientString {
	key := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		if json.Unmarshal(quoted, &k) != nil {
			return nil
		}
		key = []byte(k)
	}
	for _, f := range [...]struct {
		name string
		dst  *lenientString
	}{{"reportId", &r.ReportID}, {"status", &r.Status}, {"correlationId", &r.CorrelationID}, {"message", &r.Message}} {
		if string(key) == f.name || bytes.EqualFold(key, []byte(f.name)) {
			return f.dst
		}
	}
	return nil
}

// set stores a value as lenientString.UnmarshalJSON does, without copying the common case.
func (l *lenientString) set(raw []byte, quoted bool) {
	switch {
	case string(raw) == `"`+StatusAccepted+`"`:
		*l = StatusAccepted // nearly every item: no copy
	case !quoted:
		if string(raw) != "null" {
			*l = lenientString(raw)
		}
	case bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw):
		*l = lenientString(raw[1 : len(raw)-1])
	default:
		_ = l.UnmarshalJSON(raw)
	}
}
