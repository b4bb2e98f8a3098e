package pcmexporter

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/devpki"
)

const (
	ourOrg   = "5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60"
	ourSS    = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	bankB    = "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d"
	bankC    = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	clientID = "client-banco-a"
)

// received is one report POST the fake PCM accepted for processing.
type received struct {
	path  string
	token string
	items []map[string]any
}

// answer decides the fake PCM's reply to a report POST; nil answers 200, all ACCEPTED.
type answer func(call int, r *received) (status int, header http.Header, body any)

// fakePCM is a PCM stand-in on real TLS: a token server that requires and verifies a client
// certificate from the test CA, and a report API that checks the Bearer token and headers.
type fakePCM struct {
	t        testing.TB
	token    *httptest.Server
	api      *httptest.Server
	certDir  string
	lifetime int // expires_in of issued tokens, seconds

	mu       sync.Mutex
	issued   []string
	revoked  map[string]bool
	posts    []*received
	calls    int
	answer   answer
	tokenErr int // answer token requests with this status while non-zero
	lookups  int // GET …/report/{id} received
	// lookupErr answers lookups with this status while non-zero.
	lookupErr int
}

func newFakePCM(t testing.TB) *fakePCM {
	t.Helper()
	ca, err := devpki.NewCA("fake PCM CA", time.Hour)
	require.NoError(t, err)
	serverPair, err := ca.IssueServer("127.0.0.1", "localhost")
	require.NoError(t, err)
	clientPair, err := ca.IssueClient(ourSS, ourOrg)
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = ca.WriteCA(dir, "ca")
	require.NoError(t, err)
	_, _, err = clientPair.Write(dir, "client")
	require.NoError(t, err)
	serverCert, err := serverPair.TLSCertificate()
	require.NoError(t, err)

	f := &fakePCM{t: t, certDir: dir, lifetime: 21600, revoked: map[string]bool{}}
	f.token = httptest.NewUnstartedServer(http.HandlerFunc(f.serveToken))
	f.token.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	f.token.StartTLS()
	f.api = httptest.NewUnstartedServer(http.HandlerFunc(f.serveReports))
	f.api.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	f.api.StartTLS()
	t.Cleanup(func() { f.token.Close(); f.api.Close() })
	return f
}

// config is a valid exporter configuration pointing at this fake PCM.
func (f *fakePCM) config() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = f.api.URL
	cfg.ClientConfig.TLS.CAFile = filepath.Join(f.certDir, "ca.crt")
	cfg.Token.URL = f.token.URL + "/token/"
	cfg.Token.ClientID = clientID
	cfg.Token.TLS.CAFile = filepath.Join(f.certDir, "ca.crt")
	cfg.Token.TLS.CertFile = filepath.Join(f.certDir, "client.crt")
	cfg.Token.TLS.KeyFile = filepath.Join(f.certDir, "client.key")
	cfg.OrgID = ourOrg
	cfg.SoftwareStatementID = ourSS
	cfg.Counterparts.Hosts = map[string]string{"api.banco-b.example": bankB}
	cfg.DeadLetter.Path = filepath.Join(f.t.TempDir(), "dead-letter.jsonl")
	return cfg
}

func (f *fakePCM) serveToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokenErr != 0 {
		http.Error(w, `{"message":"Internal server error"}`, f.tokenErr)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/token/" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != clientID || r.PostForm.Has("client_secret") || r.Header.Get("Authorization") != "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"Invalid client credentials"}`)
		return
	}
	if ou := r.TLS.PeerCertificates[0].Subject.OrganizationalUnit; len(ou) != 1 || ou[0] != ourOrg {
		http.Error(w, `{"statusCode":401,"message":"ClientId is not valid to the orgId"}`, http.StatusUnauthorized)
		return
	}
	tok := fmt.Sprintf("tok-%d", len(f.issued)+1)
	f.issued = append(f.issued, tok)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": f.lifetime, "token_type": "Bearer"})
}

func (f *fakePCM) serveReports(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	valid := ok && f.isIssued(tok) && !f.revoked[tok]
	f.mu.Unlock()
	switch {
	case !valid:
		writeJSON(w, http.StatusUnauthorized, nil, map[string]string{"message": "Unauthorized"})
		return
	case r.Method == http.MethodGet:
		f.serveLookup(w, r)
		return
	case r.Header.Get("Content-Type") != "application/json":
		writeJSON(w, http.StatusUnsupportedMediaType, nil, map[string]string{"message": "Unsupported Media Type"})
		return
	case r.Header.Get("Accept") != "application/json":
		writeJSON(w, http.StatusNotAcceptable, nil, map[string]string{"message": "Content type not accepted"})
		return
	}
	rec := &received{path: r.URL.Path, token: tok}
	if err := json.NewDecoder(r.Body).Decode(&rec.items); err != nil {
		writeJSON(w, http.StatusBadRequest, nil, map[string]string{"message": "Invalid payload format: MUST be an array"})
		return
	}
	f.mu.Lock()
	f.calls++
	call, answerFn := f.calls, f.answer
	f.mu.Unlock()
	status, header, body := http.StatusOK, http.Header(nil), any(nil)
	if answerFn != nil {
		status, header, body = answerFn(call, rec)
	}
	if body == nil {
		body = accepted(rec)
	}
	if status == http.StatusOK || status == http.StatusMultiStatus {
		f.mu.Lock()
		f.posts = append(f.posts, rec)
		f.mu.Unlock()
	}
	writeJSON(w, status, header, body)
}

// serveLookup answers GET …/private/report/{fapiInteractionId} with the stored private report
// of that id, as PCM's ReportModel, or 404.
func (f *fakePCM) serveLookup(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, privatePath)
	f.mu.Lock()
	f.lookups++
	status := f.lookupErr
	var found map[string]any
	for _, p := range f.posts {
		for _, it := range p.items {
			if ok && p.path == privatePath && it["fapiInteractionId"] == id {
				found = it
			}
		}
	}
	f.mu.Unlock()
	switch {
	case status != 0:
		writeJSON(w, status, nil, map[string]string{"message": "lookup failed"})
	case found == nil:
		writeJSON(w, http.StatusNotFound, nil, map[string]string{"message": "Not Found"})
	default:
		model := map[string]any{"reportId": "r-stored", "pairedReportId": nil, "status": "UNPAIRED",
			"createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}
		for k, v := range found {
			model[k] = v
		}
		writeJSON(w, http.StatusOK, nil, model)
	}
}

// store makes PCM hold items as if it had accepted a POST of them.
func (f *fakePCM) store(path string, items ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, &received{path: path, items: items})
}

func (f *fakePCM) lookupCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups
}

func (f *fakePCM) isIssued(tok string) bool {
	for _, t := range f.issued {
		if t == tok {
			return true
		}
	}
	return false
}

// revokeAll makes every issued token answer 401, as after a PCM-side revocation.
func (f *fakePCM) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.issued {
		f.revoked[t] = true
	}
}

func (f *fakePCM) setAnswer(a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = a
}

func (f *fakePCM) tokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issued)
}

// delivered returns every item PCM stored, by path.
func (f *fakePCM) delivered() map[string][]map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]map[string]any{}
	for _, p := range f.posts {
		out[p.path] = append(out[p.path], p.items...)
	}
	return out
}

func (f *fakePCM) postSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var sizes []int
	for _, p := range f.posts {
		sizes = append(sizes, len(p.items))
	}
	return sizes
}

func accepted(rec *received) []map[string]any {
	out := make([]map[string]any, len(rec.items))
	for i, it := range rec.items {
		out[i] = map[string]any{"reportId": fmt.Sprintf("r-%d", i), "status": "ACCEPTED"}
		if c, ok := it["correlationId"]; ok {
			out[i]["correlationId"] = c
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, header http.Header, body any) {
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
