package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

const day = 24 * time.Hour

// DefaultDeadLetterConfig: 100 MB files, 10 rotated files kept, so at most 1.1 GB of disk;
// no age limit, no compression.
func DefaultDeadLetterConfig() DeadLetterConfig {
	return DeadLetterConfig{MaxSizeMB: deadletter.DefaultMaxSizeMB, MaxBackups: deadletter.DefaultMaxBackups}
}

// validate checks the rotation settings, each error naming its key.
func (c DeadLetterConfig) validate() []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("dead_letter.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.MaxSizeMB <= 0 {
		add("max_size_mb", "must be > 0, got %d", c.MaxSizeMB)
	}
	if c.MaxBackups < 1 {
		// The rotation library reads 0 as "keep every rotated file": no bound on the disk.
		add("max_backups", "must be at least 1, got %d", c.MaxBackups)
	}
	switch {
	case c.MaxAge < 0:
		add("max_age", "must not be negative, got %s", c.MaxAge)
	case c.MaxAge%day != 0:
		// Rotated files are removed by whole days of age.
		add("max_age", "must be a whole number of days (24h, 168h, 720h), or 0 to keep them; got %s", c.MaxAge)
	}
	return errs
}

// WriterOptions are the dead-letter writer's options for this configuration.
func (c DeadLetterConfig) WriterOptions(logger *zap.Logger) deadletter.Options {
	return deadletter.Options{
		MaxSizeMB:  c.MaxSizeMB,
		MaxBackups: c.MaxBackups,
		MaxAge:     c.MaxAge,
		Compress:   c.Compress,
		Logger:     logger,
	}
}
