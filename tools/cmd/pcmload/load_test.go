package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSchedule(t *testing.T) {
	t0 := time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)
	s := newSchedule(t0, 75_000, 15*time.Second, 500)
	require.EqualValues(t, 2250, s.count) // 75,000 spans/s × 15 s / 500 spans
	require.Equal(t, t0, s.at(0))
	require.Equal(t, t0.Add(15*time.Second), s.at(s.count)) // the first request of the next step
	require.Equal(t, t0.Add(15*time.Second), s.end())
	// Evenly spaced: 150 requests per second, one every 6.67 ms, never drifting.
	for i := int64(1); i < s.count; i++ {
		gap := s.at(i).Sub(s.at(i - 1))
		require.InDelta(t, float64(time.Second)/150, float64(gap), 1, "gap before request %d", i)
	}
	require.Equal(t, t0.Add(10*time.Second), s.at(1500))

	require.EqualValues(t, 300, newSchedule(t0, 10_000, 15*time.Second, 500).count)
	require.EqualValues(t, 1, newSchedule(t0, 1, time.Second, 500).count) // at least one request
	require.EqualValues(t, 3, newSchedule(t0, 1000, 1500*time.Millisecond, 500).count)
}

// TestGeneratorIsOpenLoop: requests go out at the planned times, spread over the step, even
// when the receiver is slow (several senders), and each carries new interaction ids.
func TestGeneratorIsOpenLoop(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Duration
	var bodies [][]byte
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		arrivals = append(arrivals, time.Since(start))
		bodies = append(bodies, body)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond) // slower than the 25 ms between requests
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	pool, err := buildPayloads(8, 10, time.Now(), 1)
	require.NoError(t, err)
	g := newGenerator(srv.URL, pool, 4)
	defer g.close()
	start = time.Now()
	res := g.run(context.Background(), 400, 500*time.Millisecond) // 400 spans/s in requests of 10: 20 requests

	require.Equal(t, loadResult{TargetSpans: 200, SentSpans: 200, OKSpans: 200}, res)
	// Every request went out (one more than a second behind the schedule would have been
	// dropped), and none before its planned time: the k-th arrival is no earlier than the k-th
	// planned send, 25 ms apart. Only lower bounds on time: a loaded machine cannot break them.
	require.Len(t, arrivals, 20)
	slices.Sort(arrivals)
	for k, at := range arrivals {
		require.GreaterOrEqual(t, at, time.Duration(k)*25*time.Millisecond, "request %d sent before its time (a burst): %v", k, arrivals)
	}

	seen := map[string]bool{}
	for _, b := range bodies {
		for _, id := range interactionIDs(t, b) {
			require.False(t, seen[id], "interaction id %s sent twice", id)
			seen[id] = true
		}
	}
	require.Len(t, seen, 200)
}

func TestGeneratorCountsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "queue is full", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	pool, err := buildPayloads(2, 5, time.Now(), 2)
	require.NoError(t, err)
	g := newGenerator(srv.URL, pool, 1)
	defer g.close()
	res := g.run(context.Background(), 100, 100*time.Millisecond)
	require.EqualValues(t, 10, res.SentSpans)
	require.EqualValues(t, 10, res.RefusedSpans)
	require.Zero(t, res.OKSpans)
	require.Equal(t, "Service Unavailable", res.LastStatus)
}
