package deadletter

import (
	"time"

	"go.uber.org/zap"
)

// Defaults of Options: a flood of dead letters fills at most
// DefaultMaxSizeMB × (DefaultMaxBackups + 1) = 1.1 GB of disk.
const (
	DefaultMaxSizeMB     = 100
	DefaultMaxBackups    = 10
	DefaultBufferEntries = 10_000
	DefaultBufferBytes   = 32 << 20
	DefaultRetryInterval = 5 * time.Second
)

const megabyte = 1 << 20 // the rotation library's unit

// Options configures a Writer. A zero field takes its default.
type Options struct {
	// MaxSizeMB: the live file is rotated before a write would take it past this size.
	MaxSizeMB int
	// MaxBackups is how many rotated files are kept; the oldest are removed (at every
	// rotation, before the write returns). At least 1: the rotation library keeps every
	// rotated file when told 0.
	MaxBackups int
	// MaxAge removes rotated files older than this, in whole days rounded up; 0 keeps them
	// (MaxBackups still bounds them).
	MaxAge time.Duration
	// Compress gzips the rotated files (in the rotation library's background goroutine).
	Compress bool
	// BufferEntries and BufferBytes bound the entries kept in memory while the file cannot be
	// written.
	BufferEntries int
	BufferBytes   int
	// RetryInterval is how often the buffered entries are retried when no Write comes.
	RetryInterval time.Duration
	// Logger gets the notices: a file mode tightened to 0600, a failing or recovered file.
	Logger *zap.Logger

	// Test seams: retryTick replaces the retry ticker, afterRetry is called after each retry.
	retryTick  <-chan time.Time
	afterRetry func()
}

func (o Options) withDefaults() Options {
	setDefault(&o.MaxSizeMB, DefaultMaxSizeMB)
	setDefault(&o.MaxBackups, DefaultMaxBackups)
	setDefault(&o.BufferEntries, DefaultBufferEntries)
	setDefault(&o.BufferBytes, DefaultBufferBytes)
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.MaxAge < 0 {
		o.MaxAge = 0
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

func setDefault(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// maxAgeDays is MaxAge in the rotation library's unit, whole days rounded up.
func (o Options) maxAgeDays() int {
	const day = 24 * time.Hour
	return int((o.MaxAge + day - 1) / day)
}

// Stats are the Writer's counters, for metrics.
type Stats struct {
	Buffered      int   // entries waiting in the retry buffer now
	BufferedBytes int   // their size
	Failed        int64 // entries whose write failed (each counted once, when it first failed)
	Recovered     int64 // entries written from the retry buffer after a failure
	Lost          int64 // entries handed back in an OverflowError
}
