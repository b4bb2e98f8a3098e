package mapping

// One named test per "Decision" of docs/pcm-rules.md that concerns mapping, encoding or local
// validation (items 2, 3, 4, 5, 9, 10, 11, 16, 17, 18, 23, 24, 25). Item 9's extension case is
// TestDecision09_ParseCatalogExtendsWithPaymentsV4 in catalog_test.go.

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func mapOne(t *testing.T, m *Mapper, kind ptrace.SpanKind, attrs map[string]any, opts ...spanOpt) (Report, Result) {
	t.Helper()
	res, span := mkSpan(t, kind, attrs, opts...)
	var r Report
	result := m.Map(res, span, &r)
	return r, result
}

// encoded decodes AppendJSON's output into a generic object.
func encoded(t *testing.T, r *Report) map[string]any {
	t.Helper()
	var obj map[string]any
	require.NoError(t, json.Unmarshal(AppendJSON(nil, r), &obj))
	return obj
}

var clientTimeoutAttrs = merge(clientAttrs(bankURL+accPath), map[string]any{
	"http.response.status_code": nil, "error.type": "java.net.http.HttpTimeoutException",
})

// Decision 2: a client timeout is reported as 408 (not 403), with processTimespan = time waited.
func TestDecision02_ClientTimeoutIs408WithTimeWaited(t *testing.T) {
	m := newTestMapper(t)
	r, result := mapOne(t, m, ptrace.SpanKindClient, clientTimeoutAttrs, withDuration(15*time.Second+200*time.Microsecond))
	require.Equal(t, report, result)
	assert.Equal(t, 408, r.StatusCode)
	assert.Equal(t, int64(15001), r.ProcessTimespan)
	assert.Nil(t, Validator{}.Validate(&r, testNow))
}

// Decision 3: fapiInteractionId is sent whenever known (request header, else response header), for
// every status code; never generated, never the all-zero UUID.
func TestDecision03_InteractionIDWheneverKnown(t *testing.T) {
	m := newTestMapper(t)
	for _, status := range []int{200, 201, 404, 422, 500, 503} {
		r, result := mapOne(t, m, ptrace.SpanKindServer, merge(serverAttrs(conPath), map[string]any{
			"http.response.status_code": status, "http.request.header.x-fapi-interaction-id": nil,
			"http.response.header.x-fapi-interaction-id": []any{fapiID2},
		}))
		require.Equal(t, report, result)
		assert.Equal(t, fapiID2, r.FapiInteractionID, "status %d: the server-generated id is reported", status)
		assert.Equal(t, fapiID2, encoded(t, &r)["fapiInteractionId"])
	}

	r, _ := mapOne(t, m, ptrace.SpanKindClient, merge(clientAttrs(bankURL+accPath), map[string]any{
		"http.request.header.x-fapi-interaction-id": []any{fapiID}, "http.response.header.x-fapi-interaction-id": []any{fapiID2},
	}))
	assert.Equal(t, fapiID, r.FapiInteractionID, "request header first")

	r, _ = mapOne(t, m, ptrace.SpanKindClient, merge(clientAttrs(bankURL+accPath), map[string]any{
		"http.response.status_code": 500, "http.request.header.x-fapi-interaction-id": []any{zeroUUID},
		"http.response.header.x-fapi-interaction-id": nil,
	}))
	assert.Empty(t, r.FapiInteractionID, "the all-zero UUID is never sent")
	assert.NotContains(t, encoded(t, &r), "fapiInteractionId")
	assert.Nil(t, Validator{}.Validate(&r, testNow), "omitted on a 5xx: accepted, ends SINGLE")

	r, _ = mapOne(t, m, ptrace.SpanKindClient, merge(clientAttrs(bankURL+accPath), map[string]any{
		"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
	}))
	assert.Empty(t, r.FapiInteractionID, "never generated")
	assert.Equal(t, "Missing property: fapiInteractionId", JoinProblems(Validator{}.Validate(&r, testNow)),
		"a 200 without an id is discarded, so it is not sent")
}

// Decision 4: processTimespan is a JSON integer >= 1 ms, fractions rounded up; SERVER and opendata
// use the span duration.
func TestDecision04_ProcessTimespanIntegerAtLeastOne(t *testing.T) {
	m := newTestMapper(t)
	for _, tc := range []struct {
		kind  ptrace.SpanKind
		attrs map[string]any
	}{
		{ptrace.SpanKindClient, clientAttrs(bankURL + accPath)},
		{ptrace.SpanKindServer, serverAttrs(conPath)},
		{ptrace.SpanKindServer, merge(serverAttrs(odTmpl), map[string]any{"pcm.client_org_id": nil})},
	} {
		r, result := mapOne(t, m, tc.kind, tc.attrs, withDuration(120*time.Millisecond+1))
		require.Equal(t, report, result)
		assert.Equal(t, int64(121), r.ProcessTimespan)
		assert.Contains(t, string(AppendJSON(nil, &r)), `"processTimespan":121,`, "an integer, not 120.000001")

		r, _ = mapOne(t, m, tc.kind, tc.attrs, withDuration(0))
		assert.Equal(t, int64(1), r.ProcessTimespan, "0 is clamped to 1")
	}
}

// Decision 5: timestamp is always UTC YYYY-MM-DDTHH:mm:ss.sssZ (3 digits, truncated); reports older
// than 7 days or more than 5 minutes in the future are rejected locally.
func TestDecision05_TimestampFormatAndWindow(t *testing.T) {
	m := newTestMapper(t)
	brt := time.FixedZone("BRT", -3*3600)
	start := time.Date(2026, 3, 17, 9, 34, 56, 999_999_999, brt)
	res, span := mkSpan(t, ptrace.SpanKindServer, serverAttrs(conPath))
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Second)))
	var r Report
	require.Equal(t, report, m.Map(res, span, &r))
	assert.Equal(t, "2026-03-17T12:34:56.999Z", encoded(t, &r)["timestamp"])

	now := start
	r.Timestamp = now.Add(-8 * 24 * time.Hour)
	assert.Equal(t, "Report is too old: timestamp", JoinProblems(Validator{}.Validate(&r, now)))
	r.Timestamp = now.Add(6 * time.Minute)
	assert.Equal(t, "Invalid field value: timestamp must not be more than 5 minutes in the future", JoinProblems(Validator{}.Validate(&r, now)))
	r.Timestamp = now.Add(-6 * 24 * time.Hour)
	assert.Nil(t, Validator{}.Validate(&r, now))
}

// Decision 9: exact template match with single slashes; the embedded list is the default.
func TestDecision09_ExactMatchSingleSlashes(t *testing.T) {
	m := newTestMapper(t)
	r, result := mapOne(t, m, ptrace.SpanKindServer, serverAttrs("/open-banking/payments/v4//consents/urn:x:1/pix/payments"))
	assert.Equal(t, unlisted, result, "EPLIST's double slash is not normalised into a match")
	assert.Equal(t, "Unlisted endpoint: /open-banking/payments/v4//consents/urn:x:1/pix/payments", JoinProblems(Validator{}.Validate(&r, testNow)))

	_, err := ParseCatalog([]byte(`{"private": ["/open-banking/payments/v4//consents/{consentId}/pix/payments"]}`), DefaultCatalog())
	assert.ErrorContains(t, err, "empty segment")

	assert.False(t, DefaultCatalog().Contains(conPath, APIPrivate), "a concrete path is never a template")
	r, _ = mapOne(t, m, ptrace.SpanKindServer, serverAttrs(conPath))
	assert.Equal(t, conTmpl, r.Endpoint, "the template is sent, not the concrete path")
}

// Decision 10: clientSSId only in CLIENT reports.
func TestDecision10_ClientSSIdOnlyInClientReports(t *testing.T) {
	m := newTestMapper(t)
	c, _ := mapOne(t, m, ptrace.SpanKindClient, clientAttrs(bankURL+accPath))
	assert.Equal(t, ourSS, encoded(t, &c)["clientSSId"])
	s, _ := mapOne(t, m, ptrace.SpanKindServer, merge(serverAttrs(conPath), map[string]any{"pcm.client_ss_id": ourSS}))
	assert.Empty(t, s.ClientSSID)
	assert.NotContains(t, encoded(t, &s), "clientSSId")
	s.ClientSSID = ourSS
	assert.NotContains(t, encoded(t, &s), "clientSSId", "even when a caller sets it")
	assert.Equal(t, "Additional property not allowed: clientSSId", JoinProblems(Validator{}.Validate(&s, testNow)))
}

// Decision 11: additionalInfo is always an object, {} when empty, in CLIENT, SERVER and opendata.
func TestDecision11_AdditionalInfoAlwaysAnObject(t *testing.T) {
	m := newTestMapper(t)
	for _, tc := range []struct {
		kind  ptrace.SpanKind
		attrs map[string]any
	}{
		{ptrace.SpanKindClient, clientAttrs(bankURL + accPath)},
		{ptrace.SpanKindServer, serverAttrs(conPath)},
		{ptrace.SpanKindServer, merge(serverAttrs(odTmpl), map[string]any{"client.address": nil})},
	} {
		r, result := mapOne(t, m, tc.kind, tc.attrs)
		require.Equal(t, report, result)
		assert.Equal(t, map[string]any{}, encoded(t, &r)["additionalInfo"])
	}
}

// Decision 16: endpointUriPrefix is the URL up to (not including) the first /open-banking, no slash
// added; for security endpoints the full URL without query or fragment.
func TestDecision16_EndpointURIPrefix(t *testing.T) {
	m := newTestMapper(t, func(c *Config) {
		c.Hosts = map[string]string{
			"openbanking.instituicao-1.com.br": bankB, "oauth2.cartaodummy.opf.instituicao": asOrg, "ofin.bank.com": bankC,
		}
	})
	tests := []struct{ url, want string }{
		{"https://openbanking.instituicao-1.com.br/opbk/open-banking/accounts/v2/accounts?page=1", "https://openbanking.instituicao-1.com.br/opbk"},
		{"https://ofin.bank.com/open-banking/accounts/v2/accounts", "https://ofin.bank.com"},
		{"https://oauth2.cartaodummy.opf.instituicao/as/token.oauth2?grant_type=client_credentials#x", "https://oauth2.cartaodummy.opf.instituicao/as/token.oauth2"},
		{"https://ofin.bank.com/a/open-banking/b/open-banking/accounts/v2/accounts", "https://ofin.bank.com/a"},
	}
	for _, tt := range tests {
		r, result := mapOne(t, m, ptrace.SpanKindClient, merge(clientAttrs(tt.url), map[string]any{"server.address": nil}))
		require.NotEqual(t, OutcomeSkipped, result.Outcome, tt.url)
		assert.Equal(t, tt.want, r.EndpointURIPrefix, tt.url)
	}
}

// Decision 17: opendata additionalInfo is {"clientIp": …} when known, else {}; never tokenId or
// private-report fields; the 5-method enum is accepted. A dropped key is reported as a fix.
func TestDecision17_OpendataAdditionalInfo(t *testing.T) {
	m := newTestMapper(t)
	attrs := merge(serverAttrs(odTmpl), map[string]any{"pcm.additional_info.tokenId": "c9ng8aKzxNXm"})
	dropped := Result{Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoDropped), DroppedInfoKey: "tokenId"}
	r, result := mapOne(t, m, ptrace.SpanKindServer, attrs)
	require.Equal(t, dropped, result)
	obj := encoded(t, &r)
	assert.Equal(t, map[string]any{"clientIp": "203.0.113.7"}, obj["additionalInfo"])
	assert.Len(t, obj, 6)
	for _, k := range []string{"fapiInteractionId", "role", "clientOrgId", "serverOrgId", "correlationId"} {
		assert.NotContains(t, obj, k)
	}
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		r, result = mapOne(t, m, ptrace.SpanKindServer, merge(attrs, map[string]any{"http.request.method": method}))
		require.Equal(t, dropped, result, method)
		assert.Nil(t, Validator{}.Validate(&r, testNow), method)
	}
}

// Decision 18: only 200–599 are reported; spans with 1xx or no status are dropped, except client
// timeouts and cancellations, which become 408.
func TestDecision18_StatusRange(t *testing.T) {
	m := newTestMapper(t)
	for _, status := range []any{nil, 100, 101, 103} {
		_, result := mapOne(t, m, ptrace.SpanKindServer, merge(serverAttrs(conPath), map[string]any{"http.response.status_code": status}))
		assert.Equal(t, skip(SkipNoStatus), result, "%v", status)
	}
	r, result := mapOne(t, m, ptrace.SpanKindClient, merge(clientTimeoutAttrs, map[string]any{"error.type": "System.Threading.Tasks.TaskCanceledException"}))
	require.Equal(t, report, result)
	assert.Equal(t, 408, r.StatusCode, "cancellation")
	r, _ = mapOne(t, m, ptrace.SpanKindServer, merge(serverAttrs(conPath), map[string]any{"http.response.status_code": 700}))
	assert.Equal(t, "Invalid field value: statusCode must be between 200 and 599", JoinProblems(Validator{}.Validate(&r, testNow)))
}

// Decision 23: a timed-out client that sent an id reports it with 408; one that sent none omits the
// field (the report ends SINGLE).
func TestDecision23_TimedOutClientInteractionID(t *testing.T) {
	m := newTestMapper(t)
	r, result := mapOne(t, m, ptrace.SpanKindClient, merge(clientTimeoutAttrs, map[string]any{"http.response.header.x-fapi-interaction-id": nil}))
	require.Equal(t, report, result)
	assert.Equal(t, 408, r.StatusCode)
	assert.Equal(t, fapiID, r.FapiInteractionID, "the id the client sent")
	assert.Nil(t, Validator{}.Validate(&r, testNow))

	r, result = mapOne(t, m, ptrace.SpanKindClient, merge(clientTimeoutAttrs, map[string]any{
		"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
	}))
	require.Equal(t, report, result)
	assert.Empty(t, r.FapiInteractionID)
	assert.NotContains(t, encoded(t, &r), "fapiInteractionId")
	assert.Nil(t, Validator{}.Validate(&r, testNow), "allowed for 408")
}

// Decision 24: SERVER reports use the bare security templates mapped from the server's own routes,
// without endpointUriPrefix.
func TestDecision24_ServerSecurityEndpointsAreBare(t *testing.T) {
	m := newTestMapper(t)
	for path, want := range map[string]string{
		"/as/token.oauth2": "/token", "/oauth2/register/abc": "/register/{clientId}", "/auth/par": "/pushed-authorization-request",
	} {
		r, result := mapOne(t, m, ptrace.SpanKindServer, merge(serverAttrs(path), map[string]any{"http.request.method": "POST"}))
		require.Equal(t, report, result, path)
		assert.Equal(t, want, r.Endpoint)
		assert.Empty(t, r.EndpointURIPrefix)
		assert.NotContains(t, encoded(t, &r), "endpointUriPrefix")
		assert.Nil(t, Validator{}.Validate(&r, testNow))
	}
}

// Decision 25: additionalInfo enums are not validated locally; values pass through unchanged.
func TestDecision25_AdditionalInfoEnumsPassThrough(t *testing.T) {
	m := newTestMapper(t)
	r, result := mapOne(t, m, ptrace.SpanKindServer, merge(serverAttrs("/open-banking/consents/v3/consents"), map[string]any{
		"http.request.method": "POST", "http.response.status_code": 201,
		"pcm.additional_info.dropReason": "CREDENTIAL_UNAVAILABLE", "pcm.additional_info.personType": "PESSOA_JURIDICA",
		"pcm.additional_info.grantType": "something new",
	}))
	require.Equal(t, report, result)
	assert.Nil(t, Validator{}.Validate(&r, testNow))
	assert.Equal(t, map[string]any{"dropReason": "CREDENTIAL_UNAVAILABLE", "personType": "PESSOA_JURIDICA", "grantType": "something new"},
		encoded(t, &r)["additionalInfo"])
}
