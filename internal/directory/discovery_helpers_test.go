package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// asServer is one real TLS server standing for many hosts: its client dials every address to
// it, and it routes on Host + path. The httptest certificate is valid for *.example.com, so
// every host of these tests is a single label under example.com.
type asServer struct {
	srv    *httptest.Server
	client *http.Client

	mu     sync.Mutex
	routes map[string]http.HandlerFunc // "host/path" → handler
	hits   map[string]int              // "host/path" → requests
	dials  map[string]int              // "host:port" → connections dialled
}

func newASServer(t *testing.T) *asServer {
	t.Helper()
	a := &asServer{routes: map[string]http.HandlerFunc{}, hits: map[string]int{}, dials: map[string]int{}}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := hostOnly(r.Host) + r.URL.Path
		a.mu.Lock()
		a.hits[key]++
		h := a.routes[key]
		a.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(a.srv.Close)
	tr := a.srv.Client().Transport.(*http.Transport).Clone()
	target := a.srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		a.mu.Lock()
		a.dials[addr]++
		a.mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, target)
	}
	a.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return a
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// handle routes "https://host/path" (or "host/path") to h.
func (a *asServer) handle(rawURL string, h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[strings.TrimPrefix(rawURL, "https://")] = h
}

// serve answers rawURL with body as JSON.
func (a *asServer) serve(rawURL, body string) {
	a.handle(rawURL, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
}

func (a *asServer) hitsOf(rawURL string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits[strings.TrimPrefix(rawURL, "https://")]
}

func (a *asServer) dialsTo(addr string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dials[addr]
}

// testOrg is one participants entry: an Active organisation with one authorisation server.
type testOrg struct {
	id        string
	discovery string // OpenIDDiscoveryDocument
	api       string // an ApiEndpoint, optional
}

func testOrgID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func participantsJSON(t testing.TB, orgs ...testOrg) []byte {
	t.Helper()
	type ep struct {
		APIEndpoint string `json:"ApiEndpoint"`
	}
	type res struct {
		Endpoints []ep `json:"ApiDiscoveryEndpoints"`
	}
	type as struct {
		Discovery string `json:"OpenIDDiscoveryDocument"`
		Resources []res  `json:"ApiResources"`
	}
	type org struct {
		ID      string `json:"OrganisationId"`
		Status  string `json:"Status"`
		Name    string `json:"OrganisationName"`
		Servers []as   `json:"AuthorisationServers"`
	}
	out := make([]org, 0, len(orgs))
	for _, o := range orgs {
		srv := as{Discovery: o.discovery}
		if o.api != "" {
			srv.Resources = []res{{Endpoints: []ep{{o.api}}}}
		}
		out = append(out, org{ID: o.id, Status: "Active", Name: "Org " + o.id[len(o.id)-2:], Servers: []as{srv}})
	}
	data, err := json.Marshal(out)
	require.NoError(t, err)
	return data
}

// discoveryJSON renders a discovery document whose token, PAR and registration endpoints are
// at base (the issuer) and whose mtls_endpoint_aliases are at aliasBase; "" leaves a set out.
func discoveryJSON(issuer, base, aliasBase string) string {
	doc := map[string]any{
		"issuer":                   issuer,
		"authorization_endpoint":   issuer + "/auth",
		"jwks_uri":                 issuer + "/jwks",
		"response_types_supported": []string{"code id_token"},
		"tls_client_certificate_bound_access_tokens": true,
	}
	if base != "" {
		doc["token_endpoint"] = base + "/token"
		doc["pushed_authorization_request_endpoint"] = base + "/par"
		doc["registration_endpoint"] = base + "/register"
	}
	if aliasBase != "" {
		doc["mtls_endpoint_aliases"] = map[string]string{
			"token_endpoint":                        aliasBase + "/token",
			"pushed_authorization_request_endpoint": aliasBase + "/par",
			"registration_endpoint":                 aliasBase + "/register",
			"revocation_endpoint":                   aliasBase + "/revoke",
		}
	}
	data, _ := json.Marshal(doc)
	return string(data)
}

// rounds collects the discovery rounds a Source reports.
type rounds chan DiscoveryStats

func newRounds() rounds { return make(rounds, 64) }

// record never blocks the discoverer: a test that lets rounds pile up reads only the latest.
func (r rounds) record(st DiscoveryStats) {
	select {
	case r <- st:
	default:
	}
}

// next waits for the next round. The bound only keeps a broken build from hanging: nothing is
// asserted about how long a round takes.
func (r rounds) next(t *testing.T) DiscoveryStats {
	t.Helper()
	select {
	case st := <-r:
		return st
	case <-time.After(time.Minute):
		t.Fatal("no discovery round ended")
		return DiscoveryStats{}
	}
}

// receive waits for ch; the bound only keeps a broken build from hanging.
func receive[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatal("nothing received")
	}
}

// serverOrg asserts what the Source resolves a URL to ("" for nothing).
func serverOrg(t *testing.T, s *Source, url, want string) {
	t.Helper()
	require.Equal(t, want, s.ServerOrg(url), "ServerOrg(%q)", url)
}

// expiringCtx is a context whose deadline passes when expire is closed: a fetch timeout that
// fires on cue instead of on the clock.
type expiringCtx struct {
	context.Context
	expired chan struct{}
}

func (c expiringCtx) Done() <-chan struct{} { return c.expired }

func (c expiringCtx) Err() error {
	select {
	case <-c.expired:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
