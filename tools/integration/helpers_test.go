package integration

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	pcmexporter "github.com/pcm-otel/pcmexporter"
	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

const (
	ourOrg = "5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60"
	ourSS  = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	bankB  = "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d"

	accountsURL = "https://api.banco-b.example/opbk/open-banking/accounts/v2/accounts/acc-1/balances?page=1"
)

// institution is one organisation's pcm exporter against a running pcmsim.
type institution struct {
	exp exporter.Traces
	tt  *componenttest.Telemetry
}

// push hands spans to the exporter; with the sending queue off, it returns once PCM answered.
func (in institution) push(t *testing.T, specs ...spanSpec) {
	t.Helper()
	require.NoError(t, in.exp.ConsumeTraces(context.Background(), traces(specs...)))
}

// startSim runs pcmsim in-process with two organisations (ours and banco B) and returns an
// exporter for each.
func startSim(t *testing.T, mutate func(*pcmexporter.Config)) (sim *pcmsim.Server, a, b institution) {
	return startSimWith(t, bankB, mutate)
}

// startSimWith is startSim with the second organisation's id.
func startSimWith(t *testing.T, orgBID string, mutate func(*pcmexporter.Config)) (sim *pcmsim.Server, a, b institution) {
	t.Helper()
	return startSimConfigured(t, orgBID, nil, func(cfg *pcmexporter.Config, _ *pcmsim.Server, _ string) {
		if mutate != nil {
			mutate(cfg)
		}
	})
}

// startSimConfigured is startSimWith with a say on the simulator's configuration too; mutate
// also gets the running simulator and the CA file that trusts it.
func startSimConfigured(t *testing.T, orgBID string, simMutate func(*pcmsim.Config),
	mutate func(cfg *pcmexporter.Config, sim *pcmsim.Server, caFile string)) (sim *pcmsim.Server, a, b institution) {
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
	if simMutate != nil {
		simMutate(&simCfg)
	}
	sim, err = pcmsim.New(simCfg)
	require.NoError(t, err)
	require.NoError(t, sim.Start(context.Background()))
	t.Cleanup(func() { _ = sim.Shutdown(context.Background()) })

	start := func(o pcmsim.Org, counterpart string) institution {
		f := pcmexporter.NewFactory()
		cfg := f.CreateDefaultConfig().(*pcmexporter.Config)
		cfg.ClientConfig.Endpoint = sim.APIURL()
		cfg.ClientConfig.TLS.CAFile = filepath.Join(dir, pcmsim.CACertFile)
		cfg.Token.URL = sim.TokenURL()
		cfg.Token.ClientID = o.ClientID
		cfg.Token.TLS.CAFile = filepath.Join(dir, pcmsim.CACertFile)
		cfg.Token.TLS.CertFile = filepath.Join(dir, o.Name+".crt")
		cfg.Token.TLS.KeyFile = filepath.Join(dir, o.Name+".key")
		cfg.OrgID, cfg.SoftwareStatementID = o.OrgID, o.SoftwareStatementID
		cfg.Counterparts.Hosts = map[string]string{"api.banco-b.example": counterpart}
		cfg.DeadLetter.Path = filepath.Join(t.TempDir(), "dead.jsonl")
		cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]() // synchronous: a push returns once PCM answered
		mutate(cfg, sim, filepath.Join(dir, pcmsim.CACertFile))
		require.NoError(t, cfg.Validate())
		tt := componenttest.NewTelemetry()
		t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
		exp, err := f.CreateTraces(context.Background(), metadatatest.NewSettings(tt), cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
		return institution{exp: exp, tt: tt}
	}
	return sim, start(orgA, orgBID), start(orgB, ourOrg)
}

// spanSpec is the little a test needs to say about one HTTP span.
type spanSpec struct {
	kind          ptrace.SpanKind
	method        string
	url           string // CLIENT: url.full
	path          string // SERVER: url.path
	status        int
	interactionID string
	clientOrg     string // SERVER: pcm.client_org_id
	callerID      string // SERVER: pcm.caller_id
	attrs         map[string]string
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func clientCall(method, url string, status int) spanSpec {
	return spanSpec{kind: ptrace.SpanKindClient, method: method, url: url, status: status, interactionID: newUUID()}
}

func serverCall(method, path string, status int) spanSpec {
	return spanSpec{kind: ptrace.SpanKindServer, method: method, path: path, status: status, interactionID: newUUID(), clientOrg: bankB}
}

// traces puts every span into one resource and scope, each started a minute ago and 42 ms long.
func traces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "banco-a-api")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i, s := range specs {
		start := time.Now().Add(-time.Minute)
		span := spans.AppendEmpty()
		var tid [16]byte
		var sid [8]byte
		_, _ = rand.Read(tid[:])
		_, _ = rand.Read(sid[:])
		span.SetTraceID(tid)
		span.SetSpanID(sid)
		span.SetName(fmt.Sprintf("%s %d", s.method, i))
		span.SetKind(s.kind)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(42 * time.Millisecond)))
		a := span.Attributes()
		a.PutStr("http.request.method", s.method)
		if s.url != "" {
			a.PutStr("url.full", s.url)
		}
		if s.path != "" {
			a.PutStr("url.path", s.path)
			a.PutStr("url.scheme", "https")
		}
		a.PutInt("http.response.status_code", int64(s.status))
		a.PutEmptySlice("http.request.header.x-fapi-interaction-id").AppendEmpty().SetStr(s.interactionID)
		if s.clientOrg != "" {
			a.PutStr("pcm.client_org_id", s.clientOrg)
		}
		if s.callerID != "" {
			a.PutStr("pcm.caller_id", s.callerID)
		}
		for k, v := range s.attrs {
			a.PutStr(k, v)
		}
	}
	return td
}
