package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"sync"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// retryRegistry remembers the spans handed back to exporterhelper for retry while the sending
// queue lives in memory. exporterhelper drops such a request without calling the exporter
// again when the collector stops during the wait (and a persistent queue is not there to keep
// it), so whatever is still registered at shutdown is dead-lettered instead of vanishing
// (docs/pcm-rules.md §15.3). It holds references to data exporterhelper holds anyway.
type retryRegistry struct {
	enabled bool
	mu      sync.Mutex
	held    map[ptrace.Traces]struct{}
}

func newRetryRegistry(enabled bool) *retryRegistry {
	return &retryRegistry{enabled: enabled, held: map[ptrace.Traces]struct{}{}}
}

// remember registers spans handed back for retry. exporterhelper retries with the very
// Traces the exporter returned, so the next push of td finds it.
func (r *retryRegistry) remember(td ptrace.Traces) {
	if !r.enabled {
		return
	}
	r.mu.Lock()
	r.held[td] = struct{}{}
	r.mu.Unlock()
}

// forget unregisters td: it is being pushed again.
func (r *retryRegistry) forget(td ptrace.Traces) {
	if !r.enabled {
		return
	}
	r.mu.Lock()
	delete(r.held, td)
	r.mu.Unlock()
}

// drain returns and forgets everything registered.
func (r *retryRegistry) drain() []ptrace.Traces {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ptrace.Traces, 0, len(r.held))
	for td := range r.held {
		out = append(out, td)
	}
	clear(r.held)
	return out
}
