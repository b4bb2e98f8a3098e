package pcmsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIFaultForNextRequests(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("bank_a").AccessToken
	require.NoError(t, e.srv.SetFaults(Faults{API: Fault{Mode: "503", Count: 2, RetryAfter: 3}}))
	assert.Equal(t, 2, e.srv.Faults().API.Count)
	for i := 0; i < 2; i++ {
		resp, body := e.do(http.MethodPost, PrivateReportPath, tok, []any{clientReport(fapi1)}, nil)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Service Unavailable"}`, string(body))
		assert.Equal(t, "3", resp.Header.Get("Retry-After"))
	}
	code, _ := e.postPrivate(tok, clientReport(fapi1))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, Faults{}, e.srv.Faults(), "an exhausted fault is gone")
	st := e.srv.Stats()
	assert.Equal(t, 2, st.ReportRequests["503"])
	assert.Equal(t, 1, st.ItemsReceived, "items of failed requests are not received")
	assert.Len(t, e.srv.Reports(), 1)
}

func TestAPIFaultForDuration(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("bank_a").AccessToken
	require.NoError(t, e.srv.SetFaults(Faults{API: Fault{Mode: "500", For: Duration(10 * time.Second)}}))
	for _, tc := range []struct {
		advance time.Duration
		code    int
	}{{0, 500}, {5 * time.Second, 500}, {5 * time.Second, 200}} {
		e.clock.Advance(tc.advance)
		resp, body := e.do(http.MethodPost, PrivateReportPath, tok, []any{clientReport(fapi1)}, nil)
		assert.Equal(t, tc.code, resp.StatusCode, string(body))
		if tc.code == 500 {
			assert.JSONEq(t, `{"message":"Internal Server Error"}`, string(body))
		}
	}
	// GET report is part of the API too; /sim/ is not.
	require.NoError(t, e.srv.SetFaults(Faults{API: Fault{Mode: "429", RetryAfter: 7}}))
	resp, body := e.do(http.MethodGet, PrivateReportPath+fapi1, tok, nil, nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Too Many Requests"}`, string(body))
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	resp, _ = e.do(http.MethodGet, "/sim/summary", "", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAPIFaultCloseConnection(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2], func(t *testing.T) {
			e := newEnv(t, nil)
			tok := e.token("bank_a").AccessToken
			tr := &http.Transport{TLSClientConfig: e.pki.RootTLS(), ForceAttemptHTTP2: h2}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			post := func() (*http.Response, error) {
				data, _ := json.Marshal([]any{clientReport(fapi1)})
				req, err := http.NewRequest(http.MethodPost, e.srv.APIURL()+PrivateReportPath, bytes.NewReader(data))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				return client.Do(req)
			}
			require.NoError(t, e.srv.SetFaults(Faults{API: Fault{Mode: FaultClose, Count: 1}}))
			_, err := post()
			require.Error(t, err, "no answer")
			resp, err := post()
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, h2, resp.ProtoMajor == 2)
			assert.Equal(t, 1, e.srv.Stats().ReportRequests["closed"])
		})
	}
}

func TestAPILatency(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Faults = Faults{Latency: Duration(150 * time.Millisecond)} })
	tok := e.token("bank_a").AccessToken
	start := time.Now()
	code, _ := e.postPrivate(tok, clientReport(fapi1))
	assert.Equal(t, http.StatusOK, code)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
}

func TestTokenFaults(t *testing.T) {
	e := newEnv(t, nil)
	client := e.authClient("bank_a")
	f := form("client_credentials", "client-a")

	require.NoError(t, e.srv.SetFaults(Faults{Token: Fault{Mode: "500", Count: 1}}))
	code, body := e.tokenRequest(client, "/token/", f)
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.JSONEq(t, `{"message":"Internal server error"}`, string(body))
	code, _ = e.tokenRequest(client, "/token/", f)
	assert.Equal(t, http.StatusOK, code)

	require.NoError(t, e.srv.SetFaults(Faults{Token: Fault{Mode: "401", Count: 1}}))
	code, body = e.tokenRequest(client, "/token/", f)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.JSONEq(t, `{"message":"Unauthorized"}`, string(body))

	require.NoError(t, e.srv.SetFaults(Faults{Token: Fault{Mode: FaultHandshake, Count: 1}}))
	fresh := e.authClient("bank_a") // a new connection, so a new handshake
	_, err := fresh.PostForm(e.srv.TokenURL(), f)
	require.Error(t, err, "the handshake is refused")
	fresh.CloseIdleConnections()
	code, _ = e.tokenRequest(e.authClient("bank_a"), "/token/", f)
	assert.Equal(t, http.StatusOK, code)

	st := e.srv.Stats().TokenRequests
	assert.Equal(t, 2, st[TokenOutcomeFault])
	assert.Equal(t, 1, st[TokenOutcomeHandshakeRefused])
}

func TestSimFaultsAndResetOverHTTP(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("bank_a").AccessToken
	e.postPrivate(tok, clientReport(fapi1))

	resp, body := e.do(http.MethodPost, "/sim/faults", "", `{"api":{"mode":"503","count":3,"retryAfter":2},"latency":"1ms"}`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"api":{"mode":"503","count":3,"retryAfter":2},"token":{},"latency":"1ms"}`, string(body))
	resp, _ = e.do(http.MethodPost, PrivateReportPath, tok, []any{clientReport(fapi1)}, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	var f Faults
	e.getJSON("/sim/faults", &f)
	assert.Equal(t, 2, f.API.Count)

	for _, bad := range []string{`{"api":{"mode":"200"}}`, `{"token":{"mode":"close"}}`, `{"api":{"mode":"close","count":-1}}`, `{"latency":5}`, `{"bogus":1}`, `nope`} {
		resp, body := e.do(http.MethodPost, "/sim/faults", "", bad, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad+" → "+string(body))
	}

	resp, body = e.do(http.MethodPost, "/sim/reset", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"message":"state cleared"}`, string(body))
	assert.Empty(t, e.srv.Reports())
	assert.Equal(t, Faults{}, e.srv.Faults())
	assert.Equal(t, Stats{TokenRequests: map[string]int{}, ReportRequests: map[string]int{}, QueryRequests: map[string]int{}}, e.srv.Stats())
	// Tokens survive a reset; the cache does not.
	code, _ := e.postPrivate(tok, clientReport(fapi1))
	assert.Equal(t, http.StatusOK, code)
	assert.NotEqual(t, tok, e.token("bank_a").AccessToken)

	resp, _ = e.do(http.MethodGet, "/sim/reset", "", nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, _ = e.do(http.MethodGet, "/sim/nothing", "", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestParseFault(t *testing.T) {
	var f Faults
	require.NoError(t, ParseFault("api=503,count=2,retry-after=5", &f))
	require.NoError(t, ParseFault("token=handshake,for=30s", &f))
	require.NoError(t, ParseFault("latency=250ms", &f))
	require.NoError(t, ParseFault("token-latency=1s", &f))
	assert.Equal(t, Faults{
		API:          Fault{Mode: "503", Count: 2, RetryAfter: 5},
		Token:        Fault{Mode: FaultHandshake, For: Duration(30 * time.Second)},
		Latency:      Duration(250 * time.Millisecond),
		TokenLatency: Duration(time.Second),
	}, f)
	for _, bad := range []string{"api", "count=1", "api=200", "token=close", "api=close,count=x", "latency=fast", "colour=red"} {
		var f Faults
		assert.Error(t, ParseFault(bad, &f), bad)
	}
	var g Faults
	require.NoError(t, ParseFault("api=close", &g))
	assert.Equal(t, FaultClose, g.API.Mode)
}

func TestNewRejectsBadConfig(t *testing.T) {
	pki := testPKI(t)
	cfg, err := pki.Config()
	require.NoError(t, err)
	_, err = New(Config{ClientCAs: cfg.ClientCAs})
	assert.Error(t, err)
	_, err = New(Config{ServerCertificate: cfg.ServerCertificate})
	assert.Error(t, err)
	bad := cfg
	bad.Faults = Faults{API: Fault{Mode: "abc"}}
	_, err = New(bad)
	assert.Error(t, err)
	bad = cfg
	bad.Directory = &Directory{Orgs: []Org{{Name: "x", OrgID: "nope"}}}
	_, err = New(bad)
	assert.Error(t, err)
	bad = cfg
	bad.TokenLifetime = time.Millisecond
	_, err = New(bad)
	assert.Error(t, err)
}
