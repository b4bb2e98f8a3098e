package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func infoReport(role Role, method, endpoint string, status int, info ...string) *Report {
	r := &Report{API: APIPrivate, Role: role, HTTPMethod: method, Endpoint: endpoint, StatusCode: status}
	for i := 0; i+1 < len(info); i += 2 {
		r.AdditionalInfo = append(r.AdditionalInfo, AdditionalField{Key: info[i], Value: pcommon.NewValueStr(info[i+1])})
	}
	return r
}

// TestObligations checks the embedded table (mapping/obligations.json, docs/pcm-rules.md §6)
// against the cases its sources describe.
func TestObligations(t *testing.T) {
	o := DefaultObligations()
	tests := []struct {
		name   string
		report *Report
		want   []string
	}{
		{"data API without consentId nor tokenId", infoReport(RoleClient, "GET", "/open-banking/accounts/v2/accounts/{accountId}/balances", 200), []string{"consentId", "tokenId"}},
		{"data API with both", infoReport(RoleClient, "GET", "/open-banking/accounts/v2/accounts", 200, "consentId", "urn:b:1", "tokenId", "c9ng8aKzxNXm"), nil},
		{"data API 404: consentId still, errorCodes, no tokenId", infoReport(RoleClient, "GET", "/open-banking/loans/v2/contracts", 404, "consentId", "urn:b:1"), []string{"errorCodes"}},
		{"POST consents 201", infoReport(RoleClient, "POST", "/open-banking/consents/v3/consents", 201, "tokenId", "x"), []string{"consentId", "personType"}},
		{"POST consents 422: only errorCodes", infoReport(RoleClient, "POST", "/open-banking/consents/v3/consents", 422, "errorCodes", "PARAMETRO_INVALIDO"), nil},
		{"GET consent", infoReport(RoleClient, "GET", "/open-banking/consents/v3/consents/{consentId}", 200, "tokenId", "x"), []string{"consentId"}},
		{"token with client_credentials: no consent", infoReport(RoleClient, "POST", "/token", 200, "grantType", "CLIENT_CREDENTIALS", "tokenId", "x"), nil},
		{"token with authorization_code: consent or enrollment", infoReport(RoleClient, "POST", "/token", 200, "grantType", "authorization_code", "tokenId", "x"), []string{"consentId|enrollmentId"}},
		{"token with refresh_token and an enrollment", infoReport(RoleClient, "POST", "/token", 200, "grantType", "REFRESH_TOKEN", "enrollmentId", "urn:b:e", "tokenId", "x"), nil},
		{"token without grantType", infoReport(RoleClient, "POST", "/token", 200), []string{"grantType", "tokenId"}},
		{"register: webhookEnable, never tokenId", infoReport(RoleClient, "POST", "/register", 201), []string{"webhookEnable"}},
		{"server POST consents: dropReason", infoReport(RoleServer, "POST", "/open-banking/consents/v3/consents", 201), []string{"dropReason"}},
		{"server GET accounts: nothing obliged", infoReport(RoleServer, "GET", "/open-banking/accounts/v2/accounts", 200), nil},
		{"opendata: clientIp only", &Report{API: APIOpendata, HTTPMethod: "GET", Endpoint: "/open-banking/channels/v2/branches", StatusCode: 200}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, o.Missing(tt.report, nil))
		})
	}
}

func TestObligationsTableIsWellFormed(t *testing.T) {
	o := DefaultObligations()
	require.NotEmpty(t, o.Rules)
	for _, r := range o.Rules {
		assert.Contains(t, r.Source, "https://", "rule %s names a public source", r.ID)
	}
	for _, bad := range []string{
		`{"rules":[{"role":"CLIENT","endpoints":["/token"],"status":"any","keys":["a"],"source":"s"}]}`,
		`{"rules":[{"id":"x","role":"BOTH","endpoints":["/token"],"status":"any","keys":["a"],"source":"s"}]}`,
		`{"rules":[{"id":"x","role":"CLIENT","endpoints":["/token"],"status":"3xx","keys":["a"],"source":"s"}]}`,
		`{"rules":[{"id":"x","role":"CLIENT","endpoints":["/token"],"status":"any","source":"s"}]}`,
		`{"rules":[{"id":"x","role":"CLIENT","endpoints":["/token"],"status":"any","keys":["a"]}]}`,
		`not json`,
	} {
		_, err := ParseObligations([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestMissingDoesNotAllocateWhenNothingIsMissing(t *testing.T) {
	o := DefaultObligations()
	r := infoReport(RoleClient, "GET", "/open-banking/accounts/v2/accounts", 200, "consentId", "urn:b:1", "tokenId", "x")
	dst := make([]string, 0, 4)
	allocs := testing.AllocsPerRun(100, func() { dst = o.Missing(r, dst[:0]) })
	assert.Zero(t, allocs)
}

// TestTokenID: PCM's tokenId of a token (docs/pcm-rules.md §6): the first 72 bits of
// SHA-256(token + pepper), base64url, 12 characters. The vector was computed independently:
// printf '%s' 'eyJhbGciOiJQUzI1NiJ9.test-token”pepper-0123456789abcdef' | sha256sum →
// first 9 bytes, base64url.
func TestTokenID(t *testing.T) {
	got := TokenID("eyJhbGciOiJQUzI1NiJ9.test-token", "pepper-0123456789abcdef")
	assert.Len(t, got, 12)
	assert.Equal(t, tokenIDVector, got)
}

// tokenIDVector is the expected tokenId of TestTokenID, from sha256sum, xxd and base64.
const tokenIDVector = "yJXdSvTodUb5"
