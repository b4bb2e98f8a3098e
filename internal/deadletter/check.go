package deadletter

import (
	"fmt"
	"time"
)

// Problem is a setting a Writer cannot honour as written; Key is its dead_letter key.
type Problem struct {
	Key, Message string
}

// Check returns the rotation settings a Writer cannot honour as written. Unlike the Writer,
// which reads a zero as its default, it refuses them: a configuration says what it means.
// The exporter's configuration asks it, so that the rule lives where it is applied.
func (o Options) Check() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if o.MaxSizeMB <= 0 {
		add("max_size_mb", "must be > 0, got %d", o.MaxSizeMB)
	}
	if o.MaxBackups < 1 {
		// The rotation library reads 0 as "keep every rotated file": no bound on the disk.
		add("max_backups", "must be at least 1, got %d", o.MaxBackups)
	}
	const day = 24 * time.Hour
	switch {
	case o.MaxAge < 0:
		add("max_age", "must not be negative, got %s", o.MaxAge)
	case o.MaxAge%day != 0:
		// Rotated files are removed by whole days of age.
		add("max_age", "must be a whole number of days (24h, 168h, 720h), or 0 to keep them; got %s", o.MaxAge)
	}
	return ps
}
