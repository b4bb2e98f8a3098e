package pcmexporter

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

// hostileSpans returns spans with missing, wrong-typed, huge and malicious attribute values.
func hostileSpans() ptrace.Traces {
	huge := strings.Repeat("A", 100*1024)
	amps := "https://api.banco-b.example/open-banking/accounts/v2/accounts?" + strings.Repeat("a=1&", 5000)
	mutators := []func(a pcommon.Map){
		func(a pcommon.Map) {}, // nothing at all
		func(a pcommon.Map) { a.PutInt("http.request.method", 7) },
		func(a pcommon.Map) { a.PutStr("http.request.method", huge) },
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", huge)
		},
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", amps)
			a.PutStr("http.response.status_code", "two hundred")
		},
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", "https://api.banco-b.example/open-banking/accounts/v2/accounts/\xff\xfe/balances")
			a.PutInt("http.response.status_code", 200)
			a.PutStr("http.request.header.x-fapi-interaction-id", "not-a-uuid\x00\x1b[31m")
		},
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", accountsURL)
			a.PutDouble("http.response.status_code", 1e300)
			a.PutEmptyMap("http.request.header.x-fapi-interaction-id").PutStr("x", "y")
		},
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "POST")
			a.PutStr("url.full", accountsURL)
			a.PutInt("http.response.status_code", 200)
			a.PutStr("http.request.header.x-fapi-interaction-id", newUUID())
			a.PutStr("pcm.server_org_id", "\"; DROP TABLE reports; --")
			a.PutStr("pcm.additional_info.consentId", huge)
			a.PutEmptyBytes("pcm.additional_info.blob").FromRaw([]byte{0, 1, 2, 255})
		},
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", "https://api.banco-b.example/open-banking/accounts/v2/accounts")
			a.PutInt("http.response.status_code", 200)
			a.PutEmptySlice("http.request.header.x-fapi-interaction-id")
			a.PutStr("pcm.correlation_id", "line\nbreak\t\"quoted\"")
		},
		func(a pcommon.Map) {
			a.PutStr("http.method", "get")
			a.PutStr("http.url", "not a url at all %%%")
			a.PutInt("http.status_code", -5)
		},
		func(a pcommon.Map) {
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", accountsURL)
			a.PutInt("http.response.status_code", 200)
			a.PutStr("http.request.header.x-fapi-interaction-id", newUUID())
			a.PutStr("pcm.additional_info.note", "ok \u2028 \u0000 \xed\xa0\x80")
		},
	}
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for _, kind := range []ptrace.SpanKind{ptrace.SpanKindClient, ptrace.SpanKindServer} {
		for _, mutate := range mutators {
			s := spans.AppendEmpty()
			s.SetKind(kind)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(nowMinus(0)))
			s.SetEndTimestamp(s.StartTimestamp() - 1000) // ends before it starts
			mutate(s.Attributes())
			if kind == ptrace.SpanKindServer && s.Attributes().Len() > 1 {
				s.Attributes().PutStr("url.path", "/open-banking/consents/v3/consents/\x00%2e%2e/")
			}
		}
	}
	return td
}

// TestHostileInputIsReportedOrAccountedForNeverAPanic checks that every span of a hostile
// batch ends up delivered, invalid (dead-lettered with a reason) or skipped (counted).
func TestHostileInputIsReportedOrAccountedForNeverAPanic(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)
	td := hostileSpans()
	require.NotPanics(t, func() { _ = exp.pushTraces(context.Background(), td) })

	delivered := 0
	for _, items := range pcm.delivered() {
		delivered += len(items)
	}
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	for _, d := range dead {
		assert.NotEmpty(t, d.Reason)
	}
	sumOf := func(name string) int64 {
		m, err := tt.GetMetric(name)
		if err != nil {
			return 0
		}
		var n int64
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			n += dp.Value
		}
		return n
	}
	skipped := sumOf("otelcol_exporter_pcm_spans_skipped")
	reports := sumOf("otelcol_exporter_pcm_reports")
	assert.Equal(t, int64(td.SpanCount()), skipped+reports, "every span is a report or a counted skip")
	assert.Equal(t, len(dead)+delivered, int(reports), "every report was delivered or dead-lettered")
	// The batch has all three fates, so the sums above are not trivially equal.
	assert.Positive(t, delivered)
	assert.Positive(t, len(dead))
	assert.Positive(t, skipped)
}
