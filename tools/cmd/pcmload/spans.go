package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// The two Open Finance institutions of the benchmark. The collector belongs to banco A: its
// egress gateway calls banco B's APIs (CLIENT spans) and its API serves banco B's calls
// (SERVER spans).
const (
	orgA       = "a0a0a0a0-1111-4111-8111-0000000000a1"
	ssidA      = "a0a0a0a0-2222-4222-8222-0000000000a2"
	clientIDA  = "banco-a-pcm"
	orgB       = "b0b0b0b0-1111-4111-8111-0000000000b1"
	hostA      = "api.banco-a.com.br"
	hostB      = "api.banco-b.com.br" // counterparts.hosts key in testdata/bench/pcm.yaml
	fapiHeader = "x-fapi-interaction-id"
)

// call is an Open Finance API call: an endpoint template of PCM's list, a concrete query.
type call struct {
	method, template, query string
	status                  int // usual answer
}

// calls are the mix the generated spans are drawn from (CLIENT and SERVER alike).
var calls = []call{
	{"GET", "/open-banking/accounts/v2/accounts", "page=1&page-size=25", 200},
	{"GET", "/open-banking/accounts/v2/accounts/{accountId}/balances", "", 200},
	{"GET", "/open-banking/accounts/v2/accounts/{accountId}/transactions", "fromBookingDate=2025-10-01&toBookingDate=2025-10-31&creditDebitIndicator=DEBITO&page=1&page-size=100", 200},
	{"GET", "/open-banking/accounts/v2/accounts/{accountId}/transactions-current", "page=2&page-size=25", 200},
	{"GET", "/open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills", "fromDueDate=2025-06-01&toDueDate=2025-11-30", 200},
	{"GET", "/open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/limits", "", 200},
	{"GET", "/open-banking/customers/v2/personal/identifications", "", 200},
	{"GET", "/open-banking/resources/v3/resources", "page=1&page-size=100", 200},
	{"GET", "/open-banking/loans/v2/contracts/{contractId}/scheduled-instalments", "", 200},
	{"POST", "/open-banking/consents/v3/consents", "", 201},
	{"GET", "/open-banking/consents/v3/consents/{consentId}", "", 200},
	{"POST", "/open-banking/payments/v5/pix/payments", "", 201},
	{"GET", "/open-banking/payments/v5/pix/payments/{paymentId}", "", 200},
}

// idPlaceholderPrefix starts every x-fapi-interaction-id of a built payload; the 12 hex digits
// at the end of the id are rewritten before each send (payload.stamp).
const idPlaceholderPrefix = "fa91c0de-"

const uuidLen = 36

// payload is one pre-built OTLP/HTTP protobuf request whose x-fapi-interaction-ids can be
// refreshed in place: every span's ids are unique for each stamp without re-encoding.
type payload struct {
	body  []byte
	spans int
	// ids[j] are the offsets of the last 12 hex digits of span j's interaction id, once in
	// the request header attribute and once in the response header attribute.
	ids [][]int
}

// stamp gives every span of the payload a new interaction id that no other stamp with a
// different seq produces: the 48-bit id node is seq<<16 | span index.
func (p *payload) stamp(seq uint64) {
	var hex [12]byte
	for j, offs := range p.ids {
		formatHex48(&hex, seq<<16|uint64(j))
		for _, off := range offs {
			copy(p.body[off:off+12], hex[:])
		}
	}
}

func formatHex48(dst *[12]byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := 11; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

// spanKindOf alternates payloads between banco A's egress gateway (CLIENT spans) and its
// Open Finance API (SERVER spans), as two instrumented services export them.
func spanKindOf(i int) ptrace.SpanKind {
	if i%2 == 0 {
		return ptrace.SpanKindClient
	}
	return ptrace.SpanKindServer
}

// buildPayloads builds count payloads of n spans each, half CLIENT, half SERVER. Span times lie
// in the minute before base, so PCM accepts them for days.
func buildPayloads(count, n int, base time.Time, seed uint64) ([]*payload, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]*payload, 0, count)
	for i := range count {
		p, err := buildPayload(r, spanKindOf(i), n, base)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func buildPayload(r *rand.Rand, kind ptrace.SpanKind, n int, base time.Time) (*payload, error) {
	if n <= 0 || n > 1<<16 {
		return nil, fmt.Errorf("spans per request must be between 1 and 65536, got %d", n)
	}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	fillResource(rs.Resource(), r, kind)
	rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	ss.Scope().SetVersion("0.63.0")
	ss.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	// The middle of the ids is random per payload; the last 12 digits are the span index
	// until stamped.
	mid := fmt.Sprintf("%04x-4%03x-8%03x-", r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff)
	for j := range n {
		id := fmt.Sprintf("%s%s%012x", idPlaceholderPrefix, mid, j)
		fillSpan(ss.Spans().AppendEmpty(), r, kind, id, base)
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return nil, err
	}
	p := &payload{body: body, spans: n, ids: make([][]int, n)}
	prefix := []byte(idPlaceholderPrefix + mid)
	for off := 0; ; {
		i := bytes.Index(body[off:], prefix)
		if i < 0 {
			break
		}
		start := off + i
		off = start + len(prefix)
		if start+uuidLen > len(body) {
			continue
		}
		j, err := strconv.ParseUint(string(body[start+uuidLen-12:start+uuidLen]), 16, 64)
		if err != nil || j >= uint64(n) {
			continue
		}
		p.ids[j] = append(p.ids[j], start+uuidLen-12)
	}
	for j, offs := range p.ids {
		if len(offs) != 2 {
			return nil, fmt.Errorf("span %d: found its interaction id %d times in the encoded request, want 2", j, len(offs))
		}
	}
	return p, nil
}

func fillResource(res pcommon.Resource, r *rand.Rand, kind ptrace.SpanKind) {
	a := res.Attributes()
	if kind == ptrace.SpanKindClient {
		a.PutStr("service.name", "banco-a-open-finance-gateway")
		a.PutStr("service.version", "3.8.1")
	} else {
		a.PutStr("service.name", "banco-a-open-finance-api")
		a.PutStr("service.version", "2.14.3")
	}
	a.PutStr("service.namespace", "open-finance")
	a.PutStr("service.instance.id", randomUUID(r))
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("host.name", fmt.Sprintf("of-%s-%x", strings.ToLower(kind.String()), r.Uint32()))
	a.PutStr("k8s.namespace.name", "open-finance")
	a.PutStr("telemetry.sdk.name", "opentelemetry")
	a.PutStr("telemetry.sdk.language", "go")
	a.PutStr("telemetry.sdk.version", "1.47.0")
}

// fillSpan makes a span as otelhttp with header capture records it, with stable HTTP semantic
// conventions: CLIENT spans are banco A calling banco B (url.full with query), SERVER spans
// are banco B calling banco A (http.route, url.path, url.query, the caller's organisation).
func fillSpan(s ptrace.Span, r *rand.Rand, kind ptrace.SpanKind, interactionID string, base time.Time) {
	c := calls[r.IntN(len(calls))]
	path := expand(c.template, r)
	status := c.status
	switch x := r.IntN(100); {
	case x < 2:
		status = 404
	case x < 3:
		status = 422
	case x < 4:
		status = 500
	}
	var tid [16]byte
	var sid [8]byte
	fillRandom(r, tid[:])
	fillRandom(r, sid[:])
	s.SetTraceID(tid)
	s.SetSpanID(sid)
	s.SetKind(kind)
	dur := time.Duration(15+r.IntN(600))*time.Millisecond + time.Duration(r.IntN(1000))*time.Microsecond
	start := base.Add(-time.Duration(r.Int64N(int64(time.Minute)))).Add(-dur)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(dur)))
	if status >= 500 {
		s.Status().SetCode(ptrace.StatusCodeError)
	}

	a := s.Attributes()
	a.PutStr("http.request.method", c.method)
	a.PutInt("http.response.status_code", int64(status))
	a.PutStr("network.protocol.version", "1.1")
	a.PutEmptySlice("http.request.header." + fapiHeader).AppendEmpty().SetStr(interactionID)
	a.PutEmptySlice("http.response.header." + fapiHeader).AppendEmpty().SetStr(interactionID)
	a.PutEmptySlice("http.request.header.x-fapi-auth-date").AppendEmpty().SetStr("Tue, 25 Nov 2025 14:03:11 GMT")
	a.PutEmptySlice("http.response.header.content-type").AppendEmpty().SetStr("application/json; charset=utf-8")

	if kind == ptrace.SpanKindClient {
		var sid2 [8]byte
		fillRandom(r, sid2[:])
		s.SetParentSpanID(sid2)
		s.SetName(c.method)
		u := "https://" + hostB + path
		if c.query != "" {
			u += "?" + c.query
		}
		a.PutStr("url.full", u)
		a.PutStr("server.address", hostB)
		a.PutInt("server.port", 443)
		a.PutStr("network.peer.address", fmt.Sprintf("200.155.%d.%d", r.IntN(256), 1+r.IntN(254)))
		if strings.Contains(c.template, "consent") || strings.Contains(c.template, "payments") {
			a.PutStr("pcm.additional_info.consentId", fmt.Sprintf("urn:bancoa:C1DD%08X", r.Uint32()))
		}
		return
	}
	s.SetName(c.method + " " + c.template)
	var parent [8]byte // remote parent: banco B's CLIENT span
	fillRandom(r, parent[:])
	s.SetParentSpanID(parent)
	a.PutStr("http.route", c.template)
	a.PutStr("url.scheme", "https")
	a.PutStr("url.path", path)
	if c.query != "" {
		a.PutStr("url.query", c.query)
	}
	a.PutStr("server.address", hostA)
	a.PutInt("server.port", 443)
	a.PutStr("client.address", fmt.Sprintf("189.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	a.PutStr("user_agent.original", "banco-b-open-finance-client/5.2.0 (+https://www.banco-b.com.br)")
	a.PutEmptySlice("http.request.header.x-fapi-customer-ip-address").AppendEmpty().SetStr(fmt.Sprintf("177.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)))
	a.PutStr("pcm.client_org_id", orgB)
}

// expand fills each {param} of an endpoint template with a resource id.
func expand(template string, r *rand.Rand) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			b.WriteString(template)
			return b.String()
		}
		j := strings.IndexByte(template[i:], '}')
		b.WriteString(template[:i])
		b.WriteString(randomUUID(r))
		template = template[i+j+1:]
	}
}

func randomUUID(r *rand.Rand) string {
	var b [16]byte
	fillRandom(r, b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func fillRandom(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}
