// Package deadletter appends the reports PCM will never accept as they are to a JSON Lines
// file, with the reason and the time, so that nothing is lost silently and an operator can
// fix and resend them. The file is size-capped and rotated (a flood of unlisted paths cannot
// fill the disk), readable by its owner only (it holds client IPs), and a write that fails is
// retried from a bounded buffer instead of losing the entries.
package deadletter // import "github.com/pcm-otel/pcmexporter/internal/deadletter"

import (
	"encoding/json"
	"time"
)

// Stage says where a report was stopped.
type Stage string

const (
	// StageUnlisted: the span called an Open Finance path the endpoint catalog does not list.
	StageUnlisted Stage = "unlisted_endpoint"
	// StageInvalid: local validation found a problem PCM would discard the report for.
	StageInvalid Stage = "invalid"
	// StageDiscarded: PCM answered DISCARDED for this item.
	StageDiscarded Stage = "discarded"
	// StageRejected: PCM refused the whole request with a permanent error (400, 403, 406, 415).
	StageRejected Stage = "rejected"
)

// Entry is one line of the dead-letter file.
type Entry struct {
	Time     time.Time       `json:"time"`
	Stage    Stage           `json:"stage"`
	Reason   string          `json:"reason"`
	API      string          `json:"api"`
	ReportID string          `json:"reportId,omitempty"` // PCM's id, for DISCARDED items
	TraceID  string          `json:"traceId,omitempty"`
	SpanID   string          `json:"spanId,omitempty"`
	Report   json.RawMessage `json:"report"`
}
