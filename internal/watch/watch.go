// Package watch looks a sample of delivered private reports up at PCM after a delay and
// counts their reconciliation status (PAIRED, PAIRED_INCONSISTENT, UNPAIRED, SINGLE), so
// that a pairing rate below 95 % is visible the same day rather than in the regulator's
// ticket.
package watch // import "github.com/pcm-otel/pcmexporter/internal/watch"

import (
	"context"
	"hash/fnv"
	"sync"
	"time"
)

// Report is one delivered private report to look up.
type Report struct {
	InteractionID string
	Endpoint      string
	Method        string
}

// Lookup asks PCM for a report's status. notFound says PCM does not know it (yet).
type Lookup func(ctx context.Context, interactionID string) (status string, notFound bool, err error)

// Observe receives every outcome: a PCM status, NOT_FOUND after the last attempt, or ERROR.
type Observe func(r Report, status string)

// Config of a Watcher.
type Config struct {
	SampleRatio float64       // share of reports looked up, 0..1
	Delay       time.Duration // wait this long after delivery (PCM pairs asynchronously)
	Rate        float64       // lookups per second at most (PCM's rate limit is shared with reports)
	MaxPending  int           // reports waiting at most; beyond, new samples are dropped
	Attempts    int           // lookups of a report that stays NOT_FOUND (eventual consistency)
}

// Status values the watcher adds to PCM's own.
const (
	StatusNotFound = "NOT_FOUND"
	StatusError    = "ERROR"
)

type pending struct {
	Report
	due      time.Time
	attempts int
}

// Watcher keeps the sampled reports until they are due and looks them up at a bounded rate.
type Watcher struct {
	cfg     Config
	lookup  Lookup
	observe Observe
	now     func() time.Time

	mu    sync.Mutex
	queue []pending // ordered by due time: every report waits the same Delay
	wake  chan struct{}

	stop chan struct{}
	done chan struct{}
}

// New creates a watcher; Start runs it.
func New(cfg Config, lookup Lookup, observe Observe) *Watcher {
	if cfg.Attempts < 1 {
		cfg.Attempts = 1
	}
	return &Watcher{
		cfg: cfg, lookup: lookup, observe: observe, now: time.Now,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Sampled says whether an interaction id is in the sample. It hashes the id, so the same id
// is chosen however often it is seen (e.g. on a retried push).
func (w *Watcher) Sampled(interactionID string) bool {
	if interactionID == "" || w.cfg.SampleRatio <= 0 {
		return false
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(interactionID))
	return float64(h.Sum32()) < w.cfg.SampleRatio*float64(1<<32)
}

// Add queues the sampled reports among rs; it never blocks the caller.
func (w *Watcher) Add(rs ...Report) {
	due := w.now().Add(w.cfg.Delay)
	w.mu.Lock()
	for _, r := range rs {
		if len(w.queue) >= w.cfg.MaxPending || !w.Sampled(r.InteractionID) {
			continue
		}
		w.queue = append(w.queue, pending{Report: r, due: due})
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Pending is how many reports wait to be looked up.
func (w *Watcher) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Start runs the lookups until Stop.
func (w *Watcher) Start() {
	go w.run()
}

// Stop ends the lookups and waits for the running one; reports still waiting are dropped
// (the watch is a sample, not a delivery guarantee).
func (w *Watcher) Stop() {
	close(w.stop)
	<-w.done
}

func (w *Watcher) run() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-w.stop; cancel() }()

	interval := time.Duration(float64(time.Second) / w.cfg.Rate)
	next := w.now()
	for {
		// Wait for the rate limit first, then for a due report: a popped report is never dropped.
		p, wait, ok := pending{}, next.Sub(w.now()), false
		if wait <= 0 {
			p, wait, ok = w.due()
		}
		if !ok {
			timer := time.NewTimer(wait)
			select {
			case <-w.stop:
				timer.Stop()
				return
			case <-w.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		next = w.now().Add(interval)
		status, notFound, err := w.lookup(ctx, p.InteractionID)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.observe(p.Report, StatusError)
		case notFound && p.attempts+1 < w.cfg.Attempts:
			p.attempts++
			p.due = w.now().Add(w.cfg.Delay)
			w.requeue(p)
		case notFound:
			w.observe(p.Report, StatusNotFound)
		default:
			w.observe(p.Report, status)
		}
	}
}

// due pops the first report if it is due, else says how long to wait (an hour when empty:
// Add wakes the loop).
func (w *Watcher) due() (pending, time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return pending{}, time.Hour, false
	}
	if wait := w.queue[0].due.Sub(w.now()); wait > 0 {
		return pending{}, wait, false
	}
	p := w.queue[0]
	w.queue[0] = pending{}
	w.queue = w.queue[1:]
	return p, 0, true
}

// requeue puts a report back at its place in due order.
func (w *Watcher) requeue(p pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := len(w.queue)
	for i > 0 && w.queue[i-1].due.After(p.due) {
		i--
	}
	w.queue = append(w.queue, pending{})
	copy(w.queue[i+1:], w.queue[i:])
	w.queue[i] = p
}
