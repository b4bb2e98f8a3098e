package watch

import (
	"fmt"
)

// Bounds of Config.Rate: the watcher waits 1s/Rate between lookups.
const (
	MinRate = 0.001 // one lookup every ~17 minutes; far smaller rates overflow the wait
	MaxRate = 300   // PCM's rate limit, shared with the reports
)

// Problem is a setting the watcher cannot run with; Key is its reconciliation_watch key.
type Problem struct {
	Key, Message string
}

// Check returns every setting the watcher cannot run with. The exporter's configuration
// asks it, so that the rule lives where it is applied.
func (c Config) Check() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if !(c.SampleRatio > 0 && c.SampleRatio <= 1) { // written so that NaN fails too
		add("sample_ratio", "must be in (0, 1], got %v", c.SampleRatio)
	}
	if c.Delay < 0 {
		add("delay", "must not be negative, got %s", c.Delay)
	}
	// +Inf or NaN would not wait at all, a tiny rate overflows the wait.
	if !(c.Rate >= MinRate && c.Rate <= MaxRate) {
		add("rate_limit", "must be between %v and %v lookups per second, got %v", MinRate, MaxRate, c.Rate)
	}
	if c.MaxPending < 1 {
		add("max_pending", "must be at least 1, got %d", c.MaxPending)
	}
	if c.Attempts < 1 {
		add("attempts", "must be at least 1, got %d", c.Attempts)
	}
	return ps
}
