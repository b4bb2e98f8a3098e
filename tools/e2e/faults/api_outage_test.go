//go:build e2e

package faults

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// TestPCMAPIDownThenBack takes the PCM report API away in three ways while spans keep coming,
// one after the other on the same collector: (a) the simulator stops (connections refused) and
// comes back on the same address, (b) the API answers 500, (c) the API answers 429 with
// Retry-After. After each recovery every accepted span's report is at PCM exactly once (PCM
// stored nothing it refused, so there is nothing to duplicate), nothing is dead-lettered and
// exporterhelper counts no failed span: the outages cost time, not reports.
func TestPCMAPIDownThenBack(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()

	// A first delivery: the exporter has its token.
	require.True(t, e.send.post(ctx, batchMaxSize))
	e.waitDelivered(20 * time.Second)

	// (a) Connection refused: the simulator is gone (token endpoint included) and comes back on
	// the same addresses. The restarted simulator signs with a new key, so the token the exporter
	// holds earns a 401 there: refreshed and resent, not a failure either.
	e.stopSim()
	downAt := time.Now()
	for range 4 {
		require.True(t, e.send.post(ctx, 10), "the collector accepts spans while PCM is down")
	}
	e.waitFor(20*time.Second, "the exporter to meet refused connections for a while", func() (bool, string) {
		n := metric(e.metrics(), mRequestCount, "status_code", "0")
		return n >= 3 && time.Since(downAt) >= 2*time.Second, fmt.Sprintf("%v report POSTs without an answer", n)
	})
	refused := metric(e.metrics(), mRequestCount, "status_code", "0")
	sim := e.startSim()
	e.waitDelivered(30 * time.Second)
	t.Logf("(a) PCM down %s, %v POSTs refused; the restarted simulator saw %v", time.Since(downAt).Round(time.Millisecond),
		refused, sim.Stats().ReportRequests)
	assert.GreaterOrEqual(t, sim.Stats().ReportRequests["401"], 1, "the old token is refused by the restarted PCM")

	// (b) 500 to the next three POSTs: a count, not a time window, so that a slow machine
	// cannot leave the window before the exporter's retries reach it.
	require.NoError(t, sim.SetFaults(pcmsim.Faults{API: pcmsim.Fault{Mode: "500", Count: 3}}))
	for range 4 {
		require.True(t, e.send.post(ctx, 10))
	}
	e.waitFor(30*time.Second, "the exporter to meet 500s", func() (bool, string) {
		n := sim.Stats().ReportRequests["500"]
		return n >= 3, fmt.Sprintf("%d answers 500", n)
	})
	e.waitDelivered(30 * time.Second)
	t.Logf("(b) %d answers 500", sim.Stats().ReportRequests["500"])

	// (c) 429 with Retry-After for five seconds, on one batch. Honouring Retry-After, the batch
	// is refused at most once per Retry-After while the fault lasts; retrying at the configured
	// backoff (100ms doubling to 1s) it would be refused about ten times.
	const retryAfter, throttled = 2, 5 * time.Second
	require.NoError(t, sim.SetFaults(pcmsim.Faults{API: pcmsim.Fault{Mode: "429", RetryAfter: retryAfter, For: pcmsim.Duration(throttled)}}))
	require.True(t, e.send.post(ctx, batchMaxSize), "one request, one batch")
	e.waitDelivered(30 * time.Second)
	n429 := sim.Stats().ReportRequests["429"]
	t.Logf("(c) %d answers 429 (Retry-After: %ds, for %s)", n429, retryAfter, throttled)
	assert.GreaterOrEqual(t, n429, 1)
	assert.LessOrEqual(t, n429, int(math.Ceil(throttled.Seconds()/retryAfter)), "Retry-After is honoured")

	// Exactly once, nothing dead-lettered, nothing failed.
	e.waitSettled(20 * time.Second)
	got := e.checkDelivery()
	extra, ids := duplicates(got)
	assert.Zero(t, extra, "no duplicates: PCM stored nothing it refused (e.g. %v)", ids)
	assert.Equal(t, 0, e.simStats().Duplicates)

	m := e.metrics()
	accepted := float64(len(e.send.acceptedIDs()))
	assert.Zero(t, metric(m, mSendFailedSpans), "otelcol_exporter_send_failed_spans")
	assert.Zero(t, metric(m, mEnqueueFailed), "otelcol_exporter_enqueue_failed_spans")
	assert.Equal(t, accepted, metric(m, mSentSpans), "otelcol_exporter_sent_spans: every accepted span, once")
	assert.Equal(t, accepted, metric(m, mReports, "outcome", "accepted"))
	assert.Zero(t, metric(m, mReports, "outcome", "failed"))
	assert.Zero(t, metric(m, mTokenRequests, "outcome", "failure"))
	assert.Equal(t, 2.0, metric(m, mTokenRequests, "outcome", "success"), "one token per simulator instance")
}
