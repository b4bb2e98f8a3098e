package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"strings"

	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/internal/watch"
)

// pcmErrorTypes are the error types of PCM's messages, "<type>: <detail>" (docs/pcm-rules.md
// §4.3). They are the values of the rejected-reports metric's reason label, with "other" for
// anything else, so that free text never becomes a metric attribute.
var pcmErrorTypes = []string{
	"Missing property", "Invalid field value", "Unlisted endpoint", "Invalid payload format",
	"Requester id mismatch", "Field type mismatch", "Additional property not allowed",
	"Report is too old", "OrganisationId doesn't exist on Directory",
}

// pcmWordings maps the other wordings PCM's documents and answers use to their error type
// (docs/pcm-rules.md §4.3: the spec examples "Missing fields: 'fapiInteractionId'",
// "fapiInteractionId must be a UUID", "invalid format: consentId: String must contain at least
// 1 character(s)"). Matched in order on the lower-cased first error of the message.
var pcmWordings = []struct{ contains, errorType string }{
	{"missing field", "Missing property"},
	{"missing propert", "Missing property"},
	{"is required", "Missing property"},
	{"requester id mismatch", "Requester id mismatch"},
	{"too old", "Report is too old"},
	{"doesn't exist on directory", "OrganisationId doesn't exist on Directory"},
	{"does not exist on directory", "OrganisationId doesn't exist on Directory"},
	{"unlisted endpoint", "Unlisted endpoint"},
	{"additional propert", "Additional property not allowed"},
	{"type mismatch", "Field type mismatch"},
	{"must be an array", "Invalid payload format"},
	{"invalid payload", "Invalid payload format"},
	{"invalid format", "Invalid field value"},
	{"invalid field", "Invalid field value"},
	{"must be", "Invalid field value"},
	{"must contain", "Invalid field value"},
}

// errorType is the PCM error type of a message: the documented "<type>: …" prefix, else the
// type a known wording stands for, else "other". PCM joins several errors with ";": the first
// one names the type.
func errorType(message string) string {
	first, _, _ := strings.Cut(message, ";")
	first = strings.TrimSpace(first)
	for _, t := range pcmErrorTypes {
		if len(first) >= len(t) && strings.EqualFold(first[:len(t)], t) {
			return t
		}
	}
	lower := strings.ToLower(first)
	for _, w := range pcmWordings {
		if strings.Contains(lower, w.contains) {
			return w.errorType
		}
	}
	return "other"
}

// reconciliationStatus bounds the status label of the reconciliation metric: a status PCM
// documents (docs/pcm-rules.md §4.3, §9) or the watch's own NOT_FOUND and ERROR, trimmed and in
// upper case; anything else is "other".
func reconciliationStatus(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if pcmapi.IsKnownStatus(s) || s == watch.StatusNotFound || s == watch.StatusError {
		return s
	}
	return "other"
}
