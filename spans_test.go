package pcmexporter

import (
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// spanSpec is the little a test needs to say about one HTTP span.
type spanSpec struct {
	kind          ptrace.SpanKind
	method        string
	url           string // CLIENT: url.full
	path          string // SERVER: url.path
	status        int    // 0: none
	interactionID string
	clientOrg     string // SERVER: pcm.client_org_id
	serverOrg     string // CLIENT: pcm.server_org_id
	callerID      string // SERVER: pcm.caller_id
	clientIP      string
	errorType     string
	duration      time.Duration
	age           time.Duration // how long ago the call started; default one minute
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

// traces puts every span into one resource and scope, started a minute ago.
func traces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "banco-a-api")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	spans.EnsureCapacity(len(specs))
	for i, s := range specs {
		start := time.Now().Add(-time.Minute)
		if s.age != 0 {
			start = time.Now().Add(-s.age)
		}
		span := spans.AppendEmpty()
		var tid [16]byte
		var sid [8]byte
		_, _ = rand.Read(tid[:])
		_, _ = rand.Read(sid[:])
		span.SetTraceID(tid)
		span.SetSpanID(sid)
		span.SetName(fmt.Sprintf("%s %d", s.method, i))
		span.SetKind(s.kind)
		d := s.duration
		if d == 0 {
			d = 42 * time.Millisecond
		}
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(d)))
		a := span.Attributes()
		if s.method != "" {
			a.PutStr("http.request.method", s.method)
		}
		if s.url != "" {
			a.PutStr("url.full", s.url)
		}
		if s.path != "" {
			a.PutStr("url.path", s.path)
			a.PutStr("url.scheme", "https")
		}
		if s.status != 0 {
			a.PutInt("http.response.status_code", int64(s.status))
		}
		if s.interactionID != "" {
			a.PutEmptySlice("http.request.header.x-fapi-interaction-id").AppendEmpty().SetStr(s.interactionID)
		}
		if s.clientOrg != "" {
			a.PutStr("pcm.client_org_id", s.clientOrg)
		}
		if s.serverOrg != "" {
			a.PutStr("pcm.server_org_id", s.serverOrg)
		}
		if s.callerID != "" {
			a.PutStr("pcm.caller_id", s.callerID)
		}
		if s.clientIP != "" {
			a.PutStr("client.address", s.clientIP)
		}
		if s.errorType != "" {
			a.PutStr("error.type", s.errorType)
		}
		for k, v := range s.attrs {
			a.PutStr(k, v)
		}
	}
	return td
}

func readFile(t interface{ Fatal(...any) }, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func toString(v any) string { return fmt.Sprint(v) }

func nowMinus(d time.Duration) time.Time { return time.Now().Add(-d) }
