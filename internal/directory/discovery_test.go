package directory

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const participantsURL = "https://directory.example.com/participants"

// discoveryEnv is a Directory and its participants' authorisation servers on one TLS server.
type discoveryEnv struct {
	*asServer
	mu           sync.Mutex
	participants []byte
}

func newDiscoveryEnv(t *testing.T, orgs ...testOrg) *discoveryEnv {
	e := &discoveryEnv{asServer: newASServer(t)}
	e.setParticipants(t, orgs...)
	e.handle(participantsURL, func(w http.ResponseWriter, _ *http.Request) {
		e.mu.Lock()
		body := e.participants
		e.mu.Unlock()
		_, _ = w.Write(body)
	})
	return e
}

func (e *discoveryEnv) setParticipants(t testing.TB, orgs ...testOrg) {
	data := participantsJSON(t, orgs...)
	e.mu.Lock()
	e.participants = data
	e.mu.Unlock()
}

// source builds a Source reading the participants from the Directory URL, with discovery on.
func (e *discoveryEnv) source(t *testing.T, cache string, dc DiscoveryConfig, r rounds) *Source {
	t.Helper()
	dc.Enabled = true
	if dc.Client == nil {
		dc.Client = e.client
	}
	if r != nil {
		dc.OnRound = r.record
	}
	s := NewSource(SourceConfig{URL: participantsURL, Client: e.client, CacheFile: cache, Discovery: dc})
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s
}

// The organisations of the discovery tests and their documents.
var (
	orgA = testOrg{id: testOrgID(1), discovery: "https://as-a.example.com/.well-known/openid-configuration", api: "https://api-a.example.com/open-banking/accounts/v2/accounts"}
	orgB = testOrg{id: testOrgID(2), discovery: "https://login-b.example.com/realms/b/.well-known/openid-configuration"}
	orgC = testOrg{id: testOrgID(3), discovery: "https://login-c.example.com/realms/c/.well-known/openid-configuration"}
	orgD = testOrg{id: testOrgID(4), discovery: "https://as-d.example.com/.well-known/openid-configuration"}
	orgE = testOrg{id: testOrgID(5), discovery: "https://as-e.example.com/.well-known/openid-configuration"}
	orgF = testOrg{id: testOrgID(6), discovery: "https://as-f.example.com/.well-known/openid-configuration"}
	orgG = testOrg{id: testOrgID(7), discovery: "https://as-g.example.com/.well-known/openid-configuration"}
)

func serveStandardDocs(e *discoveryEnv) {
	// A: aliases on their own mTLS host.
	e.serve(orgA.discovery, discoveryJSON("https://as-a.example.com", "https://as-a.example.com", "https://matls-a.example.com"))
	// B and C share one mTLS host, one realm each: the endpoint bases tell them apart.
	e.serve(orgB.discovery, discoveryJSON("https://login-b.example.com/realms/b", "https://login-b.example.com/realms/b", "https://mtls-shared.example.com/realms/b"))
	e.serve(orgC.discovery, discoveryJSON("https://login-c.example.com/realms/c", "https://login-c.example.com/realms/c", "https://mtls-shared.example.com/realms/c"))
	// D and E both name the same aliases: ambiguous.
	e.serve(orgD.discovery, discoveryJSON("https://as-d.example.com", "", "https://matls-dup.example.com"))
	e.serve(orgE.discovery, discoveryJSON("https://as-e.example.com", "", "https://matls-dup.example.com"))
	// F names A's API host as its alias: the participants file assigns that host to A.
	e.serve(orgF.discovery, discoveryJSON("https://as-f.example.com", "", "https://api-a.example.com"))
	// G: no aliases, but its token endpoint is on another host than its discovery document.
	e.serve(orgG.discovery, discoveryJSON("https://as-g.example.com", "https://token-g.example.com/oauth", ""))
}

// TestDiscoveryResolvesAliases: token, PAR and registration calls to the hosts the discovery
// documents name resolve to the organisation listing the document, under the ambiguity rules.
func TestDiscoveryResolvesAliases(t *testing.T) {
	e := newDiscoveryEnv(t, orgA, orgB, orgC, orgD, orgE, orgF, orgG)
	serveStandardDocs(e)
	cache := filepath.Join(t.TempDir(), "state", "participants.json")
	r := newRounds()
	s := e.source(t, cache, DiscoveryConfig{}, r)
	require.NoError(t, s.Start(context.Background()))
	st := r.next(t)
	assert.Equal(t, DiscoveryStats{Listed: 7, Fetched: 7, Documents: 7, Hosts: 8, Ambiguous: 5}, st)
	assert.Equal(t, st, s.DiscoveryStats())
	assert.False(t, s.DiscoveryPending())

	for _, tt := range []struct{ url, want string }{
		{"https://matls-a.example.com/token", orgA.id},
		{"https://matls-a.example.com/par", orgA.id},
		{"https://MATLS-A.example.com:443/register?x=1", orgA.id},
		{"https://matls-a.example.com/anything-else", orgA.id}, // the host rule
		{"https://mtls-shared.example.com/realms/b/token", orgB.id},
		{"https://mtls-shared.example.com/realms/c/par", orgC.id},
		{"https://mtls-shared.example.com/realms/x/token", ""}, // the shared host itself is ambiguous
		{"https://matls-dup.example.com/token", ""},            // D and E both name it
		{"https://api-a.example.com/token", orgA.id},           // the participants file decides, not F's document
		{"https://token-g.example.com/oauth/token", orgG.id},   // a non-alias endpoint on another host
		{"http://matls-a.example.com/token", orgA.id},          // the host rule compares host names only, as for the participants
		{"https://unknown.example.com/token", ""},
	} {
		serverOrg(t, s, tt.url, tt.want)
	}
	// The participants' own rules are unchanged.
	serverOrg(t, s, "https://api-a.example.com/open-banking/accounts/v2/accounts", orgA.id)
	serverOrg(t, s, "https://login-b.example.com/realms/b/protocol/openid-connect/token", orgB.id)
	// The participants Index alone does not know the aliases.
	_, ok := s.Index().OrgByURL("https://matls-a.example.com/token")
	assert.False(t, ok)

	// The cache is one JSON file beside the participants cache, written atomically.
	dcache := filepath.Join(filepath.Dir(cache), "participants.discovery.json")
	data, err := os.ReadFile(dcache)
	require.NoError(t, err)
	var c discoveryCache
	require.NoError(t, json.Unmarshal(data, &c))
	assert.Equal(t, 1, c.Version)
	assert.Len(t, c.Documents, 7)
	assert.Equal(t, "https://matls-a.example.com/token", c.Documents[orgA.discovery].MTLSAliases.TokenEndpoint)
	entries, err := os.ReadDir(filepath.Dir(cache))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left behind")
}

// TestDiscoveryAmbiguousDocumentURL: a discovery document listed by two organisations names
// endpoints that resolve nothing, and it still blocks a third organisation's claim on its hosts.
func TestDiscoveryAmbiguousDocumentURL(t *testing.T) {
	shared := "https://as-s.example.com/.well-known/openid-configuration"
	x := testOrg{id: testOrgID(10), discovery: shared}
	y := testOrg{id: testOrgID(11), discovery: shared}
	z := testOrg{id: testOrgID(12), discovery: "https://as-z.example.com/.well-known/openid-configuration"}
	e := newDiscoveryEnv(t, x, y, z)
	e.serve(shared, discoveryJSON("https://as-s.example.com", "", "https://matls-s.example.com"))
	e.serve(z.discovery, discoveryJSON("https://as-z.example.com", "", "https://matls-s.example.com"))
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{}, r)
	require.NoError(t, s.Start(context.Background()))
	r.next(t)
	serverOrg(t, s, "https://matls-s.example.com/token", "")
	assert.Equal(t, 1, e.hitsOf(shared), "fetched once for both organisations")
}

// TestDiscoveryDoesNotBlockStart: Start returns while documents are still loading; the
// participants resolve at once, and the aliases as their documents arrive.
func TestDiscoveryDoesNotBlockStart(t *testing.T) {
	e := newDiscoveryEnv(t, orgA, orgB)
	release := make(chan struct{})
	e.handle(orgA.discovery, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(discoveryJSON("https://as-a.example.com", "", "https://matls-a.example.com")))
	})
	e.serve(orgB.discovery, discoveryJSON("https://login-b.example.com/realms/b", "", "https://mtls-b.example.com/realms/b"))
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{Concurrency: 2}, r)
	require.NoError(t, s.Start(context.Background()))

	serverOrg(t, s, "https://api-a.example.com/open-banking/accounts/v2/accounts", orgA.id)
	serverOrg(t, s, "https://matls-a.example.com/token", "")
	assert.True(t, s.DiscoveryPending())
	// B's document arrives while A's is held: B's alias resolves before the round ends.
	require.Eventually(t, func() bool { return s.ServerOrg("https://mtls-b.example.com/realms/b/token") == orgB.id },
		time.Minute, time.Millisecond)
	assert.True(t, s.DiscoveryPending())
	serverOrg(t, s, "https://matls-a.example.com/token", "")

	close(release)
	st := r.next(t)
	assert.Equal(t, 2, st.Fetched)
	assert.False(t, s.DiscoveryPending())
	serverOrg(t, s, "https://matls-a.example.com/token", orgA.id)
}

// TestDiscoveryServerDownKeepsCachedCopy: with the authorisation servers down, a new start
// resolves the aliases from the cache file at once, and a failed round keeps them.
func TestDiscoveryServerDownKeepsCachedCopy(t *testing.T) {
	dir := t.TempDir()
	dcache := filepath.Join(dir, "discovery.json")
	e := newDiscoveryEnv(t, orgA, orgB)
	serveStandardDocs(e)
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{CacheFile: dcache}, r)
	require.NoError(t, s.Start(context.Background()))
	r.next(t)
	require.NoError(t, s.Shutdown(context.Background()))
	written, err := os.ReadFile(dcache)
	require.NoError(t, err)

	// Participants from a file; no authorisation server answers.
	file := filepath.Join(dir, "participants.json")
	require.NoError(t, os.WriteFile(file, e.participants, 0o600))
	down := newASServer(t)
	down.srv.Close() // every authorisation server refuses connections
	core, logs := observer.New(zapcore.WarnLevel)
	r2 := newRounds()
	s2 := NewSource(SourceConfig{File: file, Logger: zap.New(core), Discovery: DiscoveryConfig{
		Enabled: true, Client: down.client, CacheFile: dcache, OnRound: r2.record,
	}})
	t.Cleanup(func() { require.NoError(t, s2.Shutdown(context.Background())) })
	require.NoError(t, s2.Start(context.Background()))
	serverOrg(t, s2, "https://matls-a.example.com/token", orgA.id) // from the cache, before any fetch
	st := r2.next(t)
	assert.Equal(t, DiscoveryStats{Listed: 2, Failed: 2, Documents: 2, Hosts: 4}, st)
	serverOrg(t, s2, "https://matls-a.example.com/token", orgA.id)
	serverOrg(t, s2, "https://mtls-shared.example.com/realms/b/par", orgB.id)
	again, err := os.ReadFile(dcache)
	require.NoError(t, err)
	assert.Equal(t, written, again, "the last good copies stay in the cache")
	require.Equal(t, 1, logs.FilterMessage("Directory discovery documents not fetched; the last good copy of each, if any, is kept").Len())
}

// TestDiscoveryTimeout: a server that does not answer is abandoned when the fetch's timeout
// expires; the round ends, the other documents are read and the slow one keeps its last copy.
func TestDiscoveryTimeout(t *testing.T) {
	e := newDiscoveryEnv(t, orgA, orgB)
	serveStandardDocs(e)
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{}, r)
	require.NoError(t, s.Start(context.Background()))
	r.next(t)
	require.NoError(t, s.Shutdown(context.Background()))

	arrived := make(chan struct{})
	var once sync.Once
	e.handle(orgA.discovery, func(_ http.ResponseWriter, req *http.Request) {
		once.Do(func() { close(arrived) })
		<-req.Context().Done() // never answers: only the client's timeout ends this
	})
	core, logs := observer.New(zapcore.WarnLevel)
	r2 := newRounds()
	s2 := NewSource(SourceConfig{URL: participantsURL, Client: e.client, Logger: zap.New(core), Discovery: DiscoveryConfig{
		Enabled: true, Client: e.client, OnRound: r2.record,
	}})
	// Seed s2 with s's documents, as a previous round would have.
	s2.disc.docs = s.disc.docs
	s2.disc.timeoutCtx = func(ctx context.Context, rawURL string) (context.Context, context.CancelFunc) {
		if rawURL == orgA.discovery {
			return expiringCtx{ctx, arrived}, func() {} // the deadline passes once the request is in
		}
		return ctx, func() {}
	}
	t.Cleanup(func() { require.NoError(t, s2.Shutdown(context.Background())) })
	require.NoError(t, s2.Start(context.Background()))
	st := r2.next(t)
	assert.Equal(t, 1, st.Failed)
	assert.Equal(t, 1, st.Fetched)
	serverOrg(t, s2, "https://matls-a.example.com/token", orgA.id)
	msg := logs.FilterMessage("Directory discovery documents not fetched; the last good copy of each, if any, is kept").All()
	require.Len(t, msg, 1)
	first := msg[0].ContextMap()["first"].([]any)
	require.Len(t, first, 1)
	assert.Contains(t, first[0], orgA.discovery+": context deadline exceeded")
}

// TestDiscoveryTooLarge: a document over MaxDocumentBytes is refused, announced by its
// Content-Length or streamed; the others are read.
func TestDiscoveryTooLarge(t *testing.T) {
	e := newDiscoveryEnv(t, orgA, orgG, orgC)
	serveStandardDocs(e)
	big := discoveryJSON("https://as-a.example.com", "", "https://matls-a.example.com")
	big = big[:len(big)-1] + `,"padding":"` + strings.Repeat("x", 4096) + `"}`
	e.serve(orgA.discovery, big) // with a Content-Length
	e.handle(orgG.discovery, func(w http.ResponseWriter, _ *http.Request) {
		w.(http.Flusher).Flush() // chunked: no Content-Length
		_, _ = w.Write([]byte(big))
	})
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{MaxDocumentBytes: 2048}, r)
	require.NoError(t, s.Start(context.Background()))
	st := r.next(t)
	assert.Equal(t, 2, st.Failed)
	assert.Equal(t, 1, st.Fetched)
	serverOrg(t, s, "https://matls-a.example.com/token", "")
	serverOrg(t, s, "https://token-g.example.com/oauth/token", "")
	serverOrg(t, s, "https://mtls-shared.example.com/realms/c/token", orgC.id)
}

// TestDiscoveryTotalBytes: a round reads at most MaxTotalBytes; the documents past it are not
// fetched at all.
func TestDiscoveryTotalBytes(t *testing.T) {
	orgZ := testOrg{id: testOrgID(26), discovery: "https://login-z.example.com/realms/z/.well-known/openid-configuration"}
	e := newDiscoveryEnv(t, orgA, orgB, orgC, orgZ)
	serveStandardDocs(e)
	e.serve(orgZ.discovery, discoveryJSON("https://login-z.example.com/realms/z", "", "https://matls-z.example.com"))
	sizes := 0
	for _, o := range []testOrg{orgA, orgB} { // the first two in URL order
		sizes += len(docBody(t, e, o.discovery))
	}
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{Concurrency: 1, MaxTotalBytes: int64(sizes + 1)}, r)
	require.NoError(t, s.Start(context.Background()))
	st := r.next(t)
	assert.Equal(t, DiscoveryStats{Listed: 4, Fetched: 2, Skipped: 2, Documents: 2, Hosts: 4}, st)
	// C's document is fetched and overruns the budget; Z's is not even asked for.
	assert.Equal(t, 1, e.hitsOf(orgC.discovery))
	assert.Equal(t, 0, e.hitsOf(orgZ.discovery))
}

func docBody(t *testing.T, e *discoveryEnv, rawURL string) string {
	t.Helper()
	resp, err := e.client.Get(rawURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(data)
}

// TestDiscoveryMaxDocuments: only the first MaxDocuments URLs (in URL order) are fetched.
func TestDiscoveryMaxDocuments(t *testing.T) {
	e := newDiscoveryEnv(t, orgA, orgB, orgC)
	serveStandardDocs(e)
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{MaxDocuments: 2}, r)
	require.NoError(t, s.Start(context.Background()))
	st := r.next(t)
	assert.Equal(t, 3, st.Listed)
	assert.Equal(t, 2, st.Fetched)
	assert.Equal(t, 1, st.Skipped)
	assert.Equal(t, 0, e.hitsOf(orgC.discovery)) // login-c sorts last
}

// TestDiscoveryHTTPSOnly: a discovery URL that is not https is never fetched, and a redirect to
// http is not followed.
func TestDiscoveryHTTPSOnly(t *testing.T) {
	plain := testOrg{id: testOrgID(20), discovery: "http://as-p.example.com/.well-known/openid-configuration"}
	redirected := testOrg{id: testOrgID(21), discovery: "https://as-r.example.com/.well-known/openid-configuration"}
	e := newDiscoveryEnv(t, orgA, plain, redirected)
	serveStandardDocs(e)
	e.handle(redirected.discovery, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://as-r.example.com/.well-known/openid-configuration", http.StatusFound)
	})
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{}, r)
	require.NoError(t, s.Start(context.Background()))
	st := r.next(t)
	assert.Equal(t, 1, st.Refused)
	assert.Equal(t, 1, st.Failed)
	assert.Equal(t, 1, st.Fetched)
	assert.Zero(t, e.dialsTo("as-p.example.com:80"))
	assert.Zero(t, e.dialsTo("as-r.example.com:80"))
	assert.Equal(t, 1, e.hitsOf(redirected.discovery))
}

// TestDiscoveryConcurrencyBound: no more than Concurrency documents are fetched at once from
// real servers, and that many are (TestDiscoveryConcurrencyExact checks every step).
func TestDiscoveryConcurrencyBound(t *testing.T) {
	const n, bound = 10, 3
	orgs := make([]testOrg, n)
	for i := range orgs {
		orgs[i] = testOrg{id: testOrgID(100 + i), discovery: "https://as-" + string(rune('a'+i)) + "x.example.com/.well-known/openid-configuration"}
	}
	e := newDiscoveryEnv(t, orgs...)
	var inflight, most atomic.Int32
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	for _, o := range orgs {
		e.handle(o.discovery, func(w http.ResponseWriter, r *http.Request) {
			cur := inflight.Add(1)
			for old := most.Load(); cur > old && !most.CompareAndSwap(old, cur); old = most.Load() {
			}
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			inflight.Add(-1) // before answering: the client starts the next fetch only after the answer
			_, _ = w.Write([]byte(discoveryJSON("https://x", "", "https://matls-"+hostOnly(r.Host))))
		})
	}
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{Concurrency: bound}, r)
	require.NoError(t, s.Start(context.Background()))
	for range bound {
		receive(t, arrived)
	}
	for i := range n { // release one, let the next one in
		release <- struct{}{}
		if i+bound < n {
			receive(t, arrived)
		}
	}
	st := r.next(t)
	assert.Equal(t, n, st.Fetched)
	assert.Equal(t, int32(bound), most.Load())
	serverOrg(t, s, "https://matls-as-ax.example.com/token", orgs[0].id)
}

// TestDiscoveryRefreshPicksUpChanges: every participants refresh re-reads the documents: a
// changed alias replaces the old one, a failing document keeps its last copy, and the document
// of an organisation gone from the participants is forgotten.
func TestDiscoveryRefreshPicksUpChanges(t *testing.T) {
	e := newDiscoveryEnv(t, orgA, orgB, orgC)
	serveStandardDocs(e)
	cache := filepath.Join(t.TempDir(), "participants.json")
	r := newRounds()
	dc := DiscoveryConfig{Enabled: true, Client: e.client, OnRound: r.record}
	s := NewSource(SourceConfig{URL: participantsURL, Client: e.client, CacheFile: cache, Refresh: time.Millisecond, Discovery: dc})
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	require.NoError(t, s.Start(context.Background()))
	r.next(t)
	serverOrg(t, s, "https://matls-a.example.com/token", orgA.id)

	e.serve(orgA.discovery, discoveryJSON("https://as-a.example.com", "", "https://matls2-a.example.com"))
	e.handle(orgB.discovery, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) })
	e.setParticipants(t, orgA, orgB) // C leaves
	for st := r.next(t); st.Listed != 2 || s.ServerOrg("https://matls2-a.example.com/token") == ""; st = r.next(t) {
	}
	serverOrg(t, s, "https://matls2-a.example.com/token", orgA.id)
	serverOrg(t, s, "https://matls-a.example.com/token", "")
	serverOrg(t, s, "https://mtls-shared.example.com/realms/b/token", orgB.id) // last good copy
	serverOrg(t, s, "https://login-c.example.com/realms/c/token", "")          // C's document is forgotten
	// (its alias host is now B's alone: https://mtls-shared.example.com/realms/c/… resolves to B by the host rule)
	require.NoError(t, s.Shutdown(context.Background()))
	var c discoveryCache
	data, err := os.ReadFile(DiscoveryCacheFile(cache))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &c))
	assert.Len(t, c.Documents, 2)
	assert.NotContains(t, c.Documents, orgC.discovery)
}

// TestDiscoveryBadDocumentKeepsLastCopy: a document that is not one (no endpoints, wrong types,
// not JSON) keeps the last good copy.
func TestDiscoveryBadDocumentKeepsLastCopy(t *testing.T) {
	for name, body := range map[string]string{
		"html":         "<html>maintenance</html>",
		"no endpoints": `{"issuer":"https://as-a.example.com"}`,
		"wrong type":   `{"mtls_endpoint_aliases":["https://matls-a.example.com/token"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newDiscoveryEnv(t, orgA)
			serveStandardDocs(e)
			r := newRounds()
			s := e.source(t, "", DiscoveryConfig{}, r)
			require.NoError(t, s.Start(context.Background()))
			r.next(t)
			e.serve(orgA.discovery, body)
			s.disc.trigger()
			st := r.next(t)
			assert.Equal(t, 1, st.Failed)
			serverOrg(t, s, "https://matls-a.example.com/token", orgA.id)
		})
	}
}

func TestDiscoveryCacheFileName(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "",
		"/var/lib/otelcol/pcm-participants.json": "/var/lib/otelcol/pcm-participants.discovery.json",
		"/var/lib/otelcol/participants.JSON":     "/var/lib/otelcol/participants.discovery.json",
		"/var/lib/otelcol/participants":          "/var/lib/otelcol/participants.discovery.json",
		"/var/lib/otelcol/participants.cache":    "/var/lib/otelcol/participants.cache.discovery.json",
	} {
		assert.Equal(t, want, DiscoveryCacheFile(in), in)
	}
}

// TestDiscoveryDisabled: without Discovery.Enabled nothing is fetched and nothing is pending.
func TestDiscoveryDisabled(t *testing.T) {
	e := newDiscoveryEnv(t, orgA)
	serveStandardDocs(e)
	s := NewSource(SourceConfig{URL: participantsURL, Client: e.client})
	require.NoError(t, s.Start(context.Background()))
	require.NoError(t, s.Shutdown(context.Background()))
	assert.False(t, s.DiscoveryPending())
	assert.Equal(t, DiscoveryStats{}, s.DiscoveryStats())
	assert.Zero(t, e.hitsOf(orgA.discovery))
	serverOrg(t, s, "https://matls-a.example.com/token", "")
}

// TestDiscoveryCacheOnly: CacheOnly resolves from the cache file and fetches nothing.
func TestDiscoveryCacheOnly(t *testing.T) {
	dir := t.TempDir()
	dcache := filepath.Join(dir, "discovery.json")
	e := newDiscoveryEnv(t, orgA)
	serveStandardDocs(e)
	r := newRounds()
	s := e.source(t, "", DiscoveryConfig{CacheFile: dcache}, r)
	require.NoError(t, s.Start(context.Background()))
	r.next(t)
	require.NoError(t, s.Shutdown(context.Background()))
	require.Equal(t, 1, e.hitsOf(orgA.discovery))

	file := filepath.Join(dir, "participants.json")
	require.NoError(t, os.WriteFile(file, e.participants, 0o600))
	s2 := NewSource(SourceConfig{File: file, Discovery: DiscoveryConfig{Enabled: true, CacheOnly: true, Client: e.client, CacheFile: dcache}})
	require.NoError(t, s2.Start(context.Background()))
	require.NoError(t, s2.Shutdown(context.Background()))
	serverOrg(t, s2, "https://matls-a.example.com/token", orgA.id)
	assert.False(t, s2.DiscoveryPending())
	assert.Equal(t, 1, e.hitsOf(orgA.discovery), "nothing fetched")
}
