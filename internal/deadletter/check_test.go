package deadletter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCheckRefusesWhatTheWriterWouldReadAsADefaultOrRound(t *testing.T) {
	assert.Empty(t, Options{MaxSizeMB: 1, MaxBackups: 1, MaxAge: 48 * time.Hour}.Check())
	var keys []string
	for _, p := range (Options{MaxAge: 36 * time.Hour}).Check() {
		keys = append(keys, p.Key)
	}
	assert.Equal(t, []string{"max_size_mb", "max_backups", "max_age"}, keys)
}
