package pcmapi

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pcm-otel/pcmexporter/internal/devpki"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testClientID = "ss-3c5a0b1e"
	testOrgID    = "org-5f3e9a21"
	privatePath  = "/report-api/v1/private/report/"
)

// testPKI is one CA with a server and a client certificate, plus a client certificate from a
// second CA the servers do not trust. Made once: key generation is the slow part.
type testPKI struct {
	ca          *devpki.CA
	server      tls.Certificate
	client      tls.Certificate
	otherClient tls.Certificate
}

var loadPKI = sync.OnceValues(func() (*testPKI, error) {
	ca, err := devpki.NewCA("pcmapi test CA", time.Hour)
	if err != nil {
		return nil, err
	}
	other, err := devpki.NewCA("untrusted CA", time.Hour)
	if err != nil {
		return nil, err
	}
	var p testPKI
	p.ca = ca
	for _, step := range []struct {
		dst   *tls.Certificate
		issue func() (devpki.Pair, error)
	}{
		{&p.server, func() (devpki.Pair, error) { return ca.IssueServer("127.0.0.1", "localhost") }},
		{&p.client, func() (devpki.Pair, error) { return ca.IssueClient(testClientID, testOrgID) }},
		{&p.otherClient, func() (devpki.Pair, error) { return other.IssueClient(testClientID, testOrgID) }},
	} {
		pair, err := step.issue()
		if err != nil {
			return nil, err
		}
		if *step.dst, err = pair.TLSCertificate(); err != nil {
			return nil, err
		}
	}
	return &p, nil
})

func pki(t *testing.T) *testPKI {
	t.Helper()
	p, err := loadPKI()
	require.NoError(t, err)
	return p
}

// httpClient trusts the test CA and presents certs (none for the API, the client certificate
// for the token endpoint).
func httpClient(t *testing.T, certs ...tls.Certificate) *http.Client {
	t.Helper()
	c := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki(t).ca.Pool(), Certificates: certs}},
		Timeout:   5 * time.Second,
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func startTLS(t *testing.T, h http.Handler, clientAuth bool) *httptest.Server {
	t.Helper()
	p := pki(t)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}}
	if clientAuth {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = p.ca.Pool()
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected in some tests
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// tokenServer is PCM's auth server: POST /token/ over mTLS, form-encoded client_credentials.
type tokenServer struct {
	*httptest.Server
	t       *testing.T
	fetches atomic.Int32
	// respond answers the n-th (1-based) valid token request; nil → grant(21600).
	respond func(r *http.Request, n int) (status int, contentType, body string)

	mu     sync.Mutex
	issued map[string]bool
	ous    []string
	paths  []string
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{t: t, issued: map[string]bool{}}
	ts.Server = startTLS(t, http.HandlerFunc(ts.serve), true)
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if problem := checkTokenRequest(r); problem != "" {
		ts.t.Errorf("token request: %s", problem)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"test server: bad token request"}`)
		return
	}
	ts.mu.Lock()
	ts.ous = append(ts.ous, r.TLS.PeerCertificates[0].Subject.OrganizationalUnit...)
	ts.paths = append(ts.paths, r.URL.Path)
	ts.mu.Unlock()
	n := int(ts.fetches.Add(1))
	status, ctype, body := ts.grant(3600)
	if ts.respond != nil {
		status, ctype, body = ts.respond(r, n)
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// checkTokenRequest enforces PCM's token request: POST to /token/ (or /token-fresh/) exactly, form-encoded
// grant_type and client_id, no client_secret, no Authorization header, a client certificate.
func checkTokenRequest(r *http.Request) string {
	switch {
	case r.Method != http.MethodPost:
		return "method " + r.Method
	case r.URL.Path != "/token/" && r.URL.Path != "/token-fresh/":
		return "path " + r.URL.Path
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		return "content type " + r.Header.Get("Content-Type")
	case r.Header.Get("Authorization") != "":
		return "an Authorization header was sent"
	case r.TLS == nil || len(r.TLS.PeerCertificates) == 0:
		return "no client certificate"
	}
	if err := r.ParseForm(); err != nil {
		return "form: " + err.Error()
	}
	want := "client_id=" + testClientID + "&grant_type=client_credentials"
	if got := r.PostForm.Encode(); got != want {
		return "form " + got
	}
	return ""
}

// newToken mints a unique JWT-looking token and remembers it as valid.
func (ts *tokenServer) newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	tok := "eyJhbGciOiJSUzI1NiJ9.test-" + hex.EncodeToString(b)
	ts.mu.Lock()
	ts.issued[tok] = true
	ts.mu.Unlock()
	return tok
}

// grant answers like PCM: 200 with a new token valid for expiresIn (a JSON value).
func (ts *tokenServer) grant(expiresIn any) (int, string, string) {
	body, _ := json.Marshal(map[string]any{
		"access_token": ts.newToken(), "token_type": "Bearer", "expires_in": expiresIn,
		"refresh_expires_in": 0, "not-before-policy": 0, "scope": "profile email",
	})
	return http.StatusOK, "application/json", string(body)
}

func (ts *tokenServer) valid(tok string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued[tok]
}

// seen returns the request paths and client certificate OUs of the accepted token requests.
func (ts *tokenServer) seen() (paths, ous []string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.paths...), append([]string(nil), ts.ous...)
}

func paths(ts *tokenServer) []string {
	p, _ := ts.seen()
	return p
}

func (ts *tokenServer) allIssued() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]string, 0, len(ts.issued))
	for tok := range ts.issued {
		out = append(out, tok)
	}
	return out
}

func (ts *tokenServer) source(t *testing.T, cfg TokenConfig) *TokenSource {
	cfg.URL = ts.URL + "/token/"
	cfg.ClientID = testClientID
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = httpClient(t, pki(t).client)
	}
	return NewTokenSource(cfg)
}

// testItem is what the tests put in a report: enough to follow it through the API.
type testItem struct {
	ID            string `json:"id"`
	CorrelationID string `json:"correlationId"`
	Pad           string `json:"pad,omitempty"`
}

func makeItems(n int) [][]byte {
	items := make([][]byte, n)
	for i := range items {
		items[i] = []byte(fmt.Sprintf(`{"id":"r%d","correlationId":"c%d"}`, i, i))
	}
	return items
}

// apiRequest is one POST the API server received.
type apiRequest struct {
	N     int // 1-based
	Token string
	Items []testItem
	Body  []byte
	Path  string
	UA    string
	// Status is what the handler answered: only a 2xx delivered the items.
	Status int
}

func (r apiRequest) has(id string) bool {
	for _, it := range r.Items {
		if it.ID == id {
			return true
		}
	}
	return false
}

// apiServer is PCM's report API. It checks what every report POST must carry and hands the
// decoded request to handle.
type apiServer struct {
	*httptest.Server
	t      *testing.T
	tokens *tokenServer
	handle func(w http.ResponseWriter, r *http.Request, req apiRequest)

	mu       sync.Mutex
	requests []apiRequest
}

func newAPIServer(t *testing.T, tokens *tokenServer, handle func(http.ResponseWriter, *http.Request, apiRequest)) *apiServer {
	as := &apiServer{t: t, tokens: tokens, handle: handle}
	if as.handle == nil {
		as.handle = acceptAll
	}
	as.Server = startTLS(t, http.HandlerFunc(as.serve), false)
	return as
}

func (as *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		as.t.Errorf("reading body: %v", err)
	}
	auth := r.Header.Get("Authorization")
	tok, isBearer := strings.CutPrefix(auth, "Bearer ")
	switch {
	case r.Method != http.MethodPost:
		as.t.Errorf("method %s", r.Method)
	case !isBearer || tok == "":
		as.t.Errorf("no bearer token")
	case as.tokens != nil && !as.tokens.valid(tok):
		as.t.Errorf("bearer token %q was not issued by the token server", tok)
	case r.Header.Get("Content-Type") != "application/json":
		as.t.Errorf("content type %q", r.Header.Get("Content-Type"))
	case r.Header.Get("Accept") != "application/json":
		as.t.Errorf("accept %q", r.Header.Get("Accept"))
	case !bytes.HasPrefix(body, []byte("[")):
		as.t.Errorf("body is not a JSON array: %.40s", body)
	}
	var items []testItem
	if err := json.Unmarshal(body, &items); err != nil {
		as.t.Errorf("body: %v", err)
	}
	as.mu.Lock()
	req := apiRequest{N: len(as.requests) + 1, Token: tok, Items: items, Body: body, Path: r.URL.Path, UA: r.UserAgent()}
	as.requests = append(as.requests, req)
	as.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	as.handle(rec, r, req)
	as.mu.Lock()
	as.requests[req.N-1].Status = rec.code
	as.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// idsDelivered lists, in order, the item ids of the requests answered with a 2xx.
func idsDelivered(reqs []apiRequest) []string {
	var ids []string
	for _, r := range reqs {
		if r.Status >= 200 && r.Status < 300 {
			for _, it := range r.Items {
				ids = append(ids, it.ID)
			}
		}
	}
	return ids
}

func (as *apiServer) received() []apiRequest {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]apiRequest(nil), as.requests...)
}

// result is one ReportResponse as the test servers write it.
type result struct {
	ReportID      string `json:"reportId"`
	Status        string `json:"status"`
	CorrelationID string `json:"correlationId,omitempty"`
	Message       string `json:"message,omitempty"`
}

func reportID(it testItem) string { return "rep-" + it.ID }

// writeResults answers with one ReportResponse per item, statusOf deciding status and message.
func writeResults(w http.ResponseWriter, code int, items []testItem, statusOf func(i int, it testItem) (string, string)) {
	out := make([]result, len(items))
	for i, it := range items {
		status, msg := statusOf(i, it)
		out[i] = result{ReportID: reportID(it), Status: status, CorrelationID: it.CorrelationID, Message: msg}
	}
	writeJSON(w, code, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func acceptAll(w http.ResponseWriter, _ *http.Request, req apiRequest) {
	writeResults(w, http.StatusOK, req.Items, func(int, testItem) (string, string) { return StatusAccepted, "" })
}

func writeMessage(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

// fixture is a token server, an API server and a Client wired to both, with the hooks recorded.
type fixture struct {
	tokenSrv *tokenServer
	api      *apiServer
	tokens   *TokenSource
	client   *Client

	mu        sync.Mutex
	responses []observedResponse
	outcomes  []string
}

type observedResponse struct {
	path   string
	status int
	d      time.Duration
}

// refusingMoreThan answers a POST of more than n items with 413, as PCM does past its record
// limit, and accepts the others.
func refusingMoreThan(n int) func(http.ResponseWriter, *http.Request, apiRequest) {
	return func(w http.ResponseWriter, r *http.Request, req apiRequest) {
		if len(req.Items) > n {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Record limit exceeded")
			return
		}
		acceptAll(w, r, req)
	}
}

func newFixture(t *testing.T, handle func(http.ResponseWriter, *http.Request, apiRequest), tweak ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{tokenSrv: newTokenServer(t)}
	f.api = newAPIServer(t, f.tokenSrv, handle)
	f.tokens = f.tokenSrv.source(t, TokenConfig{
		ExpiryBuffer: 5 * time.Minute,
		OnRequest: func(outcome string, _ error) {
			f.mu.Lock()
			f.outcomes = append(f.outcomes, outcome)
			f.mu.Unlock()
		},
	})
	cfg := Config{
		HTTPClient: httpClient(t),
		Endpoint:   f.api.URL,
		Tokens:     f.tokens,
		OnResponse: func(path string, status int, d time.Duration) {
			f.mu.Lock()
			f.responses = append(f.responses, observedResponse{path, status, d})
			f.mu.Unlock()
		},
	}
	for _, fn := range tweak {
		fn(&cfg)
	}
	f.client = NewClient(cfg)
	return f
}

func (f *fixture) observed() ([]observedResponse, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]observedResponse(nil), f.responses...), append([]string(nil), f.outcomes...)
}

// requireNoSecrets fails if err's text holds any token the token server issued.
func requireNoSecrets(t *testing.T, ts *tokenServer, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, tok := range ts.allIssued() {
		require.NotContains(t, err.Error(), tok, "error text leaks an access token")
	}
	require.NotContains(t, err.Error(), "Bearer ")
}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
