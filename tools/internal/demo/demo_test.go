package demo

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// world is the two banks and the gateway, exporting to an in-process OTLP sink.
type world struct {
	sink    *otlpSink
	server  *ServerBank
	gateway *Gateway
	client  *ClientBank
	direct  *ClientBank // same bank, without the gateway
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{sink: newOTLPSink(t)}
	var err error
	w.server, err = StartServerBank(ctx, ServerConfig{Org: BancoB, Tracing: TracingConfig{ServiceName: "banco-b-api", Endpoint: w.sink.endpoint()}})
	require.NoError(t, err)
	w.gateway, err = StartGateway(DefaultGatewayRewrites...)
	require.NoError(t, err)
	cfg := ClientConfig{
		Org:         BancoA,
		Tracing:     TracingConfig{ServiceName: "banco-a-app", Endpoint: w.sink.endpoint()},
		KnownHost:   hostPort("localhost", w.server.Port()),
		UnknownHost: hostPort("127.0.0.1", w.server.Port()),
		GatewayURL:  w.gateway.URL(),
	}
	w.client, err = NewClientBank(ctx, cfg)
	require.NoError(t, err)
	cfg.GatewayURL = ""
	cfg.Tracing.ServiceName = "banco-a-direct"
	w.direct, err = NewClientBank(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { w.shutdown(t) })
	return w
}

// shutdown flushes every span to the sink (idempotent for the tracer providers).
func (w *world) shutdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.NoError(t, w.client.Shutdown(ctx))
	assert.NoError(t, w.direct.Shutdown(ctx))
	assert.NoError(t, w.gateway.Shutdown(ctx))
	assert.NoError(t, w.server.Shutdown(ctx))
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewInteractionID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewInteractionID()
		require.Regexp(t, uuidV4, id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

func TestScenarioTable(t *testing.T) {
	names := map[string]bool{}
	manual := map[int]bool{}
	for _, s := range Scenarios() {
		assert.False(t, names[s.Name], "duplicate name %s", s.Name)
		names[s.Name] = true
		manual[s.Manual] = true
		assert.NotEmpty(t, s.Title)
		for _, e := range []Expect{s.Client, s.Server} {
			n := 0
			for _, set := range []bool{e.Status != "", e.Opendata, e.DeadLetter != "", e.Skipped != ""} {
				if set {
					n++
				}
			}
			assert.Equal(t, 1, n, "%s: each side has exactly one fate: %+v", s.Name, e)
		}
	}
	for i := 1; i <= 9; i++ {
		assert.True(t, manual[i], "scenario %d missing", i)
	}
}

// TestScenarioSpans runs every scenario against the real banks and checks the spans they emit:
// the captured-header attributes (string slices), the caller organisation, the gateway's
// rewrite, the timeouts. This is everything the exporter relies on, without a collector.
func TestScenarioSpans(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	results := map[string]CallResult{}
	for _, s := range Scenarios() {
		results[s.Name] = w.client.Do(ctx, s.Label(), s.Call)
	}
	direct := w.direct.Do(ctx, "direct consent", Call{Method: "POST", Path: "/open-banking/consents/v3/consents", Body: "{}"})
	// The timeout scenarios' servers answer after TimeoutServer; wait for them before the flush.
	require.Eventually(t, func() bool {
		for _, r := range results {
			if len(w.server.HandledInTrace(r.TraceID)) == 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond)
	w.shutdown(t)

	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			r := results[s.Name]
			require.NotEmpty(t, r.TraceID)
			handled := w.server.HandledInTrace(r.TraceID)
			require.Len(t, handled, 1)
			h := handled[0]

			cs := w.sink.find(t, r.TraceID, ptrace.SpanKindClient)
			ss := w.sink.find(t, r.TraceID, ptrace.SpanKindServer)
			assert.Equal(t, "banco-a-app", cs.service)
			assert.Equal(t, "banco-b-api", ss.service)
			assert.Equal(t, r.SpanID, cs.span.SpanID().String())
			assert.Equal(t, h.SpanID, ss.span.SpanID().String())
			ca, sa := cs.span.Attributes(), ss.span.Attributes()

			// client side: what it sent and what it saw
			reqIDs, hasReq := strSlice(t, ca, AttrRequestInteractionID)
			respIDs, hasResp := strSlice(t, ca, AttrResponseInteractionID)
			if s.Call.NoInteractionID {
				assert.False(t, hasReq)
				assert.Empty(t, r.SentInteractionID)
			} else {
				assert.Equal(t, []string{r.SentInteractionID}, reqIDs)
				assert.Regexp(t, uuidV4, r.SentInteractionID)
			}
			if r.TimedOut {
				assert.False(t, hasResp, "a timed-out client saw no response")
				_, hasStatus := ca.Get("http.response.status_code")
				assert.False(t, hasStatus)
				errType, _ := ca.Get("error.type")
				assert.NotEmpty(t, errType.Str())
			} else if hasResp {
				assert.Equal(t, []string{r.ReceivedInteractionID}, respIDs)
			}
			url, _ := ca.Get("url.full")
			assert.Contains(t, url.Str(), s.Call.Path)

			// server side: what it received, generated and returned
			srvReq, hasSrvReq := strSlice(t, sa, AttrRequestInteractionID)
			srvResp, _ := strSlice(t, sa, AttrResponseInteractionID)
			if r.SentInteractionID != "" && s.Call.Path != "/open-banking/resources/v3/resources" {
				assert.Equal(t, []string{r.SentInteractionID}, srvReq)
				assert.Equal(t, []string{r.SentInteractionID}, srvResp, "the server echoes the client's id")
				assert.Equal(t, r.SentInteractionID, h.InteractionID)
				assert.False(t, h.Generated)
			} else {
				assert.False(t, hasSrvReq)
			}
			if h.Generated {
				assert.Equal(t, []string{h.InteractionID}, srvResp)
				assert.Regexp(t, uuidV4, h.InteractionID)
				if !r.TimedOut {
					assert.Equal(t, h.InteractionID, r.ReceivedInteractionID, "the client sees the generated id")
				}
			}
			status, _ := sa.Get("http.response.status_code")
			assert.Equal(t, int64(h.Status), status.Int())
			_, hasRoute := sa.Get("http.route")
			assert.False(t, hasRoute, "otelhttp around the mux sets no http.route")

			org, hasOrg := sa.Get(AttrClientOrgID)
			switch {
			case s.Call.ClientID == UnknownAppClientID || s.Call.ClientID == "-":
				assert.False(t, hasOrg, "unresolvable caller: no %s", AttrClientOrgID)
			default:
				assert.Equal(t, BancoA.OrgID, org.Str())
			}
			for k, v := range s.Call.AdditionalInfo {
				got, _ := ca.Get(AttrAdditionalInfoPrefix + k)
				assert.Equal(t, v, got.Str())
			}
			for k, v := range s.Call.Attributes {
				got, _ := ca.Get(k)
				assert.Equal(t, v, got.Str())
			}
		})
	}

	t.Run("timeouts", func(t *testing.T) {
		for _, name := range []string{"timeout-no-id", "timeout-with-id"} {
			r := results[name]
			assert.True(t, r.TimedOut, name)
			assert.Zero(t, r.StatusCode)
			assert.Less(t, r.Duration, TimeoutServer)
			h := w.server.HandledInTrace(r.TraceID)[0]
			assert.Equal(t, 200, h.Status, "the server finishes its work after the client gave up")
		}
		assert.True(t, w.server.HandledInTrace(results["timeout-no-id"].TraceID)[0].Generated)
	})
	t.Run("misbehaving route", func(t *testing.T) {
		r := results["missing-interaction-id"]
		assert.Equal(t, 200, r.StatusCode)
		assert.Empty(t, r.ReceivedInteractionID)
		h := w.server.HandledInTrace(r.TraceID)[0]
		assert.Empty(t, h.InteractionID)
		ss := w.sink.find(t, r.TraceID, ptrace.SpanKindServer)
		_, ok := ss.span.Attributes().Get(AttrResponseInteractionID)
		assert.False(t, ok)
	})
	t.Run("gateway rewrite", func(t *testing.T) {
		r := results["inconsistent-gateway"]
		assert.Equal(t, 200, r.StatusCode, "the client sees the gateway's 200")
		assert.Equal(t, 201, w.server.HandledInTrace(r.TraceID)[0].Status)
		assert.Equal(t, 201, direct.StatusCode, "without the gateway the client sees 201")
		assert.Equal(t, 201, results["paired-payment"].StatusCode, "other routes are not rewritten")
		assert.EqualValues(t, 1, w.gateway.Rewrites())
	})
	t.Run("hosts", func(t *testing.T) {
		url, _ := w.sink.find(t, results["unknown-server-host"].TraceID, ptrace.SpanKindClient).span.Attributes().Get("url.full")
		assert.Contains(t, url.Str(), "http://127.0.0.1:")
		url, _ = w.sink.find(t, results["paired-balances"].TraceID, ptrace.SpanKindClient).span.Attributes().Get("url.full")
		assert.Contains(t, url.Str(), "http://localhost:")
	})
}
