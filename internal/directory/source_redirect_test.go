package directory

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingHandler counts the requests that reach h.
func countingHandler(n *atomic.Int32, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// TestSourceRedirects: a Directory fetch follows a few https→https redirects and nothing else:
// never one to http, never an endless chain, never one the caller's client refuses.
func TestSourceRedirects(t *testing.T) {
	f, plain := newDirectory(t) // plain http: must never be reached through a redirect
	var plainHits atomic.Int32
	plain.Config.Handler = countingHandler(&plainHits, plain.Config.Handler)

	mux := http.NewServeMux()
	mux.Handle("/participants", f)
	mux.Handle("/moved", http.RedirectHandler("/participants", http.StatusFound))
	mux.Handle("/moved-twice", http.RedirectHandler("/moved", http.StatusMovedPermanently))
	mux.Handle("/loop", http.RedirectHandler("/loop", http.StatusTemporaryRedirect))
	mux.Handle("/to-http", http.RedirectHandler(plain.URL+"/participants", http.StatusFound))
	var loopHits atomic.Int32
	srv := httptest.NewTLSServer(countingHandler(&loopHits, mux))
	t.Cleanup(srv.Close)

	refusing := new(http.Client)
	*refusing = *srv.Client() // srv.Client() is one shared client
	refusing.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	tests := []struct {
		name    string
		path    string
		client  *http.Client
		wantErr string // "" → loads the fixture
	}{
		{"https to https", "/moved", srv.Client(), ""},
		{"two hops", "/moved-twice", srv.Client(), ""},
		{"endless chain", "/loop", srv.Client(), "stopped after 3 redirects"},
		{"https to http", "/to-http", srv.Client(), "refusing a redirect to " + plain.URL + "/participants: only https redirects are followed"},
		{"the caller's client refuses redirects", "/moved", refusing, "HTTP 302 Found: redirect to /participants not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loopHits.Store(0)
			s, err := start(t, SourceConfig{URL: srv.URL + tt.path, Client: tt.client})
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, 8, s.Index().Stats().Organisations)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, s.Index())
			assert.LessOrEqual(t, loopHits.Load(), int32(maxRedirects+1))
		})
	}
	assert.Zero(t, plainHits.Load(), "a redirect reached the http server")
	assert.NotNil(t, refusing.CheckRedirect(nil, nil), "the caller's client keeps its own policy")
}

// TestSourceRedirectDropsAuthorization: a redirected request carries no Authorization header,
// even one the caller's CheckRedirect would let through.
func TestSourceRedirectDropsAuthorization(t *testing.T) {
	policy := httpsRedirectsOnly(nil)
	req, err := http.NewRequest(http.MethodGet, "https://cdn.example/participants", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer secret")
	via := []*http.Request{{}}
	require.NoError(t, policy(req, via))
	assert.Empty(t, req.Header.Get("Authorization"))

	callerErr := errors.New("no")
	err = httpsRedirectsOnly(func(*http.Request, []*http.Request) error { return callerErr })(req, via)
	assert.ErrorIs(t, err, callerErr)
}
