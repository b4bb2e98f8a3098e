package demo

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// otlpSink is an in-process OTLP/HTTP receiver (protobuf, /v1/traces) that keeps every span
// as pdata: the exact form the collector's exporter will see.
type otlpSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	traces []ptrace.Traces
}

func newOTLPSink(t *testing.T) *otlpSink {
	t.Helper()
	s := &otlpSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = gz
		}
		data, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(data); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.traces = append(s.traces, req.Traces())
		s.mu.Unlock()
		resp, _ := ptraceotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// endpoint is host:port for otlptracehttp.WithEndpoint.
func (s *otlpSink) endpoint() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// sinkSpan is a span with its resource's service.name.
type sinkSpan struct {
	service string
	span    ptrace.Span
}

// spans returns every received span of the given trace.
func (s *otlpSink) spans(traceID string) []sinkSpan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sinkSpan
	for _, td := range s.traces {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			svc, _ := rs.Resource().Attributes().Get("service.name")
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				spans := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					if spans.At(k).TraceID().String() == traceID {
						out = append(out, sinkSpan{service: svc.Str(), span: spans.At(k)})
					}
				}
			}
		}
	}
	return out
}

// find returns the span of the given kind in the trace.
func (s *otlpSink) find(t *testing.T, traceID string, kind ptrace.SpanKind) sinkSpan {
	t.Helper()
	var found []sinkSpan
	for _, sp := range s.spans(traceID) {
		if sp.span.Kind() == kind {
			found = append(found, sp)
		}
	}
	if len(found) != 1 {
		t.Fatalf("trace %s: want 1 %s span, got %d", traceID, kind, len(found))
	}
	return found[0]
}

// strSlice reads a string-slice attribute; ok is false when it is absent. A plain string
// attribute fails the test: captured headers must be slices.
func strSlice(t *testing.T, attrs pcommon.Map, key string) ([]string, bool) {
	t.Helper()
	v, ok := attrs.Get(key)
	if !ok {
		return nil, false
	}
	if v.Type() != pcommon.ValueTypeSlice {
		t.Fatalf("attribute %s is %s, want a string slice", key, v.Type())
	}
	out := make([]string, v.Slice().Len())
	for i := range out {
		out[i] = v.Slice().At(i).Str()
	}
	return out, true
}
