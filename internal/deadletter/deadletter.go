// Package deadletter appends the reports PCM will never accept as they are to a JSON Lines
// file, with the reason and the time, so that nothing is lost silently and an operator can
// fix and resend them.
package deadletter // import "github.com/pcm-otel/pcmexporter/internal/deadletter"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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

// Writer appends entries to one file. It is safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	file *os.File
	buf  []byte
}

// Open opens (or creates) the file for appending, creating its directory if needed.
func Open(path string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating dead-letter directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening dead-letter file: %w", err)
	}
	return &Writer{file: f}, nil
}

// Write appends the entries in one write and syncs the file, so that a crash right after
// does not lose them.
func (w *Writer) Write(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = w.buf[:0]
	for i := range entries {
		line, err := json.Marshal(&entries[i])
		if err != nil {
			// Only an invalid Report (not JSON) can get here; keep the line with the report quoted.
			entries[i].Report, _ = json.Marshal(string(entries[i].Report))
			if line, err = json.Marshal(&entries[i]); err != nil {
				return fmt.Errorf("encoding dead-letter entry: %w", err)
			}
		}
		w.buf = append(append(w.buf, line...), '\n')
	}
	if _, err := w.file.Write(w.buf); err != nil {
		return fmt.Errorf("writing dead-letter file: %w", err)
	}
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("syncing dead-letter file: %w", err)
	}
	return nil
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.file.Close()
}

// Read parses a dead-letter file (for tests and tools).
func Read(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var e Entry
		if err := dec.Decode(&e); err != nil {
			return entries, fmt.Errorf("line %d: %w", len(entries)+1, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}
