package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

// DefaultDeadLetterConfig: 100 MB files, 10 rotated files kept, so at most 1.1 GB of disk;
// no age limit, no compression.
func DefaultDeadLetterConfig() DeadLetterConfig {
	return DeadLetterConfig{MaxSizeMB: deadletter.DefaultMaxSizeMB, MaxBackups: deadletter.DefaultMaxBackups}
}

// validate asks the dead-letter writer about the rotation settings, each error naming its key.
func (c DeadLetterConfig) validate() []error {
	var errs []error
	for _, p := range c.WriterOptions(nil).Check() {
		errs = append(errs, fmt.Errorf("dead_letter.%s: %s", p.Key, p.Message))
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
