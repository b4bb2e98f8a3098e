package watch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recorder struct {
	mu       sync.Mutex
	seen     map[string]string
	lookups  map[string]int
	lookupAt []time.Time
}

func newRecorder() *recorder {
	return &recorder{seen: map[string]string{}, lookups: map[string]int{}}
}

func (r *recorder) observe(rep Report, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[rep.InteractionID] = status
}

func (r *recorder) results() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.seen {
		out[k] = v
	}
	return out
}

func TestLooksUpAfterTheDelayAndCountsEveryOutcome(t *testing.T) {
	rec := newRecorder()
	lookup := func(_ context.Context, id string) (string, bool, error) {
		rec.mu.Lock()
		rec.lookups[id]++
		n := rec.lookups[id]
		rec.lookupAt = append(rec.lookupAt, time.Now())
		rec.mu.Unlock()
		switch id {
		case "late":
			return "PAIRED", n < 2, nil // PCM knows it at the second look
		case "never":
			return "", true, nil
		case "broken":
			return "", false, errors.New("connection refused")
		}
		return "PAIRED_INCONSISTENT", false, nil
	}
	w := New(Config{SampleRatio: 1, Delay: 30 * time.Millisecond, Rate: 1000, MaxPending: 100, Attempts: 3}, lookup, rec.observe)
	w.Start()
	defer w.Stop()
	added := time.Now()
	w.Add(Report{InteractionID: "a"}, Report{InteractionID: "late"}, Report{InteractionID: "never"}, Report{InteractionID: "broken"})

	require.Eventually(t, func() bool { return len(rec.results()) == 4 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, map[string]string{
		"a": "PAIRED_INCONSISTENT", "late": "PAIRED", "never": StatusNotFound, "broken": StatusError,
	}, rec.results())
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, 2, rec.lookups["late"])
	assert.Equal(t, 3, rec.lookups["never"], "Attempts bounds the lookups of an unknown id")
	assert.False(t, rec.lookupAt[0].Before(added.Add(30*time.Millisecond)), "nothing is looked up before the delay")
}

func TestRateLimitSpacesLookups(t *testing.T) {
	rec := newRecorder()
	lookup := func(context.Context, string) (string, bool, error) {
		rec.mu.Lock()
		rec.lookupAt = append(rec.lookupAt, time.Now())
		rec.mu.Unlock()
		return "PAIRED", false, nil
	}
	w := New(Config{SampleRatio: 1, Rate: 50, MaxPending: 100}, lookup, rec.observe)
	w.Start()
	defer w.Stop()
	for i := 0; i < 6; i++ {
		w.Add(Report{InteractionID: fmt.Sprint(i)})
	}
	require.Eventually(t, func() bool { return len(rec.results()) == 6 }, 5*time.Second, 5*time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := 1; i < len(rec.lookupAt); i++ {
		assert.GreaterOrEqual(t, rec.lookupAt[i].Sub(rec.lookupAt[i-1]), 19*time.Millisecond, "at most 50 lookups a second")
	}
}

func TestSamplingIsStableAndNearTheRatio(t *testing.T) {
	w := New(Config{SampleRatio: 0.1, MaxPending: 1}, nil, nil)
	n := 0
	for i := 0; i < 20000; i++ {
		id := fmt.Sprintf("6f1c2a9e-0000-4000-8000-%012d", i)
		if w.Sampled(id) {
			n++
		}
		assert.Equal(t, w.Sampled(id), w.Sampled(id))
	}
	assert.InDelta(t, 2000, n, 300)
	assert.False(t, w.Sampled(""), "reports without an id cannot be looked up")
	assert.False(t, New(Config{SampleRatio: 0}, nil, nil).Sampled("x"))
}

func TestMaxPendingDropsNewSamples(t *testing.T) {
	w := New(Config{SampleRatio: 1, Delay: time.Hour, Rate: 1, MaxPending: 2}, nil, nil)
	w.Add(Report{InteractionID: "1"}, Report{InteractionID: "2"}, Report{InteractionID: "3"})
	assert.Equal(t, 2, w.Pending())
}

func TestStopEndsAWaitingWatcher(t *testing.T) {
	w := New(Config{SampleRatio: 1, Delay: time.Hour, Rate: 1, MaxPending: 10}, nil, nil)
	w.Start()
	w.Add(Report{InteractionID: "x"})
	done := make(chan struct{})
	go func() { w.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
}
