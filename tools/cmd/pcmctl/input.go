package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// valueKind is what one JSON value of an input file is.
type valueKind int

const (
	kindReport     valueKind = iota + 1 // a report object (PCM JSON field names)
	kindDeadLetter                      // a dead-letter line: {time, stage, reason, api, …, report}
	kindTraces                          // an OTLP JSON traces document {"resourceSpans": […]}
	kindInvalid                         // not JSON, or JSON that is not an object
)

// inputValue is one JSON value of a file, with the line it starts on.
type inputValue struct {
	file string
	line int
	raw  []byte // the value's bytes; for kindInvalid, the rest of the line
	kind valueKind
	err  error // kindInvalid only
}

// readValues reads every JSON value of a file. It accepts JSON Lines (one value per line, as
// the dead-letter file and the collector's file exporter write them) as well as one or more
// pretty-printed documents. A value that is not valid JSON is returned as kindInvalid and
// reading goes on at the next line, so one bad line does not hide the others.
func readValues(path string) ([]inputValue, error) {
	data, err := readMaybeGzipped(path)
	if err != nil {
		return nil, err
	}
	var out []inputValue
	pos, line := 0, 1
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) { // a UTF-8 byte order mark, as some editors write
		pos = 3
	}
	for {
		// Skip white space, counting lines, to the start of the next value.
		for pos < len(data) && isSpace(data[pos]) {
			if data[pos] == '\n' {
				line++
			}
			pos++
		}
		if pos >= len(data) {
			return out, nil
		}
		dec := json.NewDecoder(bytes.NewReader(data[pos:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			end := bytes.IndexByte(data[pos:], '\n')
			if end < 0 {
				end = len(data) - pos
			}
			out = append(out, inputValue{file: path, line: line, raw: data[pos : pos+end], kind: kindInvalid,
				err: fmt.Errorf("not valid JSON: %s", describeJSONError(err))})
			pos += end
			continue
		}
		v := inputValue{file: path, line: line, raw: raw}
		v.kind, v.err = classify(raw)
		out = append(out, v)
		consumed := int(dec.InputOffset())
		line += bytes.Count(data[pos:pos+consumed], []byte("\n"))
		pos += consumed
	}
}

// readMaybeGzipped reads a file, uncompressing it when it is gzip (a compressed rotated
// dead-letter file). It takes no lock: a collector appending to the file goes on.
func readMaybeGzipped(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return data, err
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer gz.Close()
	data, err = io.ReadAll(gz)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// classify tells a report, a dead-letter line and an OTLP traces document apart by their keys.
func classify(raw []byte) (valueKind, error) {
	if len(raw) == 0 || raw[0] != '{' {
		// Valid JSON but not an object: as a report, PCM would discard it (and say why).
		return kindReport, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return kindInvalid, fmt.Errorf("not valid JSON: %s", describeJSONError(err))
	}
	_, camel := keys["resourceSpans"]
	_, snake := keys["resource_spans"]
	_, report := keys["report"]
	switch {
	case camel || snake:
		return kindTraces, nil
	case report:
		return kindDeadLetter, nil
	}
	return kindReport, nil
}

// describeJSONError keeps encoding/json's message short and free of input excerpts.
func describeJSONError(err error) string {
	msg := err.Error()
	if !utf8.ValidString(msg) {
		msg = "malformed input"
	}
	return msg
}

// compact returns raw on one line (for -out files); raw is valid JSON.
func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
