package pcmsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pid1 = "54d5348c-1a3f-4ff4-a8a8-d0724fb806c6"

// portabilityClientReport: bank A (proponent) proposed a portability to bank B (creditor).
func portabilityClientReport() item {
	return item{
		"role": "CLIENT", "fapiInteractionId": fapi1, "endpoint": portabilitiesEP, "statusCode": 201, "httpMethod": "POST",
		"clientOrgId": orgA, "serverOrgId": orgB, "clientSSId": ssA, "endpointUriPrefix": "https://api.bank-b.example/opbk",
		"correlationId": "4bf92f3577b34da6a3ce929d0e0e4736", "timestamp": ts(-time.Minute), "processTimespan": 120,
		"portabilityId": pid1, "consentId": "urn:banka:C1DD33123", "creationDateTime": "2026-03-10T11:59:00Z",
	}
}

// portabilityServerReport: bank B answered bank A's GET of the portability.
func portabilityServerReport() item {
	return item{
		"role": "SERVER", "fapiInteractionId": fapi2, "endpoint": portabilityEP, "statusCode": 200, "httpMethod": "GET",
		"clientOrgId": orgA, "serverOrgId": orgB, "timestamp": ts(-time.Minute), "processTimespan": 80,
		"portabilityId": pid1, "creditPortabilityStatus": "REJECTED", "statusUpdateDateTime": "2026-03-10T11:59:30.123-03:00",
		"rejectedBy": "CREDORA", "rejectionReason": "OUTROS",
	}
}

type portabilityCase struct {
	name string
	role string // the path's role
	item item
	want string
}

// portabilityCases is the simulator's rules table for the credit-portability API.
func portabilityCases() []portabilityCase {
	c, s := portabilityClientReport(), portabilityServerReport()
	return []portabilityCase{
		{name: "valid client", role: RoleClient, item: c},
		{name: "valid server", role: RoleServer, item: s},
		{name: "client after a 4xx needs no creationDateTime", role: RoleClient,
			item: c.with("statusCode", 422, "creationDateTime", nil, "portabilityId", nil, "errorCode", "ERRO_X")},
		{name: "client on /cancel needs no creationDateTime", role: RoleClient,
			item: c.with("endpoint", portabilityEP+"/cancel", "httpMethod", "PATCH", "creationDateTime", nil)},
		{name: "9 days old", role: RoleServer, item: s.with("timestamp", ts(-9*24*time.Hour))},

		{name: "older than 10 days", role: RoleServer, item: s.with("timestamp", ts(-10*24*time.Hour-time.Second)), want: "Report is too old: timestamp"},
		{name: "client report on the server path", role: RoleServer, item: c,
			want: "Invalid field value: role must be SERVER on this path; Additional property not allowed: clientSSId; " +
				"Additional property not allowed: correlationId; Additional property not allowed: creationDateTime; " +
				"Additional property not allowed: endpointUriPrefix"},
		{name: "missing role", role: RoleClient, item: c.with("role", nil), want: "Missing property: role"},
		{name: "additionalInfo is not part of this API", role: RoleServer, item: s.with("additionalInfo", item{}),
			want: "Additional property not allowed: additionalInfo"},
		{name: "a private template", role: RoleClient, item: c.with("endpoint", accountsEP), want: "Unlisted endpoint: " + accountsEP},
		{name: "missing creationDateTime", role: RoleClient, item: c.with("creationDateTime", nil), want: "Missing property: creationDateTime"},
		{name: "missing clientSSId", role: RoleClient, item: c.with("clientSSId", nil), want: "Missing property: clientSSId"},
		{name: "bad fields", role: RoleClient, item: c.with("portabilityId", "p-1", "consentId", "C1", "creationDateTime", "10/03/2026",
			"creditPortabilityStatus", "DONE", "rejectedBy", "BANCO", "statusUpdateDateTime", "now"),
			want: "Invalid field value: portabilityId must be a UUID; Invalid field value: consentId must be a URN of at most 100 characters; " +
				"Invalid field value: creationDateTime must be a date-time; Invalid field value: creditPortabilityStatus must be one of " +
				"ACCEPTED_SETTLEMENT_COMPLETED, ACCEPTED_SETTLEMENT_IN_PROGRESS, CANCELLED, PENDING, PAYMENT_ISSUE, PORTABILITY_COMPLETED, " +
				"RECEIVED, REJECTED; Invalid field value: statusUpdateDateTime must be a date-time; Invalid field value: rejectedBy must be one of CREDORA, PROPONENTE, USUARIO"},
		{name: "errorCode as number", role: RoleClient, item: c.with("errorCode", 12), want: "Field type mismatch: errorCode"},
	}
}

func (tc portabilityCase) requester() string {
	if tc.role == RoleServer {
		return orgB
	}
	return orgA
}

func TestCreditPortabilityRules(t *testing.T) {
	pki := testPKI(t)
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	v := &validator{catalog: cat, dir: newDirIndex(pki.Directory)}
	for _, tc := range portabilityCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.item)
			require.NoError(t, err)
			res := v.creditPortability(raw, tc.role, tc.requester(), t0)
			if tc.want == "" {
				require.Empty(t, res.errs)
				require.NotNil(t, res.report)
				assert.Equal(t, APICreditPortability, res.report.API)
				assert.Equal(t, tc.item["portabilityId"] != nil, res.report.CreditPortability["portabilityId"] != "")
				return
			}
			require.Nil(t, res.report)
			require.Equal(t, tc.want, strings.Join(res.errs, "; "), "the whole message, before the 200-character cut")
		})
	}
}

func TestCreditPortabilityOverHTTP(t *testing.T) {
	e := newEnv(t, nil)
	tokA, tokB := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken

	code, out := e.postTo(CreditPortabilityClientPath, tokA, portabilityClientReport(), portabilityClientReport().with("creationDateTime", nil))
	assert.Equal(t, http.StatusMultiStatus, code)
	assert.Equal(t, StatusAccepted, out[0].Status)
	assert.Equal(t, StatusDiscarded, out[1].Status)
	assert.Equal(t, "Missing property: creationDateTime", out[1].Message)

	code, out = e.postTo(CreditPortabilityServerPath, tokB, portabilityServerReport())
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, StatusAccepted, out[0].Status)

	// A credit-portability report is not a private one, nor the other way round.
	_, out = e.postPrivate(tokA, portabilityClientReport().with("creationDateTime", nil, "portabilityId", nil, "consentId", nil, "additionalInfo", item{}))
	assert.Equal(t, StatusDiscarded, out[0].Status)
	assert.Equal(t, "Unlisted endpoint: "+portabilitiesEP, out[0].Message)
	_, out = e.postTo(CreditPortabilityClientPath, tokA, clientReport(fapi1))
	assert.Equal(t, StatusDiscarded, out[0].Status)
}
