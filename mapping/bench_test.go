package mapping

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// benchTraces returns a ptrace.Traces holding exactly one realistic span of the given flavour:
// stable semantic conventions, captured headers as string arrays, url.full with a query, the
// resource attributes an SDK sets. The same Traces feeds both benchmarks.
func benchTraces(flavour string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", "accounts-api")
	res.PutStr("service.version", "2.14.1")
	res.PutStr("deployment.environment.name", "production")
	res.PutStr("telemetry.sdk.name", "opentelemetry")
	res.PutStr("telemetry.sdk.language", "go")
	res.PutStr("telemetry.sdk.version", "1.47.0")
	res.PutStr("host.name", "accounts-api-7d9f8c6b5-x2k4p")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	ss.Scope().SetVersion("0.72.0")
	span := ss.Spans().AppendEmpty()
	span.SetTraceID(testTraceID)
	span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	span.SetParentSpanID(pcommon.SpanID{8, 7, 6, 5, 4, 3, 2, 1})
	start := time.Now().Add(-time.Minute)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(187*time.Millisecond + 420*time.Microsecond)))
	a := span.Attributes()
	header := func(k, v string) { a.PutEmptySlice(k).AppendEmpty().SetStr(v) }

	switch flavour {
	case "client":
		span.SetName("GET")
		span.SetKind(ptrace.SpanKindClient)
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.full", "https://api.banco-b.example/opbk/open-banking/accounts/v2/accounts/92792126019929279212650822221989319252576/transactions?fromBookingDate=2026-03-01&toBookingDate=2026-03-17&page=2&page-size=25")
		a.PutStr("server.address", bankBHost)
		a.PutInt("server.port", 443)
		a.PutStr("network.protocol.version", "1.1")
		a.PutInt("http.response.status_code", 200)
		a.PutInt("http.response.body.size", 5234)
		header("http.request.header.x-fapi-interaction-id", fapiID)
		header("http.response.header.x-fapi-interaction-id", fapiID)
		a.PutStr("pcm.additional_info.consentId", "urn:bancoa:C1DD33123")
	case "server":
		span.SetName("GET /open-banking/consents/v3/consents/{consentId}")
		span.SetKind(ptrace.SpanKindServer)
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.scheme", "https")
		a.PutStr("url.path", "/open-banking/consents/v3/consents/urn:bancoa:C1DD33123")
		a.PutStr("url.query", "page=1")
		a.PutStr("server.address", "api.our-bank.example")
		a.PutInt("server.port", 443)
		a.PutStr("client.address", "203.0.113.7")
		a.PutStr("network.peer.address", "10.0.3.17")
		a.PutStr("user_agent.original", "okhttp/4.12.0")
		a.PutStr("network.protocol.version", "1.1")
		a.PutInt("http.response.status_code", 200)
		a.PutInt("http.response.body.size", 1432)
		header("http.request.header.x-fapi-interaction-id", fapiID)
		header("http.response.header.x-fapi-interaction-id", fapiID)
		a.PutStr("pcm.client_org_id", callerOrg)
	case "opendata":
		span.SetName("GET")
		span.SetKind(ptrace.SpanKindServer)
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.scheme", "https")
		a.PutStr("url.path", "/open-banking/opendata-loans/v1/personal-loans")
		a.PutStr("url.query", "page=1&page-size=25")
		a.PutStr("server.address", "api.our-bank.example")
		a.PutInt("server.port", 443)
		a.PutStr("client.address", "198.51.100.23")
		a.PutStr("network.peer.address", "10.0.3.17")
		a.PutStr("user_agent.original", "Mozilla/5.0")
		a.PutStr("network.protocol.version", "2")
		a.PutInt("http.response.status_code", 200)
		a.PutInt("http.response.body.size", 20480)
	default:
		panic(flavour)
	}
	return td
}

var benchFlavours = []string{"client", "server", "opendata"}

// BenchmarkMapEncode is the exporter's per-span work: Map + Validate + AppendJSON into a reused
// buffer and a reused Report.
func BenchmarkMapEncode(b *testing.B) {
	m := newTestMapper(b)
	v := Validator{Catalog: DefaultCatalog()}
	for _, flavour := range benchFlavours {
		b.Run(flavour, func(b *testing.B) {
			td := benchTraces(flavour)
			rs := td.ResourceSpans().At(0)
			span := rs.ScopeSpans().At(0).Spans().At(0)
			var r Report
			buf := make([]byte, 0, 4096)
			now := time.Now()
			// Check once, outside the timed loop, that the benchmark measures a real report.
			if res := m.Map(rs.Resource(), span, &r); res.Outcome != OutcomeReport {
				b.Fatalf("%s: %+v", flavour, res)
			}
			if ps := v.Validate(&r, now); ps != nil {
				b.Fatalf("%s: %s", flavour, JoinProblems(ps))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m.Map(rs.Resource(), span, &r)
				if v.Validate(&r, now) != nil {
					b.Fatal("invalid")
				}
				buf = AppendJSON(buf[:0], &r)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkPtraceJSONMarshaler is the baseline: pdata's own JSON encoding of the same one-span
// Traces.
func BenchmarkPtraceJSONMarshaler(b *testing.B) {
	var marshaler ptrace.JSONMarshaler
	for _, flavour := range benchFlavours {
		b.Run(flavour, func(b *testing.B) {
			td := benchTraces(flavour)
			b.ReportAllocs()
			b.ResetTimer()
			var n int
			for b.Loop() {
				out, err := marshaler.MarshalTraces(td)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}
