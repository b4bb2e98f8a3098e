package pcmapi

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenFreshURLFallsBack: whatever goes wrong with token.fresh_url, the fetch goes on at once
// with token.url, so the caller still gets a token; OnRequest reports the fallback.
func TestTokenFreshURLFallsBack(t *testing.T) {
	t.Parallel()
	refusedURL := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return "https://" + addr + "/token-fresh/"
	}
	answer := func(code int, ctype, body string) func(*tokenServer, *http.Request) (int, string, string) {
		return func(*tokenServer, *http.Request) (int, string, string) { return code, ctype, body }
	}
	tests := []struct {
		name      string
		fresh     func(ts *tokenServer, r *http.Request) (int, string, string) // nil: FreshURL refuses connections
		wantPaths []string
	}{
		{"404", answer(404, "application/json", `{"message":"Not Found"}`), []string{"/token-fresh/", "/token/"}},
		{"405", answer(405, "text/html", "<html>Method Not Allowed</html>"), []string{"/token-fresh/", "/token/"}},
		{"501", answer(501, "application/json", `{"message":"Not Implemented"}`), []string{"/token-fresh/", "/token/"}},
		{"200 without a token", answer(200, "application/json", `{"message":"ok"}`), []string{"/token-fresh/", "/token/"}},
		{"200 HTML", answer(200, "text/html", "<html>portal</html>"), []string{"/token-fresh/", "/token/"}},
		{"timeout", func(_ *tokenServer, r *http.Request) (int, string, string) {
			<-r.Context().Done()
			panic(http.ErrAbortHandler)
		}, []string{"/token-fresh/", "/token/"}},
		{"connection refused", nil, []string{"/token/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(r *http.Request, _ int) (int, string, string) {
				if r.URL.Path == "/token-fresh/" {
					return tt.fresh(ts, r)
				}
				return ts.grant(3600)
			}
			freshURL := ts.URL + "/token-fresh/"
			if tt.fresh == nil {
				freshURL = refusedURL(t)
			}
			hc := httpClient(t, pki(t).client)
			hc.Timeout = time.Second // the "timeout" row waits for it once
			var mu sync.Mutex
			var outcomes []string
			var hookErrs []error
			src := ts.source(t, TokenConfig{FreshURL: freshURL, HTTPClient: hc, OnRequest: func(o string, err error) {
				mu.Lock()
				defer mu.Unlock()
				outcomes, hookErrs = append(outcomes, o), append(hookErrs, err)
			}})
			first, err := src.Token(context.Background())
			require.NoError(t, err)
			src.invalidate(first) // as after a 401: the next fetch asks FreshURL

			tok, err := src.Token(context.Background())
			require.NoError(t, err, "the fallback to token.url must give a token")
			assert.True(t, ts.valid(tok))
			assert.NotEqual(t, first, tok)
			assert.Equal(t, append([]string{"/token/"}, tt.wantPaths...), paths(ts))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{OutcomeSuccess, OutcomeFreshFallback, OutcomeSuccess}, outcomes)
			require.Error(t, hookErrs[1])
			assert.ErrorIs(t, hookErrs[1], ErrToken)
			requireNoSecrets(t, ts, hookErrs[1])
		})
	}
}

// TestTokenFreshURLBothFail: when token.url fails too, the error is token.url's, and both
// requests are reported.
func TestTokenFreshURLBothFail(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	ts.respond = func(r *http.Request, n int) (int, string, string) {
		if n == 1 {
			return ts.grant(3600)
		}
		if r.URL.Path == "/token-fresh/" {
			return 404, "application/json", `{"message":"Not Found"}`
		}
		return 500, "application/json", `{"message":"Internal server error"}`
	}
	var outcomes []string
	src := ts.source(t, TokenConfig{FreshURL: ts.URL + "/token-fresh/", OnRequest: func(o string, _ error) { outcomes = append(outcomes, o) }})
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	src.Invalidate()
	_, err = src.Token(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 500")
	assert.Equal(t, []string{OutcomeSuccess, OutcomeFreshFallback, OutcomeFailure}, outcomes)
	assert.Equal(t, []string{"/token/", "/token-fresh/", "/token/"}, paths(ts))
}

// TestTokenFreshURLCallerGone: when the caller's context ends during the FreshURL request,
// there is no fallback request (nobody waits for it).
func TestTokenFreshURLCallerGone(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	ts.respond = func(r *http.Request, n int) (int, string, string) {
		if n == 1 {
			return ts.grant(3600)
		}
		cancel()
		<-r.Context().Done()
		panic(http.ErrAbortHandler)
	}
	src := ts.source(t, TokenConfig{FreshURL: ts.URL + "/token-fresh/"})
	_, err := src.Token(context.Background())
	require.NoError(t, err)
	src.Invalidate()
	_, err = src.Token(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"/token/", "/token-fresh/"}, paths(ts))
}
