package pcmexporter

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/internal/metadata"
)

// leanPCM answers every report POST with ACCEPTED for each item, reusing its buffers, so
// that the benchmark measures the exporter, not the fake server.
type leanPCM struct {
	mu      sync.Mutex
	body    bytes.Buffer
	answers map[int][]byte
}

func (l *leanPCM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.body.Reset()
	_, _ = l.body.ReadFrom(r.Body)
	n := bytes.Count(l.body.Bytes(), []byte("}}")) // each report ends with its additionalInfo object
	out, ok := l.answers[n]
	if !ok {
		out = append(out, '[')
		for i := range n {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"reportId":"r-`...)
			out = strconv.AppendInt(out, int64(i), 10)
			out = append(out, `","status":"ACCEPTED"}`...)
		}
		out = append(out, ']')
		l.answers[n] = out
	}
	w.Header()["Content-Type"] = []string{"application/json"}
	_, _ = w.Write(out)
}

// benchSpans is 5,000 HTTP spans as a bank's gateway emits them: private CLIENT and SERVER
// calls and opendata SERVER calls.
func benchSpans() ptrace.Traces {
	specs := make([]spanSpec, 0, 5000)
	for i := range 5000 {
		switch i % 5 {
		case 0, 1, 2:
			specs = append(specs, clientCall("GET", accountsURL, 200))
		case 3:
			specs = append(specs, serverCall("POST", "/open-banking/consents/v3/consents", 201))
		default:
			specs = append(specs, spanSpec{kind: ptrace.SpanKindServer, method: "GET", path: "/open-banking/channels/v2/branches", status: 200, clientIP: "203.0.113.7"})
		}
	}
	return traces(specs...)
}

// BenchmarkPush5000 is one in-process push of 5,000 spans to a TLS fake PCM, mapping,
// encoding, POST and response parsing included. ns/span and B/span are per span.
func BenchmarkPush5000(b *testing.B) {
	pcm := newFakePCM(b)
	pcm.api.Config.Handler = &leanPCM{answers: map[int][]byte{}}
	cfg := pcm.config()
	cfg.DeadLetter.Path = ""
	exp, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(b, err)
	require.NoError(b, exp.start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, exp.shutdown(context.Background())) })
	td := benchSpans()
	require.NoError(b, benchPush(exp, td)) // token, connections
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := benchPush(exp, td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5000, "ns/span")
}

func benchPush(exp *pcmExporter, td ptrace.Traces) error {
	return exp.pushTraces(context.Background(), td)
}

// BenchmarkDoorSkip is the cost of a span that is not a report (internal, database,
// messaging) at the door: mapped, counted, dropped.
func BenchmarkDoorSkip(b *testing.B) {
	pcm := newFakePCM(b)
	cfg := pcm.config()
	cfg.DeadLetter.Path = ""
	exp, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(b, err)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := range 1000 {
		s := spans.AppendEmpty()
		s.SetName("span")
		switch i % 3 {
		case 0:
			s.SetKind(ptrace.SpanKindInternal)
			s.Attributes().PutStr("code.function", "handle")
		case 1:
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("db.system", "postgresql")
			s.Attributes().PutStr("db.query.text", "SELECT 1")
			s.Attributes().PutStr("server.address", "db.internal")
		default:
			s.SetKind(ptrace.SpanKindProducer)
			s.Attributes().PutStr("messaging.system", "kafka")
			s.Attributes().PutStr("messaging.destination.name", "payments")
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := exp.convert(context.Background(), td)
		if req.ItemsCount() != 0 {
			b.Fatal("a report")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/span")
}

// BenchmarkQueueBytes compares what the persistent queue stores per report with what it
// stored per span before reports were made at the door (OTLP proto with its context, as
// exporterhelper's traces encoding writes it).
func BenchmarkQueueBytes(b *testing.B) {
	pcm := newFakePCM(b)
	cfg := pcm.config()
	cfg.DeadLetter.Path = ""
	exp, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(b, err)
	for _, size := range []int{1, 100, 5000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			n := size
			td := ptrace.NewTraces()
			benchSpans().ResourceSpans().At(0).CopyTo(td.ResourceSpans().AppendEmpty())
			td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { n--; return n < 0 })
			spans := td.SpanCount()
			otlp, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
			require.NoError(b, err)
			var size int
			for b.Loop() {
				req, _ := exp.convert(context.Background(), td)
				data, err := queueEncoding{}.Marshal(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(len(otlp))/float64(spans), "otlp-bytes/span")
			b.ReportMetric(float64(size)/float64(spans), "queue-bytes/report")
		})
	}
}
