package directory

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pcm-otel/pcmexporter/mapping"
)

var _ mapping.CounterpartResolver = (*Source)(nil)

// fakeDirectory serves a participants document with an ETag, or an error status.
type fakeDirectory struct {
	mu      sync.Mutex
	body    []byte
	etag    string
	lastMod string
	status  int // 0: 200 (or 304)

	hits        atomic.Int32
	conditional atomic.Int32 // requests carrying If-None-Match or If-Modified-Since
	accept      atomic.Value // last Accept header
}

func (f *fakeDirectory) set(body []byte, etag string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.etag, f.status = body, etag, status
}

func (f *fakeDirectory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	f.accept.Store(r.Header.Get("Accept"))
	f.mu.Lock()
	body, etag, lastMod, status := f.body, f.etag, f.lastMod, f.status
	f.mu.Unlock()
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		f.conditional.Add(1)
	}
	if status != 0 && status != http.StatusOK {
		http.Error(w, "directory unavailable", status)
		return
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if lastMod != "" {
		w.Header().Set("Last-Modified", lastMod)
		if r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// newDirectory starts a fake Directory serving the fixture at /participants.
func newDirectory(t *testing.T) (*fakeDirectory, *httptest.Server) {
	t.Helper()
	f := &fakeDirectory{}
	f.set(fixture(t), `"v1"`, 0)
	mux := http.NewServeMux()
	mux.Handle("/participants", f)
	mux.Handle("/old", http.RedirectHandler("/participants", http.StatusMovedPermanently))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

// onLoads records OnLoad calls as "source ok|error organisations".
type onLoads struct {
	mu    sync.Mutex
	calls []string
}

func (o *onLoads) record(source string, st Stats, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	res := "ok"
	if err != nil {
		res = "error"
	}
	o.calls = append(o.calls, fmt.Sprintf("%s %s %d", source, res, st.Organisations))
}

func (o *onLoads) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}

func (o *onLoads) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = nil
}

func start(t *testing.T, cfg SourceConfig) (*Source, error) {
	t.Helper()
	s := NewSource(cfg)
	err := s.Start(context.Background())
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s, err
}

// otherDoc is a participants document other than the fixture: one organisation on its own host.
func otherDoc(id string) []byte {
	return []byte("[" + org(id, "Active", []string{"https://api.other.example/open-banking/accounts/v2/accounts"}, nil) + "]")
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	require.NoError(t, writeFileAtomic(path, data))
}

func TestSourceFile(t *testing.T) {
	var loads onLoads
	s, err := start(t, SourceConfig{File: fixturePath, OnLoad: loads.record})
	require.NoError(t, err)
	require.NotNil(t, s.Index())
	assert.Equal(t, fixtureIndex(t).Stats(), s.Index().Stats())
	resolves(t, s.Index(), "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora)
	assert.Equal(t, []string{"file ok 8"}, loads.get())

	// The Source is the mapping's CounterpartResolver.
	assert.Equal(t, orgAurora, s.ServerOrg("https://auth.bancoaurora.example/token"))
	assert.Equal(t, orgVeloz, s.ClientOrg("veloz-pix-7Qm2"))
	assert.Empty(t, s.ServerOrg("https://api.conectabaas.example/open-banking/accounts/v2/accounts"))
	assert.Empty(t, s.ClientOrg("unknown"))
}

func TestSourceURL(t *testing.T) {
	f, srv := newDirectory(t)
	cache := filepath.Join(t.TempDir(), "state", "participants.json") // the directory does not exist yet
	var loads onLoads
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), CacheFile: cache, OnLoad: loads.record})
	require.NoError(t, err)
	resolves(t, s.Index(), "https://pix.bancoaurora.example/opbk/open-banking/payments/v4/consents", orgAurora)
	assert.Equal(t, "application/json", f.accept.Load())
	assert.Equal(t, []string{"url ok 8"}, loads.get())

	// The fetched copy is cached, atomically: no temporary file is left behind.
	got, err := os.ReadFile(cache)
	require.NoError(t, err)
	assert.Equal(t, fixture(t), got)
	entries, err := os.ReadDir(filepath.Dir(cache))
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(cache)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	}
}

func TestSourceNilClientHasTimeoutAndDefaults(t *testing.T) {
	_, srv := newDirectory(t)
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants"})
	require.NoError(t, err)
	assert.Equal(t, defaultTimeout, s.client.Timeout)
	assert.Equal(t, DefaultMaxBytes, s.cfg.MaxBytes)
	assert.Equal(t, 8, s.Index().Stats().Organisations)
	s.client.CloseIdleConnections()
}

func TestSourceHTTPFailures(t *testing.T) {
	f, srv := newDirectory(t)
	tests := []struct {
		name    string
		setup   func()
		wantErr string
	}{
		{"not found", func() { f.set(fixture(t), "", http.StatusNotFound) }, "HTTP 404 Not Found"},
		{"server error", func() { f.set(fixture(t), "", http.StatusInternalServerError) }, "HTTP 500"},
		{"not JSON", func() { f.set([]byte("<html>maintenance</html>"), "", 0) }, "malformed JSON"},
		{"an object", func() { f.set([]byte(`{"error": "x"}`), "", 0) }, "top level is an object"},
		{"empty body", func() { f.set(nil, "", 0) }, "empty body"},
		{"no valid organisation", func() { f.set([]byte(`[{"OrganisationId": "x"}]`), "", 0) }, "no organisation with a valid OrganisationId (1 entries skipped)"},
		{"unconditional 304", func() { f.set(nil, "", http.StatusNotModified) }, "304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client()})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "url "+srv.URL+"/participants: ")
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, s.Index())
			assert.Empty(t, s.ServerOrg("https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts"))
		})
	}
}

func TestSourceURLRedacted(t *testing.T) {
	_, srv := newDirectory(t)
	s, err := start(t, SourceConfig{URL: "http://user:secret@" + srv.Listener.Addr().String() + "/missing", Client: srv.Client()})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.Nil(t, s.Index())
}

func TestSourceConditionalGET(t *testing.T) {
	f, srv := newDirectory(t)
	var loads onLoads
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), OnLoad: loads.record})
	require.NoError(t, err)
	first := s.Index()
	assert.Zero(t, f.conditional.Load(), "the first request is unconditional")

	// 304 keeps the very same Index.
	require.NoError(t, s.load(context.Background()))
	assert.Equal(t, int32(1), f.conditional.Load())
	assert.Same(t, first, s.Index())
	assert.Equal(t, []string{"url ok 8", "url ok 8"}, loads.get())

	// A new version replaces it.
	f.set(otherDoc(idB), `"v2"`, 0)
	require.NoError(t, s.load(context.Background()))
	resolves(t, s.Index(), "https://api.other.example/open-banking/accounts/v2/accounts", idB)

	// The same bytes under a new ETag are not parsed again.
	second := s.Index()
	f.set(otherDoc(idB), `"v3"`, 0)
	require.NoError(t, s.load(context.Background()))
	assert.Same(t, second, s.Index())
	require.NoError(t, s.load(context.Background())) // and "v3" is now the validator
	assert.Equal(t, int32(4), f.conditional.Load())
	assert.Same(t, second, s.Index())
}

func TestSourceLastModified(t *testing.T) {
	f, srv := newDirectory(t)
	f.mu.Lock()
	f.etag, f.lastMod = "", "Mon, 02 Jun 2025 10:00:00 GMT"
	f.mu.Unlock()
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client()})
	require.NoError(t, err)
	first := s.Index()
	require.NoError(t, s.load(context.Background()))
	assert.Equal(t, int32(1), f.conditional.Load())
	assert.Same(t, first, s.Index())
}

func TestSourceRefreshPicksUpChange(t *testing.T) {
	f, srv := newDirectory(t)
	cache := filepath.Join(t.TempDir(), "participants.json")
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), CacheFile: cache, Refresh: 5 * time.Millisecond})
	require.NoError(t, err)
	resolves(t, s.Index(), "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora)

	f.set(otherDoc(idB), `"v2"`, 0)
	require.Eventually(t, func() bool {
		id, _ := s.Index().OrgByURL("https://api.other.example/open-banking/accounts/v2/accounts")
		return id == idB
	}, 5*time.Second, 5*time.Millisecond)
	_, ok := s.Index().OrgByURL("https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts")
	assert.False(t, ok)
	require.Eventually(t, func() bool { // the cache follows
		got, _ := os.ReadFile(cache)
		return string(got) == string(otherDoc(idB))
	}, 5*time.Second, 5*time.Millisecond)
}

func TestSourceFailedRefreshKeepsLastGood(t *testing.T) {
	f, srv := newDirectory(t)
	core, logs := observer.New(zapcore.InfoLevel)
	var loads onLoads
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), Logger: zap.New(core), OnLoad: loads.record})
	require.NoError(t, err)
	good := s.Index()

	for name, set := range map[string]func(){
		"server error":    func() { f.set(nil, "", http.StatusServiceUnavailable) },
		"malformed JSON":  func() { f.set([]byte(`[{"OrganisationId": `), `"bad"`, 0) },
		"empty array":     func() { f.set([]byte(`[]`), `"empty"`, 0) },
		"no valid org id": func() { f.set([]byte(`[{"OrganisationId": "nope"}]`), `"nope"`, 0) },
	} {
		set()
		loads.reset()
		require.Error(t, s.load(context.Background()), name)
		assert.Same(t, good, s.Index(), name)
		assert.Equal(t, []string{"url error 8"}, loads.get(), name) // OnLoad sees the Index still in use
	}

	// The refresher warns, once per failed refresh, and keeps the Index.
	s2, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), Logger: zap.New(core), Refresh: 5 * time.Millisecond})
	require.Error(t, err) // the document is broken now
	f.set(fixture(t), `"v1"`, 0)
	require.Eventually(t, func() bool { return s2.Index() != nil }, 5*time.Second, 5*time.Millisecond)
	good = s2.Index()
	f.set(nil, "", http.StatusBadGateway)
	require.Eventually(t, func() bool {
		return logs.FilterMessage("Directory refresh failed; keeping the last good participants").Len() >= 2
	}, 5*time.Second, 5*time.Millisecond)
	assert.Same(t, good, s2.Index())
	entry := logs.FilterMessage("Directory refresh failed; keeping the last good participants").All()[0]
	assert.Equal(t, zapcore.WarnLevel, entry.Level)
	assert.Equal(t, SourceURL, entry.ContextMap()["loaded_from"])
	assert.Contains(t, entry.ContextMap()["error"], "HTTP 502")
}

func TestSourceStartFallsBackToCacheThenFile(t *testing.T) {
	f, srv := newDirectory(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache.json")
	file := filepath.Join(dir, "bundled.json")
	writeFile(t, file, otherDoc(idB))
	url := srv.URL + "/participants"

	// An earlier successful fetch leaves the cache.
	s, err := start(t, SourceConfig{URL: url, Client: srv.Client(), CacheFile: cache})
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(context.Background()))

	// URL down: the cache.
	f.set(nil, "", http.StatusServiceUnavailable)
	core, logs := observer.New(zapcore.InfoLevel)
	var loads onLoads
	s, err = start(t, SourceConfig{URL: url, Client: srv.Client(), CacheFile: cache, File: file, Logger: zap.New(core), OnLoad: loads.record})
	require.NoError(t, err)
	resolves(t, s.Index(), "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora)
	assert.Equal(t, []string{"url error 0", "cache ok 8"}, loads.get())
	require.Equal(t, 1, logs.FilterMessage("Directory URL failed; using the cached copy").Len())

	// URL down and the cache unusable: the File.
	writeFile(t, cache, []byte("{truncated"))
	loads.reset()
	s, err = start(t, SourceConfig{URL: url, Client: srv.Client(), CacheFile: cache, File: file, OnLoad: loads.record})
	require.NoError(t, err)
	resolves(t, s.Index(), "https://api.other.example/open-banking/accounts/v2/accounts", idB)
	assert.Equal(t, []string{"url error 0", "cache error 0", "file ok 1"}, loads.get())

	// Nothing at all: the error names every failure.
	s, err = start(t, SourceConfig{URL: url, Client: srv.Client(), CacheFile: filepath.Join(dir, "absent.json"), File: filepath.Join(dir, "missing.json")})
	require.Error(t, err)
	assert.Nil(t, s.Index())
	for _, want := range []string{"directory: no participants loaded", "url " + url + ": HTTP 503", "cache " + filepath.Join(dir, "absent.json") + ": ", "file " + filepath.Join(dir, "missing.json") + ": "} {
		assert.Contains(t, err.Error(), want)
	}
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSourceUnreachableURLFallsBackToFile(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there any more
	client := &http.Client{Timeout: 5 * time.Second}
	s, err := start(t, SourceConfig{URL: "http://" + addr + "/participants", Client: client, File: fixturePath})
	require.NoError(t, err)
	assert.Equal(t, 8, s.Index().Stats().Organisations)
}

func TestSourceRefreshPreference(t *testing.T) {
	f, srv := newDirectory(t)
	file := filepath.Join(t.TempDir(), "participants.json")
	writeFile(t, file, otherDoc(idB))
	f.set(nil, "", http.StatusServiceUnavailable)
	var loads onLoads
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), File: file, OnLoad: loads.record})
	require.NoError(t, err)
	resolves(t, s.Index(), "https://api.other.example/open-banking/accounts/v2/accounts", idB)

	// From the File, a refresh re-reads the File while the URL fails…
	writeFile(t, file, otherDoc(idA))
	require.NoError(t, s.load(context.Background()))
	resolves(t, s.Index(), "https://api.other.example/open-banking/accounts/v2/accounts", idA)

	// …and moves to the URL as soon as it answers…
	f.set(fixture(t), `"v1"`, 0)
	require.NoError(t, s.load(context.Background()))
	resolves(t, s.Index(), "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora)

	// …after which a failing URL keeps the URL's Index: the File is not a newer source.
	f.set(nil, "", http.StatusServiceUnavailable)
	loads.reset()
	require.Error(t, s.load(context.Background()))
	resolves(t, s.Index(), "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora)
	assert.Equal(t, []string{"url error 8"}, loads.get())
}

func TestSourceFileRefresh(t *testing.T) {
	file := filepath.Join(t.TempDir(), "participants.json")
	writeFile(t, file, fixture(t))
	core, logs := observer.New(zapcore.InfoLevel)
	s, err := start(t, SourceConfig{File: file, Refresh: 5 * time.Millisecond, Logger: zap.New(core)})
	require.NoError(t, err)

	writeFile(t, file, otherDoc(idB))
	require.Eventually(t, func() bool {
		id, _ := s.Index().OrgByURL("https://api.other.example/open-banking/accounts/v2/accounts")
		return id == idB
	}, 5*time.Second, 5*time.Millisecond)

	good := s.Index()
	writeFile(t, file, []byte("not json"))
	require.Eventually(t, func() bool {
		return logs.FilterMessage("Directory refresh failed; keeping the last good participants").Len() > 0
	}, 5*time.Second, 5*time.Millisecond)
	assert.Same(t, good, s.Index())
	assert.Equal(t, 2, logs.FilterMessage("Directory participants loaded").Len(), "unchanged re-reads are not logged at info")
}

func TestSourceBodyCap(t *testing.T) {
	f, srv := newDirectory(t)
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // no Content-Length: the body is chunked
		for i := 0; i < 100; i++ {
			_, _ = w.Write([]byte("[                                                                  "))
		}
	}))
	t.Cleanup(chunked.Close)
	big := filepath.Join(t.TempDir(), "big.json")
	writeFile(t, big, fixture(t))

	for name, cfg := range map[string]SourceConfig{
		"Content-Length": {URL: srv.URL + "/participants", Client: srv.Client()},
		"chunked":        {URL: chunked.URL, Client: chunked.Client()},
		"file":           {File: big},
	} {
		cfg.MaxBytes = 1000
		s, err := start(t, cfg)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, errTooLarge, name)
		assert.Nil(t, s.Index(), name)
	}

	// Exactly at the cap is fine.
	f.set(fixture(t), "", 0)
	s, err := start(t, SourceConfig{URL: srv.URL + "/participants", Client: srv.Client(), MaxBytes: int64(len(fixture(t)))})
	require.NoError(t, err)
	assert.NotNil(t, s.Index())
}

func TestSourceShutdownStopsRefresher(t *testing.T) {
	before := goleak.IgnoreCurrent()
	var n atomic.Int32
	s := NewSource(SourceConfig{File: fixturePath, Refresh: time.Millisecond, OnLoad: func(string, Stats, error) { n.Add(1) }})
	require.NoError(t, s.Start(context.Background()))
	require.Eventually(t, func() bool { return n.Load() >= 3 }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.Shutdown(context.Background()))
	stopped := n.Load()
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, stopped, n.Load(), "no load after Shutdown")
	goleak.VerifyNone(t, before)
	require.NoError(t, s.Shutdown(context.Background()), "Shutdown twice")
}

func TestSourceShutdownCancelsInFlightFetch(t *testing.T) {
	var requests atomic.Int32
	blocked := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			_, _ = w.Write(fixture(t))
			return
		}
		select {
		case blocked <- struct{}{}:
		default:
		}
		select { // hang like a Directory that stopped answering
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	s := NewSource(SourceConfig{URL: srv.URL, Client: srv.Client(), Refresh: time.Millisecond})
	require.NoError(t, s.Start(context.Background()))
	<-blocked
	// The hanging request ends only when its context is cancelled (release is closed after the
	// test): a Shutdown that waited for it instead of cancelling it would never return. The
	// bound is for that failure only; a loaded machine cannot come near it.
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown waits for the Directory request in flight instead of cancelling it")
	}
	assert.NotNil(t, s.Index())
}

func TestSourceLifecycle(t *testing.T) {
	s := NewSource(SourceConfig{})
	require.NoError(t, s.Shutdown(context.Background()), "Shutdown without Start")
	err := s.Start(context.Background())
	require.ErrorContains(t, err, "neither a file nor a url")
	assert.Nil(t, s.Index())

	s, err = start(t, SourceConfig{File: fixturePath})
	require.NoError(t, err)
	require.ErrorContains(t, s.Start(context.Background()), "already started")

	// A failed Start still refreshes (the Directory may come back); Shutdown stops it.
	file := filepath.Join(t.TempDir(), "participants.json")
	s, err = start(t, SourceConfig{File: file, Refresh: 5 * time.Millisecond})
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Nil(t, s.Index())
	writeFile(t, file, fixture(t))
	require.Eventually(t, func() bool { return s.Index() != nil }, 5*time.Second, 5*time.Millisecond)

	// Start after Shutdown loads but does not refresh.
	s = NewSource(SourceConfig{File: fixturePath, Refresh: time.Millisecond})
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, s.Start(context.Background()))
	assert.Nil(t, s.done)
}

func TestSourceStartHonoursContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s := NewSource(SourceConfig{URL: srv.URL, Client: srv.Client(), File: fixturePath})
	require.NoError(t, s.Start(ctx), "the File still loads")
	assert.Equal(t, 8, s.Index().Stats().Organisations)
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestSourceConcurrentReadsDuringRefresh(t *testing.T) {
	var toggle atomic.Int32
	docs := [][]byte{fixture(t), otherDoc(idB)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(docs[toggle.Add(1)%2])
	}))
	t.Cleanup(srv.Close)
	s, err := start(t, SourceConfig{URL: srv.URL, Client: srv.Client(), Refresh: time.Millisecond})
	require.NoError(t, err)

	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for toggle.Load() < 6 && time.Now().Before(deadline) {
				runtime.Gosched()
				ix := s.Index()
				if id, ok := ix.OrgByURL("https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts"); ok {
					assert.Equal(t, orgAurora, id)
				}
				_, _ = ix.OrgByClient(orgVeloz)
				_ = ix.Name(orgAurora)
			}
		}()
	}
	wg.Wait()
	assert.GreaterOrEqual(t, toggle.Load(), int32(6), "refreshes happened meanwhile")
}
