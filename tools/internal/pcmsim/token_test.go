package pcmsim

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pcm-otel/pcmexporter/internal/devpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func form(grant, clientID string) url.Values {
	v := url.Values{}
	if grant != "" {
		v.Set("grant_type", grant)
	}
	if clientID != "" {
		v.Set("client_id", clientID)
	}
	return v
}

func TestTokenIssuedOverMTLS(t *testing.T) {
	e := newEnv(t, nil)
	code, body := e.tokenRequest(e.authClient("bank_a"), "/token/", form("client_credentials", "client-a"))
	require.Equal(t, http.StatusOK, code, string(body))

	// Exact key set and order of the PCM token response.
	o, err := parseObject(body)
	require.NoError(t, err)
	assert.Equal(t, []string{"access_token", "expires_in", "token_type", "refresh_expires_in", "not-before-policy", "scope"}, o.keys)
	var tr TokenResponse
	require.NoError(t, json.Unmarshal(body, &tr))
	assert.Equal(t, 21600, tr.ExpiresIn)
	assert.Equal(t, "Bearer", tr.TokenType)
	assert.Equal(t, "profile email", tr.Scope)

	// The JWT is readable without a key (PCM's is not encrypted) and carries the org.
	parts := strings.Split(tr.AccessToken, ".")
	require.Len(t, parts, 3)
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.Contains(t, string(hdr), `"alg":"ES256"`)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	assert.Equal(t, orgA, claims["org_id"])
	assert.Equal(t, "client-a", claims["client_id"])
	assert.Equal(t, float64(t0.Unix()), claims["iat"])
	assert.Equal(t, float64(t0.Unix()+21600), claims["exp"])

	c, err := e.srv.VerifyToken(tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, orgA, c.OrgID)
	assert.Equal(t, ssA, c.SoftwareStatementID)
	assert.Equal(t, e.srv.AuthURL(), c.Issuer)

	// A tampered token is rejected.
	_, err = e.srv.VerifyToken(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"org_id":"x","exp":9999999999}`)) + "." + parts[2])
	require.Error(t, err)
	assert.Equal(t, 1, e.srv.Stats().TokenRequests[TokenOutcomeIssued])
}

func TestTokenHandshakeRequiresDevCACertificate(t *testing.T) {
	e := newEnv(t, nil)
	noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: e.pki.RootTLS()}}
	_, err := noCert.PostForm(e.srv.TokenURL(), form("client_credentials", "client-a"))
	require.Error(t, err, "a client without a certificate must fail the handshake")

	other, err := devpki.NewCA("other CA", time.Hour)
	require.NoError(t, err)
	pair, err := other.IssueClient(ssA, orgA)
	require.NoError(t, err)
	cert, err := pair.TLSCertificate()
	require.NoError(t, err)
	foreign := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: e.pki.CA.Pool(), Certificates: []tls.Certificate{cert}}}}
	_, err = foreign.PostForm(e.srv.TokenURL(), form("client_credentials", "client-a"))
	require.Error(t, err, "a certificate from another CA must fail the handshake")

	// The API listener does not ask for a client certificate.
	resp, _ := e.do(http.MethodGet, "/sim/stats", "", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.authClient("bank_a"), e.authClient("bank_b")
	cases := []struct {
		name   string
		client *http.Client
		path   string
		form   url.Values
		code   int
		body   string
	}{
		{"unsupported grant", a, "/token/", form("password", "client-a"), 400, `{"error":"unsupported_grant_type","error_description":"Unsupported grant_type"}`},
		{"missing grant", a, "/token/", form("", "client-a"), 400, `{"error":"unsupported_grant_type","error_description":"Unsupported grant_type"}`},
		{"unknown client", a, "/token/", form("client_credentials", "nobody"), 400, `{"error":"invalid_client","error_description":"Invalid client credentials"}`},
		{"missing client", a, "/token/", form("client_credentials", ""), 400, `{"error":"invalid_client","error_description":"Invalid client credentials"}`},
		{"certificate of another org", b, "/token/", form("client_credentials", "client-a"), 401, `{"statusCode":401,"message":"ClientId is not valid to the orgId"}`},
		{"no trailing slash", a, "/token", form("client_credentials", "client-a"), 404, `{"message":"Not Found"}`},
		{"other path", a, "/oauth/token", form("client_credentials", "client-a"), 404, `{"message":"Not Found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.tokenRequest(tc.client, tc.path, tc.form)
			assert.Equal(t, tc.code, code)
			assert.JSONEq(t, tc.body, string(body))
		})
	}

	resp, err := a.Get(e.srv.TokenURL())
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// A JSON body (older manual example) is not a form: no grant_type.
	resp, err = a.Post(e.srv.TokenURL(), "application/json", strings.NewReader(`{"grant_type":"client_credentials","client_id":"client-a"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	st := e.srv.Stats().TokenRequests
	assert.Equal(t, 3, st[TokenOutcomeUnsupportedGrant])
	assert.Equal(t, 2, st[TokenOutcomeInvalidClient])
	assert.Equal(t, 1, st[TokenOutcomeOrgMismatch])
	assert.Equal(t, 2, st[TokenOutcomeNotFound])
	assert.Equal(t, 1, st[TokenOutcomeMethodNotAllowed])
}

func TestTokenCacheAndExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TokenLifetime = 100 * time.Second })
	first := e.token("bank_a")
	assert.Equal(t, 100, first.ExpiresIn)

	e.clock.Advance(30 * time.Second)
	second := e.token("bank_a")
	assert.Equal(t, first.AccessToken, second.AccessToken, "the active token is handed back")
	assert.Equal(t, 70, second.ExpiresIn, "expires_in is the remaining lifetime")

	other := e.token("bank_b")
	assert.NotEqual(t, first.AccessToken, other.AccessToken, "the cache is per client")

	// /token-fresh/ always mints, and the new token becomes the cached one.
	code, body := e.tokenRequest(e.authClient("bank_a"), "/token-fresh/", form("client_credentials", "client-a"))
	require.Equal(t, http.StatusOK, code)
	var fresh TokenResponse
	require.NoError(t, json.Unmarshal(body, &fresh))
	assert.NotEqual(t, first.AccessToken, fresh.AccessToken)
	assert.Equal(t, 100, fresh.ExpiresIn)
	assert.Equal(t, fresh.AccessToken, e.token("bank_a").AccessToken)

	// Valid until exp, refused after, and /token/ then issues a new one.
	code, _ = e.postPrivate(fresh.AccessToken, clientReport(fapi1))
	assert.Equal(t, http.StatusOK, code)
	e.clock.Advance(100 * time.Second)
	resp, respBody := e.do(http.MethodPost, PrivateReportPath, fresh.AccessToken, []any{clientReport(fapi2)}, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Unauthorized"}`, string(respBody))
	renewed := e.token("bank_a")
	assert.NotEqual(t, fresh.AccessToken, renewed.AccessToken)
	assert.Equal(t, 100, renewed.ExpiresIn)

	st := e.srv.Stats().TokenRequests
	assert.Equal(t, 2, st[TokenOutcomeCached])
	assert.Equal(t, 4, st[TokenOutcomeIssued])
}

func TestTokenFromOtherServerRejected(t *testing.T) {
	e1 := newEnv(t, nil)
	e2 := newEnv(t, nil)
	tok := e1.token("bank_a").AccessToken
	resp, _ := e2.do(http.MethodPost, PrivateReportPath, tok, []any{clientReport(fapi1)}, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a restarted simulator does not know old tokens")
}

func TestPermissiveDirectory(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Directory = nil })
	code, body := e.tokenRequest(e.authClient("bank_b"), "/token/", form("client_credentials", "anything"))
	require.Equal(t, http.StatusOK, code, string(body))
	var tr TokenResponse
	require.NoError(t, json.Unmarshal(body, &tr))
	c, err := e.srv.VerifyToken(tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, orgB, c.OrgID, "the organisation comes from the certificate")
	_, out := e.postPrivate(tr.AccessToken, serverReport(fapi1).with("clientOrgId", orgX))
	assert.Equal(t, StatusAccepted, out[0].Status, "every organisation exists")
}

func TestOrgFromCertificate(t *testing.T) {
	pki := testPKI(t)
	cert, err := pki.Clients["bank_a"].TLSCertificate()
	require.NoError(t, err)
	assert.Equal(t, orgA, orgFromCert(cert.Leaf))
}
