//go:build e2e

package faults

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// The log samplers between the exporter and the collector's log file.
const (
	// exporterLogInitial per exporterLogTick, then every exporterLogThereafter-th: the pcm
	// exporter's own rate limit of a repeated message (exporter.go, rateLimited).
	exporterLogInitial, exporterLogTick, exporterLogThereafter = 5, time.Minute, 1000
	// The collector's default log sampling (service::telemetry::logs::sampling), which applies
	// to every message, exporterhelper's "Exporting failed. Will retry ..." included.
	collectorLogInitial, collectorLogTick, collectorLogThereafter = 10, 10 * time.Second, 100
)

// TestTokenEndpointDownOrRefusingCertificate starts the collector while PCM's token endpoint
// refuses the transport certificate (TLS handshake), then answers 500, then 401, and lifts the
// fault. Nothing is lost: every accepted span's report reaches PCM exactly once when the token
// comes, nothing is dead-lettered and no batch fails. The failure is logged as an error that
// names the token endpoint and says the reports stay queued (whether it also names the cause is
// TestTokenCertificateRefusalIsNamed), and rate-limited: the log lines about the token over the
// whole outage are bounded by the log samplers, fewer than the token requests that failed; no
// token or key is logged. The failures are counted in
// otelcol_exporter_pcm_token_requests{outcome="failure"}, and the exporter recovers by itself.
func TestTokenEndpointDownOrRefusingCertificate(t *testing.T) {
	// The handshake fault comes first: it only concerns new TLS connections, and once the token
	// client holds a connection (after a 500, say) it would not make another.
	e := newEnv(t, envConfig{Faults: pcmsim.Faults{Token: pcmsim.Fault{Mode: pcmsim.FaultHandshake}}})
	ctx := context.Background()
	start := time.Now()

	// Enough spans for every consumer to retry a batch of its own, and a trickle all along.
	for range 2 * numConsumers {
		require.True(t, e.send.post(ctx, batchMaxSize))
	}
	e.send.startBackground(500*time.Millisecond, 5)

	sim := e.sim()
	phase := func(name string, least int, minTime time.Duration, count func(pcmsim.Stats) int) {
		t.Helper()
		from, at := count(sim.Stats()), time.Now()
		e.waitFor(60*time.Second, name, func() (bool, string) {
			n := count(sim.Stats()) - from
			return n >= least && time.Since(at) >= minTime, fmt.Sprintf("%d refused token requests in %s", n, time.Since(at))
		})
	}
	phase("token requests refused at the TLS handshake", 25, 5*time.Second, func(s pcmsim.Stats) int {
		return s.TokenRequests[pcmsim.TokenOutcomeHandshakeRefused]
	})
	require.NoError(t, sim.SetFaults(pcmsim.Faults{Token: pcmsim.Fault{Mode: "500"}}))
	phase("token requests answered 500", 20, 4*time.Second, func(s pcmsim.Stats) int { return s.TokenRequests[pcmsim.TokenOutcomeFault] })
	require.NoError(t, sim.SetFaults(pcmsim.Faults{Token: pcmsim.Fault{Mode: "401"}}))
	phase("token requests answered 401", 20, 4*time.Second, func(s pcmsim.Stats) int { return s.TokenRequests[pcmsim.TokenOutcomeFault] })

	during := e.metrics()
	failures := metric(during, mTokenRequests, "outcome", "failure")
	outage := time.Since(start)
	require.NoError(t, sim.SetFaults(pcmsim.Faults{}))
	liftedAt := time.Now()
	assert.Zero(t, len(e.reports()), "no report can reach PCM without a token")
	assert.Zero(t, metric(during, mSendFailedSpans), "nothing failed during the outage")

	e.send.stopBackground()
	e.waitDelivered(30 * time.Second)
	t.Logf("outage %s: %v token requests failed (simulator: %v); delivered %s after the fault was lifted",
		outage.Round(time.Millisecond), failures, sim.Stats().TokenRequests, time.Since(liftedAt).Round(time.Millisecond))
	e.waitSettled(20 * time.Second)

	// Nothing lost, nothing twice, nothing dead-lettered.
	got := e.checkDelivery()
	extra, _ := duplicates(got)
	assert.Zero(t, extra, "no duplicates")
	m := e.metrics()
	accepted := float64(len(e.send.acceptedIDs()))
	assert.Zero(t, metric(m, mSendFailedSpans), "otelcol_exporter_send_failed_spans")
	assert.Equal(t, accepted, metric(m, mSentSpans), "otelcol_exporter_sent_spans: every accepted span, once")
	assert.Equal(t, accepted, metric(m, mReports, "outcome", "accepted"))
	assert.Zero(t, metric(m, mReports, "outcome", "failed"))
	assert.Positive(t, failures, `otelcol_exporter_pcm_token_requests{outcome="failure"}`)
	assert.Equal(t, 1.0, metric(m, mTokenRequests, "outcome", "success"), "one token once the fault is lifted")

	// The log: clear, and rate-limited.
	entries := readLog(t, e.logPath())
	var tokenLines, exporterErrors []logEntry
	for _, le := range entries {
		if !strings.Contains(strings.ToLower(le.Raw), "token") {
			continue
		}
		tokenLines = append(tokenLines, le)
		if le.Level == "error" && le.Fields["otelcol.component.id"] == metricExporter && strings.Contains(le.Msg, "PCM token") {
			exporterErrors = append(exporterErrors, le)
		}
	}
	causes := map[string]int{}
	for _, le := range tokenLines {
		errText, _ := le.Fields["error"].(string)
		for _, c := range []string{"tls: bad certificate", "HTTP 500", "HTTP 401"} {
			if strings.Contains(errText, c) {
				causes[c]++
			}
		}
	}
	// The exporter's limiter counts per message, and the message names the cause, so that a
	// change of cause during an outage is still logged: the bound is per distinct message.
	perMessage := map[string]int{}
	for _, le := range exporterErrors {
		perMessage[le.Msg]++
	}
	exporterBound := logBound(outage, exporterLogInitial, exporterLogTick, exporterLogThereafter, failures)
	attempts := float64(numConsumers) * failures // each failed request serves at most num_consumers waiting batches
	bound := len(perMessage)*exporterBound +
		logBound(outage, collectorLogInitial, collectorLogTick, collectorLogThereafter, attempts)
	t.Logf("%d log lines about the token (%d errors of the exporter's own; causes named: %v) for %v failed token requests; bound %d",
		len(tokenLines), len(exporterErrors), causes, failures, bound)
	require.NotEmpty(t, exporterErrors, "the exporter logs the token failure as an error")
	first, _ := exporterErrors[0].Fields["error"].(string)
	assert.Contains(t, exporterErrors[0].Msg, "reports stay queued", "the error says what becomes of the reports")
	assert.Contains(t, first, e.sim().TokenURL(), "the error names the token endpoint")
	// Whether it also says that the certificate was refused is TestTokenCertificateRefusalIsNamed.
	for msg, n := range perMessage {
		assert.LessOrEqual(t, n, exporterBound, "the exporter's own token error is rate-limited: %s", msg)
	}
	assert.GreaterOrEqual(t, len(perMessage), 2, "each cause of the outage (certificate, HTTP 500, HTTP 401) is named: %v", perMessage)
	assert.LessOrEqual(t, len(tokenLines), bound, "the log lines about the token are bounded by the log samplers")
	assert.Less(t, float64(len(tokenLines)), failures, "not one log line per attempt")
	for _, le := range entries {
		for _, secret := range []string{"eyJ", "Bearer ", "PRIVATE KEY"} {
			assert.NotContains(t, le.Raw, secret, "no token, Authorization header or key is ever logged")
		}
	}
}

// logBound is the most lines a zap sampler (initial per tick, then every thereafter-th) lets
// through for one message repeated n times over d: every tick window that d touches, plus the
// sampled rest.
func logBound(d time.Duration, initial int, tick time.Duration, thereafter int, n float64) int {
	windows := int(math.Ceil(d.Seconds()/tick.Seconds())) + 1
	return windows*initial + int(math.Ceil(n/float64(thereafter)))
}

// TestTokenExpiresMidRun runs traffic across several lifetimes of short-lived tokens (4 s): the
// exporter renews them before they expire, so no report POST meets an expired token. Then the
// simulator's clock jumps past the expiry of every token issued (a token PCM ends early): the
// POSTs that carry the old token earn a 401, and the exporter takes a new token and resends them
// once. Either way no batch fails — otelcol_exporter_send_failed_spans stays 0 — and every
// report is delivered exactly once.
func TestTokenExpiresMidRun(t *testing.T) {
	const lifetime = 4 * time.Second
	e := newEnv(t, envConfig{TokenLifetime: lifetime})
	sim := e.sim()
	start := time.Now()

	// 50 spans/s: a POST about every 200 ms (flush_timeout), across three lifetimes.
	e.send.startBackground(100*time.Millisecond, 5)
	e.waitFor(3*lifetime+20*time.Second, "traffic across three token lifetimes", func() (bool, string) {
		issued := sim.Stats().TokenRequests[pcmsim.TokenOutcomeIssued]
		return time.Since(start) >= 3*lifetime && issued >= 3, fmt.Sprintf("%d tokens issued in %s", issued, time.Since(start))
	})
	natural := sim.Stats()
	t.Logf("natural expiry: %s of traffic, token requests %v, report POSTs %v", time.Since(start).Round(time.Millisecond),
		natural.TokenRequests, natural.ReportRequests)
	assert.Zero(t, natural.ReportRequests["401"], "tokens are renewed before they expire: no POST meets an expired one")

	// Right after the exporter got a token (so it will not ask for another one for a while),
	// every token it may hold expires at PCM.
	tokenRequests := func() int {
		n := 0
		for _, v := range sim.Stats().TokenRequests {
			n += v
		}
		return n
	}
	before := tokenRequests()
	deadline := time.Now().Add(3 * lifetime)
	for tokenRequests() == before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	e.clock.Advance(lifetime + time.Second)
	jumpedAt := time.Now()
	e.waitFor(20*time.Second, "a new token after the clock jump", func() (bool, string) {
		s := sim.Stats()
		issued := s.TokenRequests[pcmsim.TokenOutcomeIssued] - natural.TokenRequests[pcmsim.TokenOutcomeIssued]
		return issued >= 1 && time.Since(jumpedAt) >= lifetime/2, fmt.Sprintf("%d tokens issued since the jump", issued)
	})
	e.send.stopBackground()
	e.waitDelivered(30 * time.Second)
	e.waitSettled(20 * time.Second)

	stats := e.simStats()
	unauthorized := stats.ReportRequests["401"]
	t.Logf("after the jump: token requests %v, report POSTs %v", stats.TokenRequests, stats.ReportRequests)
	assert.GreaterOrEqual(t, unauthorized, 1, "the POSTs with the old token met a 401")
	assert.LessOrEqual(t, unauthorized, numConsumers, "one 401 per POST in flight with the old token, then the new token")

	got := e.checkDelivery()
	extra, _ := duplicates(got)
	assert.Zero(t, extra, "no duplicates: a 401 stores nothing and is resent once")
	m := e.metrics()
	accepted := float64(len(e.send.acceptedIDs()))
	assert.Zero(t, metric(m, mSendFailedSpans), "otelcol_exporter_send_failed_spans: no batch failed")
	assert.Equal(t, accepted, metric(m, mSentSpans), "otelcol_exporter_sent_spans: every accepted span, once")
	assert.Equal(t, accepted, metric(m, mReports, "outcome", "accepted"))
	assert.Zero(t, metric(m, mReports, "outcome", "failed"))
	assert.Zero(t, metric(m, mTokenRequests, "outcome", "failure"))
	assert.GreaterOrEqual(t, metric(m, mTokenRequests, "outcome", "success"), 4.0, "renewed in every lifetime and after the jump")
	assert.Equal(t, float64(unauthorized), metric(m, mRequestCount, "status_code", "401"), "the exporter saw every 401")
	for _, le := range readLog(t, e.logPath()) {
		if le.Level == "error" || le.Level == "warn" {
			t.Errorf("unexpected %s log line: %s", le.Level, le.Raw)
		}
	}
}

// TestTokenCertificateRefusalIsNamed: when PCM's token endpoint refuses the transport
// certificate, every error the exporter logs about it says so (Go's "tls: bad certificate"
// alert, or words to that effect), so that an operator knows to check token.tls.cert_file.
func TestTokenCertificateRefusalIsNamed(t *testing.T) {
	e := newEnv(t, envConfig{Faults: pcmsim.Faults{Token: pcmsim.Fault{Mode: pcmsim.FaultHandshake}}})
	for range numConsumers {
		require.True(t, e.send.post(context.Background(), batchMaxSize))
	}
	e.waitFor(30*time.Second, "failed token requests", func() (bool, string) {
		n := e.sim().Stats().TokenRequests[pcmsim.TokenOutcomeHandshakeRefused]
		return n >= 2*exporterLogInitial, fmt.Sprintf("%d handshakes refused", n)
	})
	var named, unnamed int
	for _, le := range readLog(t, e.logPath()) {
		errText, _ := le.Fields["error"].(string)
		if !strings.Contains(errText, "PCM token") {
			continue
		}
		if strings.Contains(errText, "certificate") {
			named++
			continue
		}
		unnamed++
		t.Errorf("a token failure logged without its cause (the refused certificate): %s: %s", le.Msg, errText)
	}
	t.Logf("%d token failures logged naming the certificate, %d without", named, unnamed)
	require.NoError(t, e.sim().SetFaults(pcmsim.Faults{}))
	e.waitDelivered(30 * time.Second)
}
