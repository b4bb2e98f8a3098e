package pcmexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestDeadLetterRotationConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, DeadLetterConfig{MaxSizeMB: 100, MaxBackups: 10}, cfg.DeadLetter, "defaults: at most 1.1 GB on disk")

	cfg, err = loadConfig(t, "dead_letter_rotation")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, DeadLetterConfig{
		Path: "/var/lib/otelcol/pcm-dead-letter.jsonl", MaxSizeMB: 20, MaxBackups: 3, MaxAge: 30 * 24 * time.Hour, Compress: true,
	}, cfg.DeadLetter)

	cfg, err = loadConfig(t, "bad_dead_letter")
	require.NoError(t, err)
	assert.EqualError(t, confmap.Validate(cfg), `dead_letter.max_size_mb: must be > 0, got 0
dead_letter.max_backups: must be at least 1, got 0
dead_letter.max_age: must be a whole number of days (24h, 168h, 720h), or 0 to keep them; got 36h0m0s`)
}
