package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import "sync"

// retryRegistry remembers the batches handed back to exporterhelper for retry while the
// sending queue lives in memory. exporterhelper drops such a request without calling the
// exporter again when the collector stops during the wait (and a persistent queue is not
// there to keep it), so whatever is still registered at shutdown is dead-lettered instead of
// vanishing (docs/pcm-rules.md §15.3). The retry sender resends the very batch push returned
// (reportBatch.OnError), so the next push of it finds it here.
type retryRegistry struct {
	enabled bool
	mu      sync.Mutex
	held    map[*reportBatch]struct{}
}

func newRetryRegistry(enabled bool) *retryRegistry {
	return &retryRegistry{enabled: enabled, held: map[*reportBatch]struct{}{}}
}

// remember registers a batch handed back for retry.
func (r *retryRegistry) remember(b *reportBatch) {
	if !r.enabled {
		return
	}
	r.mu.Lock()
	r.held[b] = struct{}{}
	r.mu.Unlock()
}

// forget unregisters b: it is being pushed again.
func (r *retryRegistry) forget(b *reportBatch) {
	if !r.enabled {
		return
	}
	r.mu.Lock()
	delete(r.held, b)
	r.mu.Unlock()
}

// drain returns and forgets everything registered.
func (r *retryRegistry) drain() []*reportBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*reportBatch, 0, len(r.held))
	for b := range r.held {
		out = append(out, b)
	}
	clear(r.held)
	return out
}
