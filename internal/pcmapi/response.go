package pcmapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Report statuses of PCM's per-item answer. PCM documents ACCEPTED and DISCARDED; older specs
// and the mock return lifecycle values (PAIRED, SINGLE, …), which count as accepted
// (PCM-REFERENCE §14 decision 6).
const (
	StatusAccepted  = "ACCEPTED"
	StatusDiscarded = "DISCARDED"
	// StatusUnknown marks an item PCM took (2xx) without a readable per-item answer for it:
	// the answer had fewer entries than the request or could not be parsed. It counts as
	// accepted, because resending would duplicate a report PCM most likely has; the item's
	// Message says why it is unknown.
	StatusUnknown = "UNKNOWN"
)

// maxMessageRunes bounds Message of a StatusError: PCM's GenericError message is ≤ 200
// characters, and a longer body is a proxy's page, not PCM's word.
const maxMessageRunes = 200

// ItemResult is PCM's answer for one report, in request order.
type ItemResult struct {
	ReportID      string
	Status        string // trimmed ("PAIRED " → "PAIRED"); StatusUnknown when PCM gave none
	CorrelationID string
	Message       string // PCM's reason for DISCARDED, or why the status is unknown
}

// Discarded reports whether PCM rejected the report. Any other status, known or not, counts as
// accepted: failing on a status value PCM adds later would resend accepted reports.
func (r ItemResult) Discarded() bool { return r.Status == StatusDiscarded }

// reportResponse is PCM's ReportResponse. Fields are lenient so that one odd value (a number
// where a string is documented) does not make the whole answer unreadable.
type reportResponse struct {
	ReportID      lenientString `json:"reportId"`
	Status        lenientString `json:"status"`
	CorrelationID lenientString `json:"correlationId"`
	Message       lenientString `json:"message"`
}

// lenientString accepts a JSON string, null, or any other value as its raw text.
type lenientString string

func (s *lenientString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = lenientString(v)
		return nil
	}
	if string(b) != "null" {
		*s = lenientString(b)
	}
	return nil
}

// parseResults decodes body as a JSON array of ReportResponse objects. ok is false when the
// body is anything else. Messages are redacted of the token the request carried.
func parseResults(body []byte, token string) (results []ItemResult, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return nil, false
	}
	var raw []reportResponse
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, false
	}
	results = make([]ItemResult, len(raw))
	for i, r := range raw {
		status := strings.TrimSpace(string(r.Status))
		if status == "" {
			status = StatusUnknown
		}
		results[i] = ItemResult{
			ReportID:      string(r.ReportID),
			Status:        status,
			CorrelationID: string(r.CorrelationID),
			Message:       redact(string(r.Message), token),
		}
	}
	return results, true
}

// errorMessage extracts a short, printable reason from an error body: its error fields (see
// errorFields), else an excerpt of the body itself, redacted of token.
func errorMessage(body []byte, token string) string {
	msg := errorFields(body)
	if msg == "" {
		msg = string(body)
	}
	return sanitize(redact(msg, token), maxMessageRunes)
}

// errorFields joins the error fields of a JSON object body: PCM's statusCode and message
// (GenericError, and the token endpoint's error-under-200), OAuth2's error and
// error_description. It returns "" when there are none, and never other fields, so it is safe
// on a body that also holds a token.
func errorFields(body []byte) string {
	var f struct {
		StatusCode       lenientString `json:"statusCode"`
		Message          lenientString `json:"message"`
		Error            lenientString `json:"error"`
		ErrorDescription lenientString `json:"error_description"`
	}
	if json.Unmarshal(body, &f) != nil {
		return ""
	}
	status := ""
	if f.StatusCode != "" {
		status = "statusCode " + string(f.StatusCode)
	}
	return strings.Join(nonEmpty(status, string(f.Message), string(f.Error), string(f.ErrorDescription)), ": ")
}

func nonEmpty(values ...string) []string {
	out := values[:0]
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// redact replaces every occurrence of token in s: a server or proxy that echoes the request
// (some debug pages do) must not get the bearer token into our logs or dead-letter file.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[REDACTED]")
}

// sanitize makes s safe for a one-line log: invalid UTF-8 and control characters become
// spaces, runs of white space collapse, and the result is cut to at most limit runes (the last
// one an ellipsis when something was cut).
func sanitize(s string, limit int) string {
	clean := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	clean = strings.Join(strings.Fields(clean), " ")
	if utf8.RuneCountInString(clean) <= limit {
		return clean
	}
	runes := []rune(clean)
	return string(runes[:limit-1]) + "…"
}
