//go:build e2e

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKillNineWithReportsInFlight kills the collector with SIGKILL while PCM has stored the
// reports of the batches in flight but their answers have not reached the exporter (a proxy
// holds them back: the worst moment for a crash), and while the persistent sending queue holds
// spans that were never sent. After a restart on the same storage, every span the collector had
// accepted reaches PCM exactly once.
//
// The sending queue stores each OTLP request as one item and deletes it when every batch that
// carries a part of it is done, so a restart replays
//
//   - the batches whose answer the crash lost: their reports are marked "sending" in the
//     delivery record, and the restarted exporter asks PCM (GET by fapiInteractionId) before
//     sending them again;
//   - the parts of a request split across batches that PCM had already answered: they are
//     marked "delivered" and skipped.
func TestKillNineWithReportsInFlight(t *testing.T) {
	t.Run("requests aligned with batches", func(t *testing.T) {
		const spansPerPost = 5
		require.Zero(t, batchMaxSize%spansPerPost, "these OTLP requests must not straddle batches")
		c := killNineAndRestart(t, spansPerPost)
		assert.Zero(t, c.extra, "duplicates at PCM: %v", c.explain())
	})

	t.Run("requests straddling batches", func(t *testing.T) {
		// 24-span requests in 25-span batches: request and batch boundaries meet only every 600
		// spans, so the batch answered last before the crash almost surely shares a request
		// with the first batch in flight, and is replayed with it.
		const spansPerPost = 24
		c := killNineAndRestart(t, spansPerPost)
		assert.Zero(t, c.extra, "duplicates at PCM: %v", c.explain())
		assert.Positive(t, c.skipped, "the replayed parts PCM had already answered were skipped")
	})
}

// crash is what killNineAndRestart saw.
type crash struct {
	e       *env
	lost    map[string]bool // reports PCM stored whose answer the crash lost
	pending map[string]bool // accepted spans whose report had not reached PCM at the kill
	extra   int             // duplicate deliveries
	dupIDs  []string        // reports delivered more than once
	skipped float64         // reports the restarted exporter did not send again (already_delivered)
}

// explain says of each duplicate whether the crash lost its answer or it was replayed with an
// unfinished request.
func (c crash) explain() []string {
	var out []string
	for i, id := range c.dupIDs {
		if i == 10 {
			out = append(out, fmt.Sprintf("… and %d more", len(c.dupIDs)-i))
			break
		}
		why := "answered before the crash and replayed with its request"
		if c.lost[id] {
			why = "its answer was lost in the crash"
		}
		unfinished := 0
		for _, other := range c.e.send.sameRequest(id) {
			if c.lost[other] || c.pending[other] {
				unfinished++
			}
		}
		out = append(out, fmt.Sprintf("%s (%s; %d reports of its request unfinished at the kill)", id, why, unfinished))
	}
	return out
}

// killNineAndRestart runs the crash scenario with requests of spansPerPost spans and checks
// what holds for any request size.
func killNineAndRestart(t *testing.T, spansPerPost int) crash {
	e := newEnv(t, envConfig{Proxy: true})
	ctx := context.Background()

	// 1. Steady traffic (200 spans/s), delivered normally.
	e.send.startBackground(time.Duration(spansPerPost)*5*time.Millisecond, spansPerPost)
	e.waitFor(20*time.Second, "the first reports at the simulator", func() (bool, string) {
		n := len(e.reports())
		return n >= 4*batchMaxSize, fmt.Sprintf("%d reports", n)
	})

	// 2. PCM keeps its answers: every consumer ends up with a batch in flight (the most a crash
	// can catch) and the queue fills up behind them (the gauge counts the spans in flight too,
	// until they are done).
	e.proxy.Hold()
	e.waitFor(20*time.Second, "batches in flight and spans waiting in the persistent queue", func() (bool, string) {
		held, queued := e.proxy.Held(), metric(e.metrics(), mQueueSize)
		return held == numConsumers && queued >= inFlightBound+2*batchMaxSize,
			fmt.Sprintf("%d answers held, queue size %v", held, queued)
	})
	before := e.metrics()
	queuedAtKill := metric(before, mQueueSize)
	deliveredAtKill := e.delivered()
	acceptedAtKill := e.send.acceptedIDs()

	// 3. kill -9 while the traffic goes on.
	e.killCollector()
	e.send.stopBackground()
	// The held answers' connections died with the collector: each is a lost answer (released
	// only afterwards, so that none is mistaken for delivered).
	e.waitFor(30*time.Second, "the proxy to notice every lost answer", func() (bool, string) {
		return e.proxy.Held() == 0, fmt.Sprintf("%d answers still held", e.proxy.Held())
	})
	e.proxy.Release()
	lostIDs, lostPOSTs := e.proxy.Lost()
	c := crash{e: e, lost: map[string]bool{}, pending: map[string]bool{}}
	for _, id := range lostIDs {
		c.lost[id] = true
	}
	var pendingAtKill []string // accepted, not at PCM: only the persistent queue can still deliver them
	for _, id := range acceptedAtKill {
		if deliveredAtKill[id] == 0 {
			pendingAtKill = append(pendingAtKill, id)
			c.pending[id] = true
		}
	}
	posts, failedPosts, accepted, unconfirmed := e.send.counts()
	t.Logf("at the kill: queue size %v, %d accepted spans not at PCM; %d reports in %d POSTs stored by PCM with "+
		"their answer lost; sender: %d POSTs (%d failed), %d spans accepted, %d unconfirmed",
		queuedAtKill, len(pendingAtKill), len(lostIDs), lostPOSTs, posts, failedPosts, accepted, unconfirmed)
	require.NotEmpty(t, pendingAtKill, "the kill must land while accepted spans are still queued")
	require.NotEmpty(t, lostIDs, "the kill must land while PCM has stored reports the exporter has no answer for")
	assert.LessOrEqual(t, lostPOSTs, numConsumers, "at most num_consumers POSTs are in flight")
	assert.Zero(t, metric(before, mSendFailedSpans), "nothing failed before the kill")

	// 4. Restart on the same storage; a little more traffic to show the pipeline works.
	e.startCollector()
	for range 4 {
		require.True(t, e.send.post(ctx, spansPerPost), "the restarted collector accepts spans")
	}
	e.waitDelivered(60 * time.Second)
	e.waitSettled(30 * time.Second)

	// 5. Every accepted span at least once, each duplicate counted.
	got := e.checkDelivery()
	c.extra, c.dupIDs = duplicates(got)
	for _, id := range c.dupIDs {
		assert.Equal(t, 2, got[id], "report %s delivered %d times", id, got[id])
	}
	for _, id := range pendingAtKill {
		assert.Equal(t, 1, got[id], "span %s, queued at the kill, is delivered once after the restart", id)
	}
	stats := e.simStats()
	t.Logf("after the restart: %d reports stored, %d duplicates (simulator: %d); simulator stats %+v",
		len(e.reports()), c.extra, stats.Duplicates, stats)
	assert.Equal(t, c.extra, stats.Duplicates, "the simulator's duplicate count agrees with ours")
	// Only the reports a crash caught between POST and answer are looked up: those whose answer
	// was lost, at most the batches in flight.
	found, notFound := stats.QueryRequests["200"], stats.QueryRequests["404"]
	t.Logf("lookups after the restart: %d found (not resent), %d not found (sent); simulator lookups %v", found, notFound, stats.QueryRequests)
	assert.GreaterOrEqual(t, found, len(lostIDs), "every report whose answer was lost is looked up")
	assert.LessOrEqual(t, found+notFound, inFlightBound, "lookups are bounded by the batches in flight")

	m := e.metrics()
	assert.Zero(t, metric(m, mSendFailedSpans), "otelcol_exporter_send_failed_spans after the restart")
	assert.Zero(t, metric(m, mEnqueueFailed), "otelcol_exporter_enqueue_failed_spans after the restart")
	assert.Zero(t, metric(m, mReports, "outcome", "failed"))
	c.skipped = metric(m, mReports, "outcome", "already_delivered")
	assert.GreaterOrEqual(t, c.skipped, float64(found), "reports PCM had are counted as already_delivered")
	assert.GreaterOrEqual(t, metric(m, mSentSpans), float64(len(pendingAtKill)),
		"the restarted collector sent what the persistent queue kept")
	return c
}
