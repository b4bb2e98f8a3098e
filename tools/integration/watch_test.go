package integration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	pcmexporter "github.com/pcm-otel/pcmexporter"
)

// watchWait bounds how long a test waits for the watch's next lookup: far above what a loaded
// CI machine needs (the lookups start at once), and only a failing test ever waits that long.
const watchWait = 30 * time.Second

func reconciliationCounts(tt *componenttest.Telemetry) map[string]int64 {
	out := map[string]int64{}
	m, err := tt.GetMetric("otelcol_exporter_pcm_reconciliation")
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		status, _ := dp.Attributes.Value("status")
		out[status.AsString()] += dp.Value
	}
	return out
}

// TestReconciliationWatchFollowsPCMsState: the client bank's report is looked up while the
// server bank has not reported (UNPAIRED), then again after it has (PAIRED).
func TestReconciliationWatchFollowsPCMsState(t *testing.T) {
	_, a, b := startSim(t, func(cfg *pcmexporter.Config) {
		cfg.ReconciliationWatch = pcmexporter.WatchConfig{Enabled: true, SampleRatio: 1, Delay: 0, RateLimit: 100, MaxPending: 100, Attempts: 3}
	})
	first := clientCall("GET", accountsURL, 200)
	a.push(t, first)
	require.Eventually(t, func() bool { return reconciliationCounts(a.tt)["UNPAIRED"] == 1 }, watchWait, 10*time.Millisecond)

	// The server bank reports the same call: both sides are now PAIRED at PCM.
	server := serverCall("GET", "/open-banking/accounts/v2/accounts/acc-1/balances", 200)
	server.interactionID, server.clientOrg = first.interactionID, ourOrg
	b.push(t, server)
	require.Eventually(t, func() bool { return reconciliationCounts(b.tt)["PAIRED"] == 1 }, watchWait, 10*time.Millisecond)

	// A second client call that the server also reports before the lookup.
	second := clientCall("GET", accountsURL, 200)
	secondServer := serverCall("GET", "/open-banking/accounts/v2/accounts/acc-1/balances", 201)
	secondServer.interactionID, secondServer.clientOrg = second.interactionID, ourOrg
	b.push(t, secondServer)
	a.push(t, second)
	require.Eventually(t, func() bool { return reconciliationCounts(a.tt)["PAIRED_INCONSISTENT"] == 1 }, watchWait, 10*time.Millisecond)
}
