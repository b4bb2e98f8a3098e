package mapping

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Identifiers used across the tests.
const (
	ourOrg     = "5f3e2a10-8c4b-4d6e-9f10-112233445566" // the reporting institution
	ourSS      = "0c1d2e3f-4a5b-4c6d-8e7f-8899aabbccdd" // our software statement
	bankB      = "9b2c4d6e-1a3b-4c5d-8e9f-0a1b2c3d4e5f" // a counterpart we call
	callerOrg  = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d" // a counterpart calling us
	fapiID     = "d0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6d"
	fapiID2    = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	zeroUUID   = "00000000-0000-0000-0000-000000000000"
	traceIDHex = "0102030405060708090a0b0c0d0e0f10"
	bankBHost  = "api.banco-b.example"
)

var (
	testStart   = time.Date(2026, 3, 17, 12, 34, 56, 789_654_321, time.UTC)
	testNow     = testStart.Add(time.Minute)
	testTraceID = pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// spanOpt tweaks a span after its attributes are set.
type spanOpt func(ptrace.Span)

func withDuration(d time.Duration) spanOpt {
	return func(s ptrace.Span) {
		s.SetEndTimestamp(pcommon.Timestamp(uint64(s.StartTimestamp()) + uint64(d)))
	}
}

func withStatusMessage(msg string) spanOpt {
	return func(s ptrace.Span) {
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage(msg)
	}
}

func withException(typ, msg string) spanOpt {
	return func(s ptrace.Span) {
		ev := s.Events().AppendEmpty()
		ev.SetName("exception")
		if typ != "" {
			ev.Attributes().PutStr("exception.type", typ)
		}
		if msg != "" {
			ev.Attributes().PutStr("exception.message", msg)
		}
	}
}

func withTraceID(id pcommon.TraceID) spanOpt {
	return func(s ptrace.Span) { s.SetTraceID(id) }
}

// mkSpan builds a span of kind with attrs inside a fresh ptrace.Traces and returns its resource.
func mkSpan(t testing.TB, kind ptrace.SpanKind, attrs map[string]any, opts ...spanOpt) (pcommon.Resource, ptrace.Span) {
	return mkSpanRes(t, kind, nil, attrs, opts...)
}

func mkSpanRes(t testing.TB, kind ptrace.SpanKind, resAttrs, attrs map[string]any, opts ...spanOpt) (pcommon.Resource, ptrace.Span) {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(t, rs.Resource().Attributes().FromRaw(resAttrs))
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("test")
	span.SetKind(kind)
	span.SetTraceID(testTraceID)
	span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(testStart))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(testStart.Add(152*time.Millisecond + 300*time.Microsecond)))
	require.NoError(t, span.Attributes().FromRaw(attrs))
	for _, o := range opts {
		o(span)
	}
	return rs.Resource(), span
}

// newTestMapper returns a mapper for ourOrg that knows bankBHost.
func newTestMapper(t testing.TB, mods ...func(*Config)) *Mapper {
	t.Helper()
	cfg := Config{
		OrgID:               ourOrg,
		SoftwareStatementID: ourSS,
		Hosts:               map[string]string{bankBHost: bankB},
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	m, err := NewMapper(cfg)
	require.NoError(t, err)
	return m
}

// clientAttrs is a CLIENT span as Go otelhttp / Node instrumentation-http emit it, with the
// interaction id captured as string arrays.
func clientAttrs(url string) map[string]any {
	return map[string]any{
		"http.request.method":                        "GET",
		"url.full":                                   url,
		"server.address":                             bankBHost,
		"server.port":                                443,
		"network.protocol.version":                   "1.1",
		"http.response.status_code":                  200,
		"http.request.header.x-fapi-interaction-id":  []any{fapiID},
		"http.response.header.x-fapi-interaction-id": []any{fapiID},
	}
}

// serverAttrs is a SERVER span without http.route (Node instrumentation-http, plain otelhttp).
func serverAttrs(path string) map[string]any {
	return map[string]any{
		"http.request.method":       "GET",
		"url.scheme":                "https",
		"url.path":                  path,
		"server.address":            "api.our-bank.example",
		"server.port":               443,
		"client.address":            "203.0.113.7",
		"user_agent.original":       "okhttp/4.12.0",
		"http.response.status_code": 200,
		"http.request.header.x-fapi-interaction-id":  []any{fapiID},
		"http.response.header.x-fapi-interaction-id": []any{fapiID},
		"pcm.client_org_id":                          callerOrg,
	}
}

// merge returns base with over applied; a nil value deletes the key.
func merge(base map[string]any, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}
