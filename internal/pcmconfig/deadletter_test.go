package pcmconfig

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

// TestDeadLetterConfigValidateAgreesWithTheWriter: what Validate accepts opens a writer with
// exactly these settings; what it refuses names the key.
func TestDeadLetterConfigValidateAgreesWithTheWriter(t *testing.T) {
	tests := []struct {
		name    string
		cfg     DeadLetterConfig
		wantErr []string
	}{
		{name: "defaults", cfg: DefaultDeadLetterConfig()},
		{name: "one small file and one backup", cfg: DeadLetterConfig{MaxSizeMB: 1, MaxBackups: 1}},
		{name: "a week, compressed", cfg: DeadLetterConfig{MaxSizeMB: 10, MaxBackups: 5, MaxAge: 7 * 24 * time.Hour, Compress: true}},
		{name: "negative size", cfg: DeadLetterConfig{MaxSizeMB: -1, MaxBackups: 1},
			wantErr: []string{"dead_letter.max_size_mb: must be > 0, got -1"}},
		{name: "no backups would keep them all", cfg: DeadLetterConfig{MaxSizeMB: 1, MaxBackups: 0},
			wantErr: []string{"dead_letter.max_backups: must be at least 1, got 0"}},
		{name: "negative age", cfg: DeadLetterConfig{MaxSizeMB: 1, MaxBackups: 1, MaxAge: -24 * time.Hour},
			wantErr: []string{"dead_letter.max_age: must not be negative, got -24h0m0s"}},
		{name: "part of a day", cfg: DeadLetterConfig{MaxSizeMB: 1, MaxBackups: 1, MaxAge: time.Hour},
			wantErr: []string{"dead_letter.max_age: must be a whole number of days (24h, 168h, 720h), or 0 to keep them; got 1h0m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.cfg.validate()
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
			}
			assert.Equal(t, tt.wantErr, got)
			if len(errs) > 0 {
				return
			}
			path := filepath.Join(t.TempDir(), "dead.jsonl")
			w, err := deadletter.OpenWithOptions(path, tt.cfg.WriterOptions(nil))
			require.NoError(t, err)
			require.NoError(t, w.Write([]deadletter.Entry{{Stage: deadletter.StageInvalid, Report: []byte(`{}`)}}))
			require.NoError(t, w.Close())
			got2, err := deadletter.ReadAll(path)
			require.NoError(t, err)
			assert.Len(t, got2, 1)
		})
	}
}
