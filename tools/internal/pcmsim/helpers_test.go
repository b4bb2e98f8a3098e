package pcmsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	orgA  = "11111111-1111-4111-8111-111111111111"
	orgB  = "22222222-2222-4222-8222-222222222222"
	orgC  = "33333333-3333-4333-8333-333333333333"
	orgD  = "44444444-4444-4444-8444-444444444444" // in the directory, no client
	orgX  = "99999999-9999-4999-8999-999999999999" // not in the directory
	ssA   = "aaaaaaaa-0000-4000-8000-00000000000a"
	ssB   = "bbbbbbbb-0000-4000-8000-00000000000b"
	fapi1 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01"
	fapi2 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e02"

	accountsEP = "/open-banking/accounts/v2/accounts"
	channelsEP = "/open-banking/channels/v2/branches"
)

// t0 is the fake "now" of the tests.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func ts(d time.Duration) string { return t0.Add(d).Format(timestampLayout) }

type env struct {
	t     *testing.T
	pki   *DevPKI
	srv   *Server
	clock *fakeClock
	api   *http.Client
}

var (
	pkiOnce sync.Once
	pkiVal  *DevPKI
	pkiErr  error
)

// testPKI is shared by the tests (key generation is the slow part under -race).
func testPKI(t *testing.T) *DevPKI {
	pkiOnce.Do(func() {
		pkiVal, pkiErr = NewDevPKI(
			Org{Name: "bank_a", OrgID: orgA, SoftwareStatementID: ssA, ClientID: "client-a"},
			Org{Name: "bank_b", OrgID: orgB, SoftwareStatementID: ssB, ClientID: "client-b"},
			Org{Name: "bank_c", OrgID: orgC},
			Org{Name: "bank_d", OrgID: orgD, ClientID: "-"},
		)
	})
	require.NoError(t, pkiErr)
	return pkiVal
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	pki := testPKI(t)
	cfg, err := pki.Config()
	require.NoError(t, err)
	clock := &fakeClock{now: t0}
	cfg.Now = clock.Now
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	api := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.RootTLS()}}
	t.Cleanup(api.CloseIdleConnections)
	return &env{t: t, pki: pki, srv: srv, clock: clock, api: api}
}

// authClient presents the client certificate of org name.
func (e *env) authClient(name string) *http.Client {
	cfg, err := e.pki.ClientTLS(name)
	require.NoError(e.t, err)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	e.t.Cleanup(c.CloseIdleConnections)
	return c
}

func (e *env) tokenRequest(c *http.Client, path string, form url.Values) (int, []byte) {
	resp, err := c.PostForm(e.srv.AuthURL()+path, form)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, body
}

// token gets an access token for org name with its registered client_id.
func (e *env) token(name string) TokenResponse {
	org, ok := e.pki.Org(name)
	require.True(e.t, ok)
	code, body := e.tokenRequest(e.authClient(name), "/token/", url.Values{"grant_type": {"client_credentials"}, "client_id": {org.ClientID}})
	require.Equal(e.t, http.StatusOK, code, string(body))
	var tr TokenResponse
	require.NoError(e.t, json.Unmarshal(body, &tr))
	return tr
}

// do sends a request to the API listener; body is marshalled unless it is a []byte or string.
func (e *env) do(method, path, token string, body any, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.APIURL()+path, rd)
	require.NoError(e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.api.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp, data
}

// postPrivate posts items and decodes the per-item results (status 200 or 207 expected).
func (e *env) postPrivate(token string, items ...any) (int, []ReportResponse) {
	return e.postTo(PrivateReportPath, token, items...)
}

func (e *env) postTo(path, token string, items ...any) (int, []ReportResponse) {
	e.t.Helper()
	resp, body := e.do(http.MethodPost, path, token, items, nil)
	require.Contains(e.t, []int{200, 207}, resp.StatusCode, string(body))
	var out []ReportResponse
	require.NoError(e.t, json.Unmarshal(body, &out), string(body))
	require.Len(e.t, out, len(items))
	return resp.StatusCode, out
}

func (e *env) getJSON(path string, v any) {
	e.t.Helper()
	resp, body := e.do(http.MethodGet, path, "", nil, nil)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(e.t, json.Unmarshal(body, v), string(body))
}

type item map[string]any

// clientReport is a valid CLIENT report of bank A calling bank B.
func clientReport(fapi string) item {
	r := item{
		"role": "CLIENT", "endpoint": accountsEP, "statusCode": 200, "httpMethod": "GET",
		"clientOrgId": orgA, "serverOrgId": orgB, "clientSSId": ssA,
		"endpointUriPrefix": "https://api.bank-b.example/opbk", "correlationId": "4bf92f3577b34da6a3ce929d0e0e4736",
		"timestamp": ts(-time.Minute), "processTimespan": 120, "additionalInfo": item{},
	}
	if fapi != "" {
		r["fapiInteractionId"] = fapi
	}
	return r
}

// serverReport is a valid SERVER report of bank B serving bank A.
func serverReport(fapi string) item {
	r := item{
		"role": "SERVER", "endpoint": accountsEP, "statusCode": 200, "httpMethod": "GET",
		"clientOrgId": orgA, "serverOrgId": orgB, "timestamp": ts(-time.Minute), "processTimespan": 95,
	}
	if fapi != "" {
		r["fapiInteractionId"] = fapi
	}
	return r
}

func opendataReport() item {
	return item{
		"endpoint": channelsEP, "statusCode": 200, "httpMethod": "GET", "timestamp": ts(-time.Minute),
		"processTimespan": 30, "additionalInfo": item{"clientIp": "203.0.113.7"},
	}
}

// with returns a copy of r with the changes applied; a nil value deletes the key.
func (r item) with(kv ...any) item {
	out := item{}
	for k, v := range r {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}
