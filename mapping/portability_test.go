package mapping

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const (
	portabilityID = "54d5348c-1a3f-4ff4-a8a8-d0724fb806c6"
	cpListTmpl    = "/open-banking/credit-portability/v1/portabilities"
	cpOneTmpl     = "/open-banking/credit-portability/v1/portabilities/{portabilityId}"
	cpCancelTmpl  = "/open-banking/credit-portability/v1/portabilities/{portabilityId}/cancel"
)

func portabilityAttrs() map[string]any {
	return map[string]any{
		AttrPortabilityID:               portabilityID,
		AttrPortabilityConsentID:        "urn:bancoex:C1DD33123",
		AttrPortabilityCreation:         "2026-03-17T12:00:00Z",
		AttrPortabilityStatus:           "REJECTED",
		AttrPortabilityStatusUpdate:     "2026-03-17T12:30:00Z",
		AttrPortabilityRejection:        "OUTROS",
		AttrPortabilityRejectedBy:       "CREDORA",
		AttrPortabilityErrorCode:        "",
		"pcm.additional_info.consentId": "urn:bancoex:C1DD33123", // not part of this API
	}
}

func TestMapCreditPortabilityClient(t *testing.T) {
	m := newTestMapper(t)
	res, span := mkSpan(t, ptrace.SpanKindClient, merge(clientAttrs(bankURL+"/open-banking/credit-portability/v1/portabilities/"+portabilityID), portabilityAttrs()))
	var r Report
	result := m.Map(res, span, &r)
	require.Equal(t, OutcomeReport, result.Outcome)
	assert.Equal(t, APICreditPortability, r.API)
	assert.Equal(t, RoleClient, r.Role)
	assert.Equal(t, cpOneTmpl, r.Endpoint)
	assert.Equal(t, bankB, r.ServerOrgID)
	assert.Empty(t, r.AdditionalInfo, "the credit-portability API has no additionalInfo")
	require.NotNil(t, r.CreditPortability)
	assert.Equal(t, CreditPortability{
		PortabilityID: portabilityID, ConsentID: "urn:bancoex:C1DD33123", CreationDateTime: "2026-03-17T12:00:00Z",
		CreditPortabilityStatus: "REJECTED", StatusUpdateDateTime: "2026-03-17T12:30:00Z",
		RejectionReason: "OUTROS", RejectedBy: "CREDORA",
	}, *r.CreditPortability)
	assert.Empty(t, Validator{}.Validate(&r, testNow))
}

func TestMapCreditPortabilityServerWithoutFields(t *testing.T) {
	m := newTestMapper(t)
	res, span := mkSpan(t, ptrace.SpanKindServer, merge(serverAttrs("/open-banking/credit-portability/v1/portabilities/"+portabilityID+"/payment"),
		map[string]any{"http.request.method": "POST"}))
	var r Report
	result := m.Map(res, span, &r)
	require.Equal(t, OutcomeReport, result.Outcome)
	assert.Equal(t, APICreditPortability, r.API)
	assert.Equal(t, RoleServer, r.Role)
	assert.Nil(t, r.CreditPortability)
	assert.Empty(t, Validator{}.Validate(&r, testNow))
}

func TestEncodeCreditPortability(t *testing.T) {
	r := validPortabilityClient()
	r.CreditPortability.ErrorCode = "ERRO_X"
	var got map[string]any
	require.NoError(t, json.Unmarshal(AppendJSON(nil, &r), &got))
	assert.Equal(t, map[string]any{
		"fapiInteractionId": fapiID, "endpoint": cpListTmpl, "statusCode": float64(201), "httpMethod": "POST",
		"clientOrgId": ourOrg, "serverOrgId": bankB, "clientSSId": ourSS, "endpointUriPrefix": bankURL,
		"correlationId": traceIDHex, "timestamp": "2026-03-17T12:34:56.789Z", "processTimespan": float64(153), "role": "CLIENT",
		"portabilityId": portabilityID, "consentId": "urn:bancoex:C1DD33123", "creationDateTime": "2026-03-17T12:00:00Z",
		"errorCode": "ERRO_X",
	}, got)

	// creationDateTime and errorCode are CLIENT fields; a SERVER report leaves them out.
	r.Role, r.ClientSSID, r.EndpointURIPrefix, r.CorrelationID = RoleServer, "", "", ""
	got = nil
	require.NoError(t, json.Unmarshal(AppendJSON(nil, &r), &got))
	assert.NotContains(t, got, "creationDateTime")
	assert.NotContains(t, got, "errorCode")
	assert.NotContains(t, got, "additionalInfo")
	assert.Equal(t, "SERVER", got["role"])
	assert.Equal(t, portabilityID, got["portabilityId"])
}

func validPortabilityClient() Report {
	return Report{
		API: APICreditPortability, Role: RoleClient, FapiInteractionID: fapiID, Endpoint: cpListTmpl, StatusCode: 201,
		HTTPMethod: "POST", ClientOrgID: ourOrg, ServerOrgID: bankB, ClientSSID: ourSS,
		EndpointURIPrefix: bankURL, CorrelationID: traceIDHex, Timestamp: testStart, ProcessTimespan: 153,
		CreditPortability: &CreditPortability{PortabilityID: portabilityID, ConsentID: "urn:bancoex:C1DD33123", CreationDateTime: "2026-03-17T12:00:00Z"},
	}
}

func TestValidateCreditPortability(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Report)
		want []string
	}{
		{"valid", func(*Report) {}, nil},
		{"a private template is unlisted here", func(r *Report) { r.Endpoint = accTmpl }, []string{"Unlisted endpoint: " + accTmpl}},
		{"creationDateTime required on the client's successful POST", func(r *Report) { r.CreditPortability.CreationDateTime = "" },
			[]string{"Missing property: creationDateTime"}},
		{"no fields at all on a successful POST", func(r *Report) { r.CreditPortability = nil }, []string{"Missing property: creationDateTime"}},
		{"not required after a 4xx", func(r *Report) { r.CreditPortability.CreationDateTime = ""; r.StatusCode = 422 }, nil},
		{"not required on the server", func(r *Report) {
			r.CreditPortability.CreationDateTime = ""
			r.Role, r.ClientSSID, r.EndpointURIPrefix, r.CorrelationID = RoleServer, "", "", ""
		}, nil},
		{"not required on /cancel", func(r *Report) {
			r.CreditPortability.CreationDateTime = ""
			r.Endpoint, r.HTTPMethod = cpCancelTmpl, "PATCH"
		}, nil},
		{"offsets and fractions are PCM's pattern", func(r *Report) { r.CreditPortability.CreationDateTime = "2026-03-17T09:00:00.5-03:00" }, nil},
		{"date-times", func(r *Report) {
			r.CreditPortability.CreationDateTime = "2026-03-17 12:00"
			r.CreditPortability.StatusUpdateDateTime = "yesterday"
		}, []string{"Invalid field value: creationDateTime must be a date-time", "Invalid field value: statusUpdateDateTime must be a date-time"}},
		{"identifiers and enums", func(r *Report) {
			*r.CreditPortability = CreditPortability{
				PortabilityID: "p-1", ConsentID: "C1DD33123", CreationDateTime: "2026-03-17T12:00:00Z",
				CreditPortabilityStatus: "DONE", RejectedBy: "BANCO", RejectionReason: "ANY TEXT",
			}
		}, []string{
			"Invalid field value: portabilityId must be a UUID",
			"Invalid field value: consentId must be a URN of at most 100 characters",
			"Invalid field value: creditPortabilityStatus must be one of ACCEPTED_SETTLEMENT_COMPLETED, ACCEPTED_SETTLEMENT_IN_PROGRESS, CANCELLED, PENDING, PAYMENT_ISSUE, PORTABILITY_COMPLETED, RECEIVED, REJECTED",
			"Invalid field value: rejectedBy must be one of CREDORA, PROPONENTE, USUARIO",
		}},
		{"9 days old is fine for portability", func(r *Report) { r.Timestamp = testNow.Add(-9 * 24 * time.Hour) }, nil},
		{"older than 10 days", func(r *Report) { r.Timestamp = testNow.Add(-MaxCreditPortabilityReportAge - time.Millisecond) },
			[]string{"Report is too old: timestamp"}},
		{"the usual private rules", func(r *Report) { r.ClientSSID = "" }, []string{"Missing property: clientSSId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validPortabilityClient()
			cp := *r.CreditPortability
			r.CreditPortability = &cp
			tt.mod(&r)
			var got []string
			for _, p := range (Validator{}).Validate(&r, testNow) {
				got = append(got, p.String())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReportAgeByAPI(t *testing.T) {
	assert.Equal(t, 10*24*time.Hour, MaxAge(APICreditPortability))
	assert.Equal(t, MaxReportAge, MaxAge(APIPrivate))
	r := validClient()
	r.Timestamp = testNow.Add(-8 * 24 * time.Hour)
	assert.NotEmpty(t, CheckReportTime(nil, &r, testNow), "a private report of 8 days is too old")
	r.API = APICreditPortability
	assert.Empty(t, CheckReportTime(nil, &r, testNow), "a credit-portability report of 8 days is not")
}

func TestCatalogContainsCreditPortability(t *testing.T) {
	c := DefaultCatalog()
	assert.True(t, c.Contains(cpOneTmpl, APICreditPortability))
	assert.False(t, c.Contains(cpOneTmpl, APIPrivate))
	assert.False(t, c.Contains(accTmpl, APICreditPortability))
	assert.Equal(t, "credit_portability", APICreditPortability.String())
}
