package pcmapi

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Report statuses of PCM's per-item answer and report model: the 6-value ReportStatus enum
// (docs/pcm-rules.md §4.3, §10). A POST's answer documents ACCEPTED and DISCARDED; older specs
// and the mock answer lifecycle values (PAIRED, SINGLE, …), which count as accepted
// (docs/pcm-rules.md Decision 6).
const (
	StatusAccepted           = "ACCEPTED"
	StatusDiscarded          = "DISCARDED"
	StatusPaired             = "PAIRED"
	StatusPairedInconsistent = "PAIRED_INCONSISTENT"
	StatusUnpaired           = "UNPAIRED"
	StatusSingle             = "SINGLE"
)

// IsKnownStatus reports whether s (trimmed, case-sensitive) is one of PCM's documented report
// statuses. Anything else is not PCM's word about a report: a metric label should fold it into
// "other", and a per-item answer carrying it confirms nothing (see ItemResult.Confirmed).
func IsKnownStatus(s string) bool {
	switch strings.TrimSpace(s) {
	case StatusAccepted, StatusDiscarded, StatusPaired, StatusPairedInconsistent, StatusUnpaired, StatusSingle:
		return true
	}
	return false
}

// maxMessageRunes bounds every text taken from PCM or from whatever answered in its place: PCM's
// GenericError and ReportResponse messages are ≤ 200 characters, and a longer text is a proxy's
// page, not PCM's word.
const maxMessageRunes = 200

// ItemResult is PCM's answer for one report, in request order. Every text field is sanitised
// (no control characters, valid UTF-8, at most 200 runes) and redacted of the bearer token, so
// it is safe for logs, the dead letter and a terminal.
type ItemResult struct {
	ReportID      string
	Status        string // trimmed ("PAIRED " → "PAIRED"); "" when PCM gave none
	CorrelationID string
	Message       string // PCM's reason for DISCARDED
}

// Confirmed reports whether PCM's answer says what became of the report: its status is one of
// PCM's documented statuses ([IsKnownStatus]). An unconfirmed item (no status, or a value PCM
// does not document) is not delivered as far as anyone can tell: the caller retries it and never
// counts it as accepted.
func (r ItemResult) Confirmed() bool { return IsKnownStatus(r.Status) }

// Discarded reports whether PCM rejected the report (confirmed, never resent as it is).
func (r ItemResult) Discarded() bool { return r.Status == StatusDiscarded }

// Accepted reports whether PCM took the report: a confirmed status other than DISCARDED.
func (r ItemResult) Accepted() bool { return r.Confirmed() && !r.Discarded() }

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

// cleanText makes a text from a server fit for logs, the dead letter and a terminal.
func cleanText(s, token string) string {
	if plainText(s) && (token == "" || !strings.Contains(s, token)) {
		return s // what PCM sends nearly always: nothing to clean, no copy
	}
	return sanitize(redact(s, token), maxMessageRunes)
}

// plainText reports whether sanitize would return s as it is: printable ASCII, single spaces
// between words, within the length limit.
func plainText(s string) bool {
	if len(s) > maxMessageRunes || (len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ')) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || (c == ' ' && s[i+1] == ' ') {
			return false
		}
	}
	return true
}

// errorMessage extracts a short, printable reason from an error body: its error fields (see
// errorFields), else an excerpt of the body itself, redacted of token.
func errorMessage(body []byte, token string) string {
	msg := errorFields(body)
	if msg == "" {
		msg = string(body)
	}
	return cleanText(msg, token)
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

// sanitize makes s safe for a one-line log and a terminal: invalid UTF-8, control characters
// (ANSI escapes lose their ESC) and format characters (bidirectional overrides) become spaces, runs of white space collapse, and the result is cut to at most limit runes (the last
// one an ellipsis when something was cut).
func sanitize(s string, limit int) string {
	clean := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
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
