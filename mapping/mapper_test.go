package mapping

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const (
	bankC   = "c0ffee00-1111-4222-8333-444455556666"
	bankD   = "d00dfeed-1111-4222-8333-444455556666"
	asOrg   = "a5a5a5a5-1111-4222-8333-444455556666"
	accPath = "/open-banking/accounts/v2/accounts/92792126019929279212650822221989319252576/transactions"
	accTmpl = "/open-banking/accounts/v2/accounts/{accountId}/transactions"
	conTmpl = "/open-banking/consents/v3/consents/{consentId}"
	conPath = "/open-banking/consents/v3/consents/urn:bancoa:C1DD33123"
	odTmpl  = "/open-banking/opendata-loans/v1/personal-loans"
	bankURL = "https://api.banco-b.example/opbk"
)

// wantClient is the CLIENT report clientAttrs(url) produces, adjusted by mods.
func wantClient(endpoint, prefix string, mods ...func(*Report)) *Report {
	r := &Report{
		API: APIPrivate, Role: RoleClient, FapiInteractionID: fapiID, Endpoint: endpoint,
		StatusCode: 200, HTTPMethod: "GET", ClientOrgID: ourOrg, ServerOrgID: bankB,
		ClientSSID: ourSS, EndpointURIPrefix: prefix, CorrelationID: traceIDHex,
		Timestamp: testStart, ProcessTimespan: 153,
	}
	for _, m := range mods {
		m(r)
	}
	return r
}

// wantServer is the SERVER report serverAttrs(path) produces, adjusted by mods.
func wantServer(endpoint string, mods ...func(*Report)) *Report {
	r := &Report{
		API: APIPrivate, Role: RoleServer, FapiInteractionID: fapiID, Endpoint: endpoint,
		StatusCode: 200, HTTPMethod: "GET", ClientOrgID: callerOrg, ServerOrgID: ourOrg,
		Timestamp: testStart, ProcessTimespan: 153,
	}
	for _, m := range mods {
		m(r)
	}
	return r
}

func wantOpendata(endpoint, clientIP string, mods ...func(*Report)) *Report {
	r := &Report{
		API: APIOpendata, Endpoint: endpoint, StatusCode: 200, HTTPMethod: "GET",
		Timestamp: testStart, ProcessTimespan: 153, ClientIP: clientIP,
	}
	for _, m := range mods {
		m(r)
	}
	return r
}

type mapCase struct {
	name   string
	kind   ptrace.SpanKind
	res    map[string]any // resource attributes
	attrs  map[string]any
	opts   []spanOpt
	cfg    func(*Config)
	result Result
	want   *Report        // compared without AdditionalInfo, for reports and unlisted results
	info   map[string]any // expected additionalInfo (nil = empty)
}

var (
	report   = Result{Outcome: OutcomeReport}
	unlisted = Result{Outcome: OutcomeUnlisted}
)

func skip(r SkipReason) Result { return Result{Outcome: OutcomeSkipped, SkipReason: r} }

func runMapCases(t *testing.T, cases []mapCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(*Config)
			if tc.cfg != nil {
				mods = append(mods, tc.cfg)
			}
			m := newTestMapper(t, mods...)
			resource, span := mkSpanRes(t, tc.kind, tc.res, tc.attrs, tc.opts...)
			var out Report
			got := m.Map(resource, span, &out)
			require.Equal(t, tc.result, got)
			if tc.result.Outcome == OutcomeSkipped {
				return
			}
			require.NotNil(t, tc.want, "case must say what it expects")
			info := map[string]any{}
			for _, f := range out.AdditionalInfo {
				info[f.Key] = f.Value.AsRaw()
			}
			wantInfo := tc.info
			if wantInfo == nil {
				wantInfo = map[string]any{}
			}
			assert.Equal(t, wantInfo, info, "additionalInfo")
			out.AdditionalInfo = nil
			assert.Equal(t, *tc.want, out)
			assert.True(t, tc.want.Timestamp.Equal(out.Timestamp))
		})
	}
}

func TestMapClient(t *testing.T) {
	url := bankURL + accPath + "?fromBookingDate=2026-03-01&page=2"
	runMapCases(t, []mapCase{
		{
			name: "stable semconv, headers as arrays, url.full with query and prefix",
			kind: ptrace.SpanKindClient, attrs: clientAttrs(url),
			result: report, want: wantClient(accTmpl, bankURL),
		},
		{
			name: "legacy semconv, header as string",
			kind: ptrace.SpanKindClient,
			attrs: map[string]any{
				"http.method": "GET", "http.url": url, "http.status_code": 200, "net.peer.name": bankBHost,
				"http.request.header.x-fapi-interaction-id": fapiID,
			},
			result: report, want: wantClient(accTmpl, bankURL),
		},
		{
			name: "stable attribute wins over legacy",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.method": "POST", "http.status_code": 500, "http.url": "https://other.example/open-banking/resources/v3/resources",
			}),
			result: report, want: wantClient(accTmpl, bankURL),
		},
		{
			name: "status code as a string",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": "201"}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 201 }),
		},
		{
			name: "status code as an integral double",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": 422.0}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 422 }),
		},
		{
			name: "invalid stable status falls back to legacy",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": "n/a", "http.status_code": 204}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 204 }),
		},
		{
			name: "status above 599 is reported (Validate rejects it)",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": 600}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 600 }),
		},
		{
			name: "lower-case method",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.request.method": "post"}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.HTTPMethod = "POST" }),
		},
		{
			name: "comma-joined header takes the first value",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id":  []any{"", " " + fapiID + " , " + fapiID2},
				"http.response.header.x-fapi-interaction-id": nil,
			}),
			result: report, want: wantClient(accTmpl, bankURL),
		},
		{
			name: "response header when the request had none",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id":  nil,
				"http.response.header.x-fapi-interaction-id": []any{fapiID2},
			}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.FapiInteractionID = fapiID2 }),
		},
		{
			name: "invalid request header, valid response header",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id":  []any{"not-a-uuid"},
				"http.response.header.x-fapi-interaction-id": []any{fapiID2},
			}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.FapiInteractionID = fapiID2 }),
		},
		{
			name: "no valid header keeps the first value present",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id":  []any{"not-a-uuid"},
				"http.response.header.x-fapi-interaction-id": "also-bad",
			}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.FapiInteractionID = "not-a-uuid" }),
		},
		{
			name: "header of a wrong type is ignored",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id":  12345,
				"http.response.header.x-fapi-interaction-id": []any{42, fapiID2},
			}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.FapiInteractionID = fapiID2 }),
		},
		{
			name: "no header: omitted, never generated",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
			}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.FapiInteractionID = "" }),
		},
		{
			name: "no prefix before /open-banking",
			kind: ptrace.SpanKindClient, attrs: clientAttrs("https://api.banco-b.example" + accPath),
			result: report, want: wantClient(accTmpl, "https://api.banco-b.example"),
		},
		{
			name: "port in the URL and host:port lookup",
			kind: ptrace.SpanKindClient, attrs: clientAttrs("https://API.Bank-C.example:8443/api/open-banking/resources/v3/resources/"),
			cfg: func(c *Config) {
				c.Hosts = map[string]string{"api.bank-c.example:8443": bankC, "api.bank-c.example": bankD}
			},
			result: report,
			want: wantClient("/open-banking/resources/v3/resources", "https://API.Bank-C.example:8443/api",
				func(r *Report) { r.ServerOrgID = bankC }),
		},
		{
			name: "host without port falls back to the bare host entry",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs("https://api.bank-c.example/open-banking/resources/v3/resources"), map[string]any{"server.address": "api.bank-c.example"}),
			cfg: func(c *Config) {
				c.Hosts = map[string]string{"api.bank-c.example:8443": bankC, "api.bank-c.example": bankD}
			},
			result: report,
			want: wantClient("/open-banking/resources/v3/resources", "https://api.bank-c.example",
				func(r *Report) { r.ServerOrgID = bankD }),
		},
		{
			name: "hosts entry with the default port matches a URL without one",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs("https://api.bank-c.example/open-banking/resources/v3/resources"), map[string]any{"server.port": nil}),
			cfg:    func(c *Config) { c.Hosts = map[string]string{"API.bank-c.example:443": bankC} },
			result: report,
			want: wantClient("/open-banking/resources/v3/resources", "https://api.bank-c.example",
				func(r *Report) { r.ServerOrgID = bankC }),
		},
		{
			name: "redacted userinfo is not part of the prefix",
			kind: ptrace.SpanKindClient, attrs: clientAttrs("https://REDACTED:REDACTED@api.banco-b.example/opbk" + accPath),
			result: report, want: wantClient(accTmpl, bankURL),
		},
		{
			name: "no url.full: URL rebuilt from url.scheme, server.address, server.port, url.path",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(""), map[string]any{
				"url.full": nil, "url.scheme": "https", "server.port": 8443, "url.path": "/opbk" + accPath,
			}),
			result: report, want: wantClient(accTmpl, "https://api.banco-b.example:8443/opbk"),
		},
		{
			name:   "url.full that is only a path: prefix rebuilt from server.address",
			kind:   ptrace.SpanKindClient,
			attrs:  merge(clientAttrs("/opbk"+accPath+"?x=1"), map[string]any{"url.scheme": "http", "server.port": 8080}),
			result: report, want: wantClient(accTmpl, "http://api.banco-b.example:8080/opbk"),
		},
		{
			name: "no url.full, legacy parts: http.scheme, net.peer.name, net.peer.port, http.target",
			kind: ptrace.SpanKindClient,
			attrs: map[string]any{
				"http.method": "GET", "http.status_code": 200, "http.scheme": "https", "net.peer.name": bankBHost,
				"net.peer.port": 443, "http.target": "/opbk" + accPath + "?page=1",
				"http.request.header.x-fapi-interaction-id": fapiID,
			},
			result: report, want: wantClient(accTmpl, bankURL),
		},
		{
			name: "serverOrgId attribute wins over hosts",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"pcm.server_org_id": bankC}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.ServerOrgID = bankC }),
		},
		{
			name: "resource attributes as fallback for pcm.* attributes",
			kind: ptrace.SpanKindClient,
			res: map[string]any{
				"pcm.server_org_id": bankC, "pcm.client_ss_id": "11111111-2222-4333-8444-555555555555",
				"pcm.correlation_id": "journey-42",
			},
			attrs:  clientAttrs(url),
			result: report,
			want: wantClient(accTmpl, bankURL, func(r *Report) {
				r.ServerOrgID = bankC
				r.ClientSSID = "11111111-2222-4333-8444-555555555555"
				r.CorrelationID = "journey-42"
			}),
		},
		{
			name:   "span attributes win over resource attributes",
			kind:   ptrace.SpanKindClient,
			res:    map[string]any{"pcm.client_ss_id": "11111111-2222-4333-8444-555555555555"},
			attrs:  merge(clientAttrs(url), map[string]any{"pcm.client_ss_id": "99999999-2222-4333-8444-555555555555"}),
			result: report,
			want:   wantClient(accTmpl, bankURL, func(r *Report) { r.ClientSSID = "99999999-2222-4333-8444-555555555555" }),
		},
		{
			name: "unknown counterpart on an Open Finance path is still reported",
			kind: ptrace.SpanKindClient, attrs: clientAttrs("https://unknown.example/open-banking/resources/v3/resources"),
			result: report,
			want: wantClient("/open-banking/resources/v3/resources", "https://unknown.example",
				func(r *Report) { r.ServerOrgID = "" }),
		},
		{
			name: "empty trace id: correlationId omitted",
			kind: ptrace.SpanKindClient, attrs: clientAttrs(url), opts: []spanOpt{withTraceID(pcommon.TraceID{})},
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.CorrelationID = "" }),
		},
		{
			name: "payments v4 is unlisted: dead-letter material",
			kind: ptrace.SpanKindClient, attrs: clientAttrs(bankURL + "/open-banking/payments/v4/pix/payments/?x=1"),
			result: unlisted,
			want:   wantClient("/open-banking/payments/v4/pix/payments", bankURL),
		},
		{
			name: "opendata called as a client",
			kind: ptrace.SpanKindClient, attrs: clientAttrs(bankURL + "/open-banking/opendata-loans/v1/personal-loans"),
			result: skip(SkipOpendataClient),
		},
		{
			name: "health check", kind: ptrace.SpanKindClient, attrs: clientAttrs("https://api.banco-b.example/healthz"),
			result: skip(SkipNotOpenFinance),
		},
		{
			name: "no URL at all", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(""), map[string]any{"url.full": nil}),
			result: skip(SkipNotOpenFinance),
		},
		{name: "HEAD", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.request.method": "HEAD"}), result: skip(SkipMethod)},
		{name: "OPTIONS", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.request.method": "OPTIONS"}), result: skip(SkipMethod)},
		{name: "_OTHER", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.request.method": "_OTHER", "http.request.method_original": "PROPFIND"}), result: skip(SkipMethod)},
		{name: "no method", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.request.method": nil}), result: skip(SkipNotHTTP)},
		{name: "method of a wrong type", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.request.method": 1}), result: skip(SkipNotHTTP)},
		{name: "internal span", kind: ptrace.SpanKindInternal, attrs: clientAttrs(url), result: skip(SkipSpanKind)},
		{name: "producer span", kind: ptrace.SpanKindProducer, attrs: clientAttrs(url), result: skip(SkipSpanKind)},
		{name: "consumer span", kind: ptrace.SpanKindConsumer, attrs: clientAttrs(url), result: skip(SkipSpanKind)},
		{name: "unspecified kind", kind: ptrace.SpanKindUnspecified, attrs: clientAttrs(url), result: skip(SkipSpanKind)},
		{
			name: "no status, failed", kind: ptrace.SpanKindClient,
			attrs:  merge(clientAttrs(url), map[string]any{"http.response.status_code": nil, "error.type": "java.net.ConnectException"}),
			result: skip(SkipNoStatus),
		},
		{name: "status 0 counts as none", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": 0}), result: skip(SkipNoStatus)},
		{name: "1xx", kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": 101}), result: skip(SkipNoStatus)},
		{
			name: "connection refused is not a timeout",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": nil, "error.type": "java.net.ConnectException"}),
			opts: []spanOpt{withStatusMessage("Connection refused")}, result: skip(SkipNoStatus),
		},
		{
			name: "error.type 404 with status 404 reports 404",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": 404, "error.type": "404"}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 404 }),
		},
		{
			name: "a status code wins over a timeout-looking error.type",
			kind: ptrace.SpanKindClient, attrs: merge(clientAttrs(url), map[string]any{"http.response.status_code": 504, "error.type": "timeout"}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.StatusCode = 504 }),
		},
		{
			name: "custom attribute names",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{
				"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
				"app.fapi_id": fapiID2, "app.counterpart": bankC, "app.ssid": "11111111-2222-4333-8444-555555555555",
				"app.journey": "j-1", "pcm.server_org_id": bankD,
			}),
			cfg: func(c *Config) {
				c.Attributes = AttributeNames{
					InteractionID: []string{"", "app.fapi_id"}, ServerOrgID: "app.counterpart",
					ClientSSID: "app.ssid", CorrelationID: "app.journey",
				}
			},
			result: report,
			want: wantClient(accTmpl, bankURL, func(r *Report) {
				r.FapiInteractionID = fapiID2
				r.ServerOrgID = bankC
				r.ClientSSID = "11111111-2222-4333-8444-555555555555"
				r.CorrelationID = "j-1"
			}),
		},
		{
			name:  "one attribute configured for both counterpart roles",
			kind:  ptrace.SpanKindClient,
			attrs: merge(clientAttrs(url), map[string]any{"app.counterpart_org": bankC}),
			cfg: func(c *Config) {
				c.Attributes = AttributeNames{ServerOrgID: "app.counterpart_org", ClientOrgID: "app.counterpart_org"}
			},
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.ServerOrgID = bankC }),
		},
		{
			name:   "pcm attribute as a captured header array",
			kind:   ptrace.SpanKindClient,
			attrs:  merge(clientAttrs(url), map[string]any{"pcm.server_org_id": []any{"", bankC}}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.ServerOrgID = bankC }),
		},
		{
			name:   "pcm attribute of a wrong type keeps its text for Validate",
			kind:   ptrace.SpanKindClient,
			attrs:  merge(clientAttrs(url), map[string]any{"pcm.client_ss_id": 12}),
			result: report, want: wantClient(accTmpl, bankURL, func(r *Report) { r.ClientSSID = "12" }),
		},
	})
}

func TestMapClientTimeouts(t *testing.T) {
	url := bankURL + accPath
	noStatus := merge(clientAttrs(url), map[string]any{"http.response.status_code": nil})
	timedOut := func(mods ...func(*Report)) *Report {
		return wantClient(accTmpl, bankURL, append([]func(*Report){func(r *Report) { r.StatusCode = 408 }}, mods...)...)
	}
	cases := []mapCase{
		{name: "Java SocketTimeoutException", attrs: merge(noStatus, map[string]any{"error.type": "java.net.SocketTimeoutException"})},
		{name: "Java HttpTimeoutException", attrs: merge(noStatus, map[string]any{"error.type": "java.net.http.HttpTimeoutException"})},
		{name: ".NET TaskCanceledException", attrs: merge(noStatus, map[string]any{"error.type": "System.Threading.Tasks.TaskCanceledException"})},
		{name: "Go context deadline exceeded", attrs: merge(noStatus, map[string]any{"error.type": "context deadline exceeded"})},
		{name: "Go context canceled", attrs: merge(noStatus, map[string]any{"error.type": "context canceled"})},
		{name: "semconv timeout", attrs: merge(noStatus, map[string]any{"error.type": "timeout"})},
		{
			name:  "Go otelhttp: *url.Error with Client.Timeout in the status message",
			attrs: merge(noStatus, map[string]any{"error.type": "*url.Error"}),
			opts:  []spanOpt{withStatusMessage(`Get "https://api.banco-b.example/x": net/http: request canceled (Client.Timeout exceeded while awaiting headers)`)},
		},
		{name: "status message only", attrs: noStatus, opts: []spanOpt{withStatusMessage("Deadline Exceeded")}},
		{name: "exception event type", attrs: noStatus, opts: []spanOpt{withException("java.net.SocketTimeoutException", "")}},
		{name: "exception event message", attrs: noStatus, opts: []spanOpt{withException("java.io.IOException", "Read timed out")}},
		{name: "Node ETIMEDOUT", attrs: noStatus, opts: []spanOpt{withException("Error", "connect ETIMEDOUT 10.0.0.1:443")}},
		{name: "1xx then timeout", attrs: merge(noStatus, map[string]any{"http.response.status_code": 100, "error.type": "timeout"})},
		{
			name: "legacy semconv timeout",
			attrs: map[string]any{
				"http.method": "GET", "http.url": url, "net.peer.name": bankBHost,
				"http.request.header.x-fapi-interaction-id": fapiID,
			},
			opts: []spanOpt{withException("System.Threading.Tasks.TaskCanceledException", "The request was canceled due to the configured HttpClient.Timeout of 15 seconds elapsing.")},
		},
	}
	for i := range cases {
		cases[i].kind = ptrace.SpanKindClient
		cases[i].result = report
		cases[i].want = timedOut()
	}
	cases = append(cases,
		mapCase{
			name: "processTimespan is the time waited", kind: ptrace.SpanKindClient,
			attrs: merge(noStatus, map[string]any{"error.type": "timeout"}), opts: []spanOpt{withDuration(15 * time.Second)},
			result: report, want: timedOut(func(r *Report) { r.ProcessTimespan = 15000 }),
		},
		mapCase{
			name: "exception event of another name does not count", kind: ptrace.SpanKindClient,
			attrs: merge(noStatus, map[string]any{"error.type": "java.net.ConnectException"}),
			opts: []spanOpt{func(s ptrace.Span) {
				ev := s.Events().AppendEmpty()
				ev.SetName("log")
				ev.Attributes().PutStr("exception.type", "timeout")
			}},
			result: skip(SkipNoStatus),
		},
		mapCase{
			name: "a SERVER span without status is never a 408", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(conPath), map[string]any{"http.response.status_code": nil, "error.type": "timeout"}),
			result: skip(SkipNoStatus),
		},
	)
	runMapCases(t, cases)
}

func TestMapSecurityEndpoints(t *testing.T) {
	asHost := "oauth2.cartaodummy.opf.instituicao"
	asHosts := func(c *Config) { c.Hosts = map[string]string{asHost: asOrg, bankBHost: bankB} }
	client := func(url string) map[string]any {
		return merge(clientAttrs(url), map[string]any{"http.request.method": "POST", "server.address": asHost})
	}
	wantSec := func(endpoint, prefix string, mods ...func(*Report)) *Report {
		return wantClient(endpoint, prefix, append([]func(*Report){func(r *Report) {
			r.HTTPMethod = "POST"
			r.ServerOrgID = asOrg
		}}, mods...)...)
	}
	runMapCases(t, []mapCase{
		{
			name: "PingFederate token endpoint", kind: ptrace.SpanKindClient, cfg: asHosts,
			attrs:  client("https://" + asHost + "/as/token.oauth2?grant_type=client_credentials"),
			result: report, want: wantSec("/token", "https://"+asHost+"/as/token.oauth2"),
		},
		{
			name: "token endpoint with a trailing slash", kind: ptrace.SpanKindClient, cfg: asHosts,
			attrs:  client("https://" + asHost + "/auth/realms/ob/protocol/openid-connect/token/"),
			result: report, want: wantSec("/token", "https://"+asHost+"/auth/realms/ob/protocol/openid-connect/token/"),
		},
		{
			name: "registration with client id", kind: ptrace.SpanKindClient, cfg: asHosts,
			attrs:  merge(client("https://"+asHost+"/connect/register/6f1e2d3c"), map[string]any{"http.request.method": "PUT"}),
			result: report, want: wantSec("/register/{clientId}", "https://"+asHost+"/connect/register/6f1e2d3c", func(r *Report) { r.HTTPMethod = "PUT" }),
		},
		{
			name: "registration on /reg (Manual example https://instituicao.com.br/orgs/instituicao/reg)", kind: ptrace.SpanKindClient,
			cfg:    func(c *Config) { c.Hosts = map[string]string{"instituicao.com.br": asOrg} },
			attrs:  merge(client("https://instituicao.com.br/orgs/instituicao/reg"), map[string]any{"server.address": "instituicao.com.br"}),
			result: report, want: wantSec("/register", "https://instituicao.com.br/orgs/instituicao/reg"),
		},
		{name: "PAR short name", kind: ptrace.SpanKindClient, cfg: asHosts, attrs: client("https://" + asHost + "/oidc/par"),
			result: report, want: wantSec("/pushed-authorization-request", "https://"+asHost+"/oidc/par")},
		{name: "revoke", kind: ptrace.SpanKindClient, cfg: asHosts, attrs: client("https://" + asHost + "/oauth2/revoke"),
			result: report, want: wantSec("/revocation", "https://"+asHost+"/oauth2/revoke")},
		{name: "Keycloak introspect under /token/", kind: ptrace.SpanKindClient, cfg: asHosts,
			attrs:  client("https://" + asHost + "/realms/ob/protocol/openid-connect/token/introspect"),
			result: report, want: wantSec("/introspection", "https://"+asHost+"/realms/ob/protocol/openid-connect/token/introspect")},
		{name: "bare template path", kind: ptrace.SpanKindClient, cfg: asHosts, attrs: client("https://" + asHost + "/token"),
			result: report, want: wantSec("/token", "https://"+asHost+"/token")},
		{
			name: "custom rule", kind: ptrace.SpanKindClient,
			cfg: func(c *Config) {
				asHosts(c)
				c.SecurityRules = map[string]string{"/oauth/v2/access-token": "/token", "/dcr/clients/{clientId}/config": "/register/{clientId}"}
			},
			attrs:  client("https://" + asHost + "/api/oauth/v2/access-token"),
			result: report, want: wantSec("/token", "https://"+asHost+"/api/oauth/v2/access-token"),
		},
		{
			name: "custom rule with a param", kind: ptrace.SpanKindClient,
			cfg: func(c *Config) {
				asHosts(c)
				c.SecurityRules = map[string]string{"/dcr/clients/{clientId}/config": "/register/{clientId}"}
			},
			attrs:  client("https://" + asHost + "/dcr/clients/abc/config"),
			result: report, want: wantSec("/register/{clientId}", "https://"+asHost+"/dcr/clients/abc/config"),
		},
		{
			name: "rule keys match whole segments only", kind: ptrace.SpanKindClient, cfg: asHosts,
			attrs: client("https://" + asHost + "/as/mytoken"), result: skip(SkipNotOpenFinance),
		},
		{
			name: "no counterpart: most likely not an Open Finance call", kind: ptrace.SpanKindClient,
			attrs: client("https://login.example.com/oauth/token"), result: skip(SkipUnknownCounterpart),
		},
		{
			name: "counterpart from the span attribute", kind: ptrace.SpanKindClient,
			attrs:  merge(client("https://login.example.com/oauth/token"), map[string]any{"pcm.server_org_id": asOrg}),
			result: report, want: wantSec("/token", "https://login.example.com/oauth/token"),
		},
		{
			name: "SERVER token endpoint: bare template, no prefix (Decision 24)", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs("/as/token.oauth2"), map[string]any{"http.request.method": "POST"}),
			result: report, want: wantServer("/token", func(r *Report) { r.HTTPMethod = "POST" }),
		},
		{
			name: "SERVER registration via http.route", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs("/reg/abc"), map[string]any{"http.request.method": "DELETE", "http.route": "/reg/:clientId"}),
			result: report, want: wantServer("/register/{clientId}", func(r *Report) { r.HTTPMethod = "DELETE" }),
		},
		{
			name: "SERVER security endpoint without a client org", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs("/token"), map[string]any{"pcm.client_org_id": nil}), result: skip(SkipUnknownCounterpart),
		},
	})
}

func TestMapServer(t *testing.T) {
	runMapCases(t, []mapCase{
		{
			name: "url.path only (no http.route, the common case)", kind: ptrace.SpanKindServer,
			attrs: serverAttrs(conPath), result: report, want: wantServer(conTmpl),
		},
		{
			name: "http.route matching a template", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs(conPath), map[string]any{"http.route": conTmpl}), result: report, want: wantServer(conTmpl),
		},
		{
			name: "http.route with a Go 1.22 method prefix", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs(conPath), map[string]any{"http.route": "GET /open-banking/consents/v3/consents/{id}"}), result: report, want: wantServer(conTmpl),
		},
		{
			name: "http.route with method, host and {$}", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs("/open-banking/consents/v3/consents"), map[string]any{"http.route": "POST api.our-bank.example/open-banking/consents/v3/consents/{$}", "http.request.method": "POST"}),
			result: report, want: wantServer("/open-banking/consents/v3/consents", func(r *Report) { r.HTTPMethod = "POST" }),
		},
		{
			name: "Express-style route with a gateway prefix", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs("/api"+conPath), map[string]any{"http.route": "/api/open-banking/consents/v3/consents/:consentId"}), result: report, want: wantServer(conTmpl),
		},
		{
			name: "a fitting route wins over the path", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs("/open-banking/items/v1/items/summary"), map[string]any{"http.route": "/open-banking/items/v1/items/{itemId}"}),
			cfg: func(c *Config) {
				c.Catalog = mustCatalog(t, `{"private": ["/open-banking/items/v1/items/{itemId}", "/open-banking/items/v1/items/summary"]}`)
			},
			result: report, want: wantServer("/open-banking/items/v1/items/{itemId}"),
		},
		{
			name: "catch-all route falls back to url.path", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs(conPath), map[string]any{"http.route": "/open-banking/*"}), result: report, want: wantServer(conTmpl),
		},
		{
			name: "gateway prefix in url.path", kind: ptrace.SpanKindServer,
			attrs: serverAttrs("/gw/v1" + conPath + "/"), result: report, want: wantServer(conTmpl),
		},
		{
			name: "legacy semconv: http.method, http.status_code, http.target with query", kind: ptrace.SpanKindServer,
			attrs: map[string]any{
				"http.method": "GET", "http.status_code": "200", "http.target": conPath + "?page=1",
				"http.request.header.x-fapi-interaction-id": []any{fapiID}, "pcm.client_org_id": callerOrg,
			},
			result: report, want: wantServer(conTmpl),
		},
		{
			name: "absolute-form http.target", kind: ptrace.SpanKindServer,
			attrs: map[string]any{
				"http.method": "GET", "http.status_code": 200, "http.target": "https://api.our-bank.example" + conPath,
				"http.response.header.x-fapi-interaction-id": fapiID, "pcm.client_org_id": callerOrg,
			},
			result: report, want: wantServer(conTmpl),
		},
		{
			name: "client org from the resource", kind: ptrace.SpanKindServer, res: map[string]any{"pcm.client_org_id": bankC},
			attrs: merge(serverAttrs(conPath), map[string]any{"pcm.client_org_id": nil}), result: report,
			want: wantServer(conTmpl, func(r *Report) { r.ClientOrgID = bankC }),
		},
		{
			name: "one attribute configured for both counterpart roles", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs(conPath), map[string]any{"pcm.client_org_id": nil, "app.counterpart_org": bankC}),
			cfg: func(c *Config) {
				c.Attributes = AttributeNames{ServerOrgID: "app.counterpart_org", ClientOrgID: "app.counterpart_org"}
			},
			result: report, want: wantServer(conTmpl, func(r *Report) { r.ClientOrgID = bankC }),
		},
		{
			name: "more than four interaction-id names", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs(conPath), map[string]any{
				"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil, "h5": fapiID2,
			}),
			cfg: func(c *Config) {
				c.Attributes = AttributeNames{InteractionID: []string{"h1", "h2", "h3", "h4", "h5"}}
			},
			result: report, want: wantServer(conTmpl, func(r *Report) { r.FapiInteractionID = fapiID2 }),
		},
		{
			name: "missing client org on an Open Finance path is still reported", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs(conPath), map[string]any{"pcm.client_org_id": nil}), result: report,
			want: wantServer(conTmpl, func(r *Report) { r.ClientOrgID = "" }),
		},
		{
			name: "SERVER never carries client-only fields, even if attributes exist", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(conPath), map[string]any{"pcm.client_ss_id": ourSS, "pcm.correlation_id": "x", "url.full": "https://x/open-banking/a"}),
			result: report, want: wantServer(conTmpl),
		},
		{
			name: "unlisted", kind: ptrace.SpanKindServer,
			attrs: serverAttrs("/open-banking/payments/v4/consents/urn:x:1?page=1"), result: unlisted,
			want: wantServer("/open-banking/payments/v4/consents/urn:x:1"),
		},
		{
			// The route used to be trusted here; a route that is not a template of the path says nothing.
			name: "a route that does not fit the path is ignored", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs("/internal/x"), map[string]any{"http.route": "/open-banking/unknown/v1/{id}"}),
			result: skip(SkipNotOpenFinance),
		},
		{
			name: "unlisted route and path", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs("/open-banking/unknown/v1/u1"), map[string]any{"http.route": "/open-banking/unknown/v1/{id}"}), result: unlisted,
			want: wantServer("/open-banking/unknown/v1/u1"),
		},
		{
			name: "only url.full on a server span", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(""), map[string]any{"url.path": nil, "url.full": "https://api.our-bank.example" + conPath + "?a=b"}),
			result: report, want: wantServer(conTmpl),
		},
		{name: "health check", kind: ptrace.SpanKindServer, attrs: serverAttrs("/healthz"), result: skip(SkipNotOpenFinance)},
		{name: "metrics scrape with route", kind: ptrace.SpanKindServer, attrs: merge(serverAttrs("/metrics"), map[string]any{"http.route": "/metrics"}), result: skip(SkipNotOpenFinance)},
		{name: "no path", kind: ptrace.SpanKindServer, attrs: merge(serverAttrs(""), map[string]any{"url.path": nil}), result: skip(SkipNotOpenFinance)},
		{name: "CORS preflight", kind: ptrace.SpanKindServer, attrs: merge(serverAttrs(conPath), map[string]any{"http.request.method": "OPTIONS"}), result: skip(SkipMethod)},
		{name: "1xx", kind: ptrace.SpanKindServer, attrs: merge(serverAttrs(conPath), map[string]any{"http.response.status_code": 101}), result: skip(SkipNoStatus)},
	})
}

func TestMapOpendata(t *testing.T) {
	path := odTmpl + "?page=1&page-size=25"
	odAttrs := func(over map[string]any) map[string]any {
		base := merge(serverAttrs(path), map[string]any{
			"pcm.client_org_id": nil, "http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
		})
		return merge(base, over)
	}
	runMapCases(t, []mapCase{
		{name: "stable semconv", kind: ptrace.SpanKindServer, attrs: odAttrs(nil), result: report, want: wantOpendata(odTmpl, "203.0.113.7")},
		{
			name: "legacy http.client_ip", kind: ptrace.SpanKindServer,
			attrs:  map[string]any{"http.method": "GET", "http.status_code": 200, "http.target": path, "http.client_ip": "198.51.100.9"},
			result: report, want: wantOpendata(odTmpl, "198.51.100.9"),
		},
		{
			name: "no client address", kind: ptrace.SpanKindServer, attrs: odAttrs(map[string]any{"client.address": nil}),
			result: report, want: wantOpendata(odTmpl, ""),
		},
		{
			name: "via http.route", kind: ptrace.SpanKindServer,
			attrs:  odAttrs(map[string]any{"url.path": "/opendata/open-banking/channels/v2/branches", "http.route": "GET /opendata/open-banking/channels/v2/branches"}),
			result: report, want: wantOpendata("/open-banking/channels/v2/branches", "203.0.113.7"),
		},
		{
			name: "only clientIp (Decision 17): other keys are dropped and reported", kind: ptrace.SpanKindServer,
			attrs:  odAttrs(map[string]any{"pcm.additional_info.channel": "web"}),
			result: Result{Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoDropped), DroppedInfoKey: "channel"},
			want:   wantOpendata(odTmpl, "203.0.113.7"),
		},
		{
			name: "clientIp attribute overrides client.address", kind: ptrace.SpanKindServer,
			attrs:  odAttrs(map[string]any{"pcm.additional_info.clientIp": "2001:db8::7"}),
			result: report, want: wantOpendata(odTmpl, "2001:db8::7"),
		},
		{
			name: "POST is accepted (5-method enum)", kind: ptrace.SpanKindServer, attrs: odAttrs(map[string]any{"http.request.method": "POST"}),
			result: report, want: wantOpendata(odTmpl, "203.0.113.7", func(r *Report) { r.HTTPMethod = "POST" }),
		},
	})
}

func TestMapAdditionalInfo(t *testing.T) {
	url := bankURL + accPath
	runMapCases(t, []mapCase{
		{
			name: "values converted to their declared type; resource is a fallback; span wins", kind: ptrace.SpanKindClient,
			res: map[string]any{"pcm.additional_info.tokenId": "c9ng8aKzxNXm", "pcm.additional_info.status": "FROM_RESOURCE", "service.name": "x"},
			attrs: merge(clientAttrs(url), map[string]any{
				"pcm.additional_info.consentId":       "urn:bancoa:C1DD33123",
				"pcm.additional_info.status":          "AUTHORISED",
				"pcm.additional_info.isFirstPayment":  true,
				"pcm.additional_info.riskSignals":     int64(3),
				"pcm.additional_info.amount":          12.5,
				"pcm.additional_info.statusSummary":   map[string]any{"available": int64(1)},
				"pcm.additional_info.errorCodes":      []any{"NAO_INFORMADO"},
				"pcm.additional_info.raw":             []byte{1, 2, 3},
				"pcm.additional_info.":                "empty key is ignored",
				"pcm.additional_infoX":                "not the prefix",
				"http.request.header.x-custom-header": "ignored",
			}),
			// Values are converted to the type PCM declares for their key (docs/pcm-rules.md §6);
			// bytes cannot be and are dropped, reported by key.
			result: Result{
				Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoConverted | FixAdditionalInfoDropped),
				DroppedInfoKey: "raw",
			},
			want: wantClient(accTmpl, bankURL),
			info: map[string]any{
				"consentId": "urn:bancoa:C1DD33123", "status": "AUTHORISED", "isFirstPayment": "TRUE",
				"riskSignals": "3", "amount": "12.5", "statusSummary": map[string]any{"available": int64(1)},
				"errorCodes": "NAO_INFORMADO", "tokenId": "c9ng8aKzxNXm",
			},
		},
		{
			name: "custom prefix", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(conPath), map[string]any{"ofb.pcm.dropReason": "NONE", "pcm.additional_info.ignored": "x"}),
			cfg:    func(c *Config) { c.Attributes.AdditionalInfoPrefix = "ofb.pcm." },
			result: report, want: wantServer(conTmpl), info: map[string]any{"dropReason": "NONE"},
		},
	})
}

func TestMapTimes(t *testing.T) {
	m := newTestMapper(t)
	tests := []struct {
		name string
		opt  spanOpt
		want int64
	}{
		{"zero duration is clamped to 1", withDuration(0), 1},
		{"sub-millisecond rounds up to 1", withDuration(300 * time.Microsecond), 1},
		{"exact milliseconds stay", withDuration(5 * time.Millisecond), 5},
		{"a fraction rounds up", withDuration(5*time.Millisecond + time.Nanosecond), 6},
		{"end before start", func(s ptrace.Span) { s.SetEndTimestamp(s.StartTimestamp() - 1000) }, 1},
		{"no end", func(s ptrace.Span) { s.SetEndTimestamp(0) }, 1},
		{"long call", withDuration(90 * time.Second), 90000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, span := mkSpan(t, ptrace.SpanKindServer, serverAttrs(conPath), tt.opt)
			var r Report
			require.Equal(t, report, m.Map(res, span, &r))
			assert.Equal(t, tt.want, r.ProcessTimespan)
			assert.Equal(t, testStart, r.Timestamp)
			assert.Equal(t, time.UTC, r.Timestamp.Location())
		})
	}
}

func TestMapReusesReport(t *testing.T) {
	m := newTestMapper(t)
	res, span := mkSpan(t, ptrace.SpanKindClient, merge(clientAttrs(bankURL+accPath), map[string]any{
		"pcm.additional_info.a": "1", "pcm.additional_info.b": "2",
	}))
	var r Report
	require.Equal(t, report, m.Map(res, span, &r))
	require.Len(t, r.AdditionalInfo, 2)
	kept := r.Clone()

	res2, span2 := mkSpan(t, ptrace.SpanKindServer, merge(serverAttrs(conPath), map[string]any{"pcm.additional_info.z": "9"}))
	require.Equal(t, report, m.Map(res2, span2, &r))
	assert.Equal(t, RoleServer, r.Role)
	assert.Empty(t, r.ClientSSID, "nothing of the previous report survives")
	require.Len(t, r.AdditionalInfo, 1)
	assert.Equal(t, "z", r.AdditionalInfo[0].Key)

	// The clone is independent of the reused report and of the span.
	span.Attributes().PutStr("pcm.additional_info.a", "changed")
	require.Len(t, kept.AdditionalInfo, 2)
	got := map[string]string{}
	for _, f := range kept.AdditionalInfo {
		got[f.Key] = f.Value.Str()
	}
	assert.Equal(t, map[string]string{"a": "1", "b": "2"}, got)
	assert.Equal(t, RoleClient, kept.Role)
}

func TestMapNeverPanicsOnDegenerateInput(t *testing.T) {
	m := newTestMapper(t)
	_, span := mkSpan(t, ptrace.SpanKindServer, serverAttrs(conPath))
	assert.NotPanics(t, func() {
		assert.Equal(t, report, m.Map(pcommon.Resource{}, span, nil), "nil out and zero resource")
		var r Report
		assert.Equal(t, skip(SkipNotOpenFinance), m.Map(pcommon.NewResource(), ptrace.Span{}, &r), "zero span")
		var nilMapper *Mapper
		assert.Equal(t, skip(SkipNotOpenFinance), nilMapper.Map(pcommon.NewResource(), span, &r))
		assert.Equal(t, skip(SkipNotOpenFinance), (&Mapper{}).Map(pcommon.NewResource(), span, &r))
		empty := ptrace.NewSpan()
		assert.Equal(t, skip(SkipSpanKind), m.Map(pcommon.NewResource(), empty, &r))
		empty.SetKind(ptrace.SpanKindServer)
		assert.Equal(t, skip(SkipNotHTTP), m.Map(pcommon.NewResource(), empty, &r))
	})
}

func TestMapAllocations(t *testing.T) {
	m := newTestMapper(t)
	for _, flavour := range benchFlavours {
		td := benchTraces(flavour)
		rs := td.ResourceSpans().At(0)
		span := rs.ScopeSpans().At(0).Spans().At(0)
		var r Report
		buf := make([]byte, 0, 4096)
		v := Validator{}
		now := time.Now()
		m.Map(rs.Resource(), span, &r) // warm the reused slice
		allocs := testing.AllocsPerRun(200, func() {
			m.Map(rs.Resource(), span, &r)
			v.Validate(&r, now)
			buf = AppendJSON(buf[:0], &r)
		})
		limit := 0.0
		if flavour == "client" {
			limit = 1 // the trace id → correlationId string
		}
		assert.LessOrEqual(t, allocs, limit, flavour)
	}
}

func TestNewMapperErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"rule key without slash", Config{SecurityRules: map[string]string{"token": "/token"}}, []string{`security rule "token"`, "must start with"}},
		{"rule to a non-security template", Config{SecurityRules: map[string]string{"/oauth/token": "/open-banking/accounts/v2/accounts"}},
			[]string{`security rule "/oauth/token"`, "not a security template"}},
		{"rule with an empty segment", Config{SecurityRules: map[string]string{"/as//token": "/token"}}, []string{`"/as//token"`, "empty segment"}},
		{"rule with a broken param", Config{SecurityRules: map[string]string{"/reg/{id": "/register/{clientId}"}}, []string{`"/reg/{id"`}},
		{"hosts entry with a bad port", Config{Hosts: map[string]string{"api.bank:https": bankB}}, []string{`hosts entry "api.bank:https"`, "invalid port"}},
		{"empty hosts entry", Config{Hosts: map[string]string{" ": bankB}}, []string{"empty host"}},
		{"all errors at once", Config{SecurityRules: map[string]string{"a": "/token", "/b": "/nope"}, Hosts: map[string]string{"h:0": bankB}},
			[]string{`"a"`, `"/b"`, `"h:0"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMapper(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, m)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestNewMapperHostsForms(t *testing.T) {
	m, err := NewMapper(Config{Hosts: map[string]string{
		"https://API.bank-b.example:8443/": bankB,
		"[2001:db8::1]:443":                bankC,
		"2001:db8::2":                      bankD,
	}})
	require.NoError(t, err)
	assert.Equal(t, hostOrgs{ports: []portOrg{{8443, bankB}}}, m.hosts["api.bank-b.example"])
	assert.Equal(t, hostOrgs{ports: []portOrg{{443, bankC}}}, m.hosts["2001:db8::1"])
	assert.Equal(t, hostOrgs{any: bankD}, m.hosts["2001:db8::2"])

	res, span := mkSpan(t, ptrace.SpanKindClient, merge(clientAttrs("https://[2001:db8::1]/open-banking/resources/v3/resources"), map[string]any{"server.port": nil}))
	var r Report
	require.Equal(t, report, m.Map(res, span, &r))
	assert.Equal(t, bankC, r.ServerOrgID)
	assert.Equal(t, "https://[2001:db8::1]", r.EndpointURIPrefix)
}

func TestDefaultSecurityRules(t *testing.T) {
	rules := DefaultSecurityRules()
	for key, want := range map[string]string{
		"/token": "/token", "/token.oauth2": "/token", "/register": "/register",
		"/register/{clientId}": "/register/{clientId}", "/pushed-authorization-request": "/pushed-authorization-request",
		"/par": "/pushed-authorization-request", "/revocation": "/revocation", "/revoke": "/revocation",
		"/introspection": "/introspection", "/introspect": "/introspection",
	} {
		assert.Equal(t, want, rules[key], key)
	}
	rules["/token"] = "changed"
	assert.Equal(t, "/token", DefaultSecurityRules()["/token"], "a fresh map each call")

	compiled, err := compileSecurityRules(nil, DefaultCatalog())
	require.NoError(t, err)
	tests := map[string]string{
		"/as/token.oauth2":            "/token",
		"/token":                      "/token",
		"/register":                   "/register",
		"/register/abc":               "/register/{clientId}",
		"/a/register/register":        "/register/{clientId}", // longest rule wins
		"/connect/par":                "/pushed-authorization-request",
		"/ext/par/request":            "/pushed-authorization-request",
		"/as/revoke_token.oauth2":     "/revocation",
		"/as/introspect.oauth2":       "/introspection",
		"/as/clients.oauth2/client-9": "/register/{clientId}",
	}
	for path, want := range tests {
		got, ok := compiled.match(path)
		assert.True(t, ok, path)
		assert.Equal(t, want, got, path)
	}
	for _, path := range []string{"", "/", "/tokens", "/x/token/extra", "/register//", "/pa"} {
		_, ok := compiled.match(path)
		assert.False(t, ok, path)
	}
}

func TestSecurityRuleOverride(t *testing.T) {
	m := newTestMapper(t, func(c *Config) {
		c.Hosts = map[string]string{"as.bank": asOrg}
		c.SecurityRules = map[string]string{"/introspect": "/revocation"}
	})
	res, span := mkSpan(t, ptrace.SpanKindClient, merge(clientAttrs("https://as.bank/oauth/introspect"), map[string]any{"server.address": "as.bank"}))
	var r Report
	require.Equal(t, report, m.Map(res, span, &r))
	assert.Equal(t, "/revocation", r.Endpoint)

	// A template added to the catalog's security list is a valid rule target.
	cat, err := ParseCatalog([]byte(`{"security": ["/userinfo"]}`), DefaultCatalog())
	require.NoError(t, err)
	_, err = NewMapper(Config{Catalog: cat, SecurityRules: map[string]string{"/me": "/userinfo"}})
	require.NoError(t, err)
}

func TestMapperConcurrentUse(t *testing.T) {
	m := newTestMapper(t)
	spans := make([]ptrace.Traces, 0, len(benchFlavours))
	for _, f := range benchFlavours {
		spans = append(spans, benchTraces(f))
	}
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			var r Report
			var buf []byte
			for i := 0; i < 200; i++ {
				td := spans[(g+i)%len(spans)]
				rs := td.ResourceSpans().At(0)
				if m.Map(rs.Resource(), rs.ScopeSpans().At(0).Spans().At(0), &r).Outcome != OutcomeReport {
					t.Error("not a report")
					return
				}
				buf = AppendJSON(buf[:0], &r)
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}
