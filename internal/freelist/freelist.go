// Package freelist keeps a few large reusable buffers across garbage collections, which
// sync.Pool does not: at full load the collector collects garbage several times a second, and
// a pool emptied by every collection makes each POST allocate (and the kernel fault in) its
// multi-megabyte buffers anew.
package freelist // import "github.com/pcm-otel/pcmexporter/internal/freelist"

// List holds at most its capacity of free values; what does not fit is left to the garbage
// collector. Safe for concurrent use.
type List[T any] struct {
	free chan T
}

// New returns a list that keeps at most n free values.
func New[T any](n int) *List[T] {
	return &List[T]{free: make(chan T, n)}
}

// Get returns a free value, or newValue() when there is none.
func (l *List[T]) Get(newValue func() T) T {
	select {
	case v := <-l.free:
		return v
	default:
		return newValue()
	}
}

// Put keeps v for a later Get if there is room.
func (l *List[T]) Put(v T) {
	select {
	case l.free <- v:
	default:
	}
}
