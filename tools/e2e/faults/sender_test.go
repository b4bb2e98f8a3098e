//go:build e2e

package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

// sender is a minimal OTLP/HTTP client: it POSTs protobuf ExportTraceServiceRequests of
// CLIENT spans (stable HTTP semantic conventions, one fresh x-fapi-interaction-id each) to the
// collector's receiver and remembers which spans the collector accepted (answered 2xx) and
// which it may or may not have taken (no answer, or an error).
type sender struct {
	url    string
	client *http.Client

	mu          sync.Mutex
	accepted    []string        // fapiInteractionIds (lower case) of spans answered 2xx, in order
	unconfirmed map[string]bool // spans whose POST got no 2xx (the collector may still have them)
	requestOf   map[string]int  // span → index of the request it was sent in
	requests    [][]string      // the spans of every request, in order
	posts       int
	failedPosts int

	bgMu   sync.Mutex
	bgStop chan struct{}
	bgDone chan struct{}
}

func newSender(otlpHostPort string) *sender {
	return &sender{
		url:         "http://" + otlpHostPort + "/v1/traces",
		client:      &http.Client{Timeout: 5 * time.Second},
		unconfirmed: map[string]bool{},
		requestOf:   map[string]int{},
	}
}

// post sends one request of n spans; it reports whether the collector accepted it.
func (s *sender) post(ctx context.Context, n int) bool {
	return s.postAged(ctx, n, 0)
}

// postAged is post for calls that ended age ago.
func (s *sender) postAged(ctx context.Context, n int, age time.Duration) bool {
	td, ids := clientSpans(n, time.Now().Add(-age))
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		panic(err) // a bug in the test
	}
	ok := s.do(ctx, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts++
	for _, id := range ids {
		s.requestOf[id] = len(s.requests)
	}
	s.requests = append(s.requests, ids)
	if ok {
		s.accepted = append(s.accepted, ids...)
		return true
	}
	s.failedPosts++
	for _, id := range ids {
		s.unconfirmed[id] = true
	}
	return false
}

// do POSTs one request; true when the receiver answered 2xx.
func (s *sender) do(ctx context.Context, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode/100 == 2
}

// startBackground posts n spans every interval until stopBackground.
func (s *sender) startBackground(interval time.Duration, n int) {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.bgStop != nil {
		panic("sender: background traffic already running")
	}
	stop, done := make(chan struct{}), make(chan struct{})
	s.bgStop, s.bgDone = stop, done
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.post(ctx, n)
			cancel()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
}

// stopBackground stops the background traffic and waits for its last POST.
func (s *sender) stopBackground() {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.bgStop == nil {
		return
	}
	close(s.bgStop)
	<-s.bgDone
	s.bgStop, s.bgDone = nil, nil
}

// acceptedIDs are the spans the collector accepted, in order.
func (s *sender) acceptedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

// sentIDs are all spans ever sent, accepted or not.
func (s *sender) sentIDs() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.accepted)+len(s.unconfirmed))
	for _, id := range s.accepted {
		out[id] = true
	}
	for id := range s.unconfirmed {
		out[id] = true
	}
	return out
}

// sameRequest returns the spans sent in the same request as span id (id included).
func (s *sender) sameRequest(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.requestOf[id]
	if !ok {
		return nil
	}
	return s.requests[i]
}

// counts are the numbers of POSTs, failed POSTs and accepted and unconfirmed spans.
func (s *sender) counts() (posts, failed, accepted, unconfirmed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts, s.failedPosts, len(s.accepted), len(s.unconfirmed)
}

// postUnlisted sends one CLIENT span calling an Open Finance path PCM's catalog does not list
// (the exporter dead-letters it as unlisted_endpoint); it reports whether the collector took it.
func (s *sender) postUnlisted(ctx context.Context) bool {
	td, _ := clientSpans(1, time.Now())
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().
		PutStr("url.full", "https://"+counterpartHost+"/open-banking/unlisted/v1/things")
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		panic(err) // a bug in the test
	}
	return s.do(ctx, body)
}

// clientSpans builds n CLIENT spans, ending at end, of one institution calling the
// counterpart's balances API, as an instrumentation with header capture records them, and
// returns their interaction ids.
func clientSpans(n int, end time.Time) (ptrace.Traces, []string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "faults-test-client")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("github.com/pcm-otel/pcmexporter/e2e/faults")
	ids := make([]string, 0, n)
	for range n {
		id := strings.ToLower(demo.NewInteractionID())
		ids = append(ids, id)
		span := ss.Spans().AppendEmpty()
		span.SetTraceID(randomTraceID())
		span.SetSpanID(randomSpanID())
		span.SetName("GET")
		span.SetKind(ptrace.SpanKindClient)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-35 * time.Millisecond)))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		a := span.Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.full", "https://"+counterpartHost+balancesPath)
		a.PutInt("http.response.status_code", 200)
		a.PutEmptySlice("http.request.header.x-fapi-interaction-id").AppendEmpty().SetStr(id)
	}
	return td, ids
}

func randomTraceID() pcommon.TraceID {
	var id pcommon.TraceID
	_, _ = rand.Read(id[:])
	return id
}

func randomSpanID() pcommon.SpanID {
	var id pcommon.SpanID
	_, _ = rand.Read(id[:])
	return id
}
