package pcmexporter

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pcm-otel/pcmexporter/internal/pcmsim"
)

// simInstitution is one organisation's exporter against a running pcmsim.
type simInstitution struct {
	exp *pcmExporter
	tt  *componenttest.Telemetry
}

// startSim runs pcmsim in-process with two organisations (ours and banco B) and returns an
// exporter for each.
func startSim(t *testing.T, mutate func(*Config)) (sim *pcmsim.Server, a, b simInstitution) {
	return startSimWith(t, bankB, mutate)
}

// startSimWith is startSim with the second organisation's id.
func startSimWith(t *testing.T, orgBID string, mutate func(*Config)) (sim *pcmsim.Server, a, b simInstitution) {
	t.Helper()
	orgA := pcmsim.Org{Name: "banco_a", OrgID: ourOrg, SoftwareStatementID: ourSS, ClientID: "client-a"}
	orgB := pcmsim.Org{Name: "banco_b", OrgID: orgBID, SoftwareStatementID: "7d3c1b2a-9e8f-4a6b-8c5d-4e3f2a1b0c9d", ClientID: "client-b"}
	pki, err := pcmsim.NewDevPKI(orgA, orgB)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, pki.WriteFiles(dir))
	simCfg, err := pki.Config()
	require.NoError(t, err)
	simCfg.RateLimit = -1
	sim, err = pcmsim.New(simCfg)
	require.NoError(t, err)
	require.NoError(t, sim.Start(context.Background()))
	t.Cleanup(func() { _ = sim.Shutdown(context.Background()) })

	institution := func(o pcmsim.Org, counterpart string) simInstitution {
		cfg := createDefaultConfig().(*Config)
		cfg.ClientConfig.Endpoint = sim.APIURL()
		cfg.ClientConfig.TLS.CAFile = filepath.Join(dir, pcmsim.CACertFile)
		cfg.Token.URL = sim.TokenURL()
		cfg.Token.ClientID = o.ClientID
		cfg.Token.TLS.CAFile = filepath.Join(dir, pcmsim.CACertFile)
		cfg.Token.TLS.CertFile = filepath.Join(dir, o.Name+".crt")
		cfg.Token.TLS.KeyFile = filepath.Join(dir, o.Name+".key")
		cfg.OrgID, cfg.SoftwareStatementID = o.OrgID, o.SoftwareStatementID
		cfg.Counterparts.Hosts = map[string]string{"api.banco-b.example": counterpart}
		if mutate != nil {
			mutate(cfg)
		}
		exp, tt := startExporter(t, cfg)
		return simInstitution{exp: exp, tt: tt}
	}
	return sim, institution(orgA, orgBID), institution(orgB, ourOrg)
}

func reconciliationCounts(t *testing.T, tt *componenttest.Telemetry) map[string]int64 {
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
	_, a, b := startSim(t, func(cfg *Config) {
		cfg.ReconciliationWatch = WatchConfig{Enabled: true, SampleRatio: 1, Delay: 0, RateLimit: 100, MaxPending: 100, Attempts: 3}
	})
	ctx := context.Background()
	first := clientCall("GET", accountsURL, 200)
	require.NoError(t, a.exp.pushTraces(ctx, traces(first)))
	require.Eventually(t, func() bool { return reconciliationCounts(t, a.tt)["UNPAIRED"] == 1 }, 10*time.Second, 10*time.Millisecond)

	// The server bank reports the same call: both sides are now PAIRED at PCM.
	server := serverCall("GET", "/open-banking/accounts/v2/accounts/acc-1/balances", 200)
	server.interactionID, server.clientOrg = first.interactionID, ourOrg
	require.NoError(t, b.exp.pushTraces(ctx, traces(server)))
	require.Eventually(t, func() bool { return reconciliationCounts(t, b.tt)["PAIRED"] == 1 }, 10*time.Second, 10*time.Millisecond)

	// A second client call that the server also reports before the lookup.
	second := clientCall("GET", accountsURL, 200)
	secondServer := serverCall("GET", "/open-banking/accounts/v2/accounts/acc-1/balances", 201)
	secondServer.interactionID, secondServer.clientOrg = second.interactionID, ourOrg
	require.NoError(t, b.exp.pushTraces(ctx, traces(secondServer)))
	require.NoError(t, a.exp.pushTraces(ctx, traces(second)))
	require.Eventually(t, func() bool { return reconciliationCounts(t, a.tt)["PAIRED_INCONSISTENT"] == 1 }, 10*time.Second, 10*time.Millisecond)
}
