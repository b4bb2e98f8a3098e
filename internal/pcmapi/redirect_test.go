package pcmapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// elsewhere is the URL a redirect points to: a TLS server (trusted by the clients, on the same
// host as PCM's test servers, so Go's client would forward the Authorization header to it) that
// records every request reaching it.
type elsewhere struct {
	URL  string
	mu   sync.Mutex
	hits []string // "METHOD path auth=<Authorization header>"
}

func newElsewhere(t *testing.T, clientAuth bool) *elsewhere {
	e := &elsewhere{}
	srv := startTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits = append(e.hits, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		e.mu.Unlock()
		writeMessage(w, http.StatusOK, "you should not be here")
	}), clientAuth)
	e.URL = srv.URL + "/moved/"
	return e
}

func (e *elsewhere) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.hits...)
}

func redirectTo(code int, location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, code)
	}
}

// TestReportRedirectNotFollowed: a 3xx to a report POST or GET is a retryable StatusError that
// names the Location, and no request — hence no bearer token — reaches the other URL.
func TestReportRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusFound, http.StatusPermanentRedirect, http.StatusMovedPermanently} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(method+" "+http.StatusText(code), func(t *testing.T) {
				t.Parallel()
				target := newElsewhere(t, false)
				tokenSrv := newTokenServer(t)
				pcm := startTLS(t, redirectTo(code, target.URL), false)
				c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: pcm.URL, Tokens: tokenSrv.source(t, TokenConfig{})})

				var err error
				if method == http.MethodPost {
					var results []ItemResult
					results, err = c.Send(context.Background(), privatePath, makeItems(2))
					assert.Empty(t, results)
				} else {
					_, err = c.GetReport(context.Background(), privatePath, fapiID)
				}
				require.Error(t, err)
				var se *StatusError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, code, se.StatusCode)
				assert.True(t, se.Redirect())
				assert.Equal(t, target.URL, se.Location)
				assert.Contains(t, err.Error(), target.URL)
				assert.False(t, IsPermanent(err), "a redirect must not dead-letter reports")
				assert.Empty(t, target.requests(), "the redirect was followed")
				requireNoSecrets(t, tokenSrv, err)
			})
		}
	}
}

// TestRedirectLocationCleaned: a Location with credentials or a bidirectional override is
// cleaned before it reaches an error text. (A Location with ASCII control characters never gets
// that far: Go's transport refuses the response as malformed.)
func TestRedirectLocationCleaned(t *testing.T) {
	t.Parallel()
	tokenSrv := newTokenServer(t)
	pcm := startTLS(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "https://user:pa55@waf.example/maintenance?\u202ex")
		w.WriteHeader(http.StatusFound)
	}), false)
	c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: pcm.URL, Tokens: tokenSrv.source(t, TokenConfig{})})
	_, err := c.Send(context.Background(), privatePath, makeItems(1))
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.NotContains(t, se.Location, "pa55")
	assert.NotContains(t, se.Location, "\u202e")
	assert.Contains(t, se.Location, "waf.example/maintenance")
}

// TestTokenRedirectNotFollowed: a 3xx from the token endpoint is a token error naming the
// Location; the token request (client certificate, client_id) goes nowhere else.
func TestTokenRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusFound} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			target := newElsewhere(t, true)
			auth := startTLS(t, redirectTo(code, target.URL), true)
			var outcome string
			src := NewTokenSource(TokenConfig{
				URL: auth.URL + "/token/", ClientID: testClientID, HTTPClient: httpClient(t, pki(t).client),
				OnRequest: func(o string, _ error) { outcome = o },
			})
			tok, err := src.Token(context.Background())
			require.Error(t, err)
			assert.Empty(t, tok)
			assert.ErrorIs(t, err, ErrToken)
			assert.False(t, IsPermanent(err))
			assert.Contains(t, err.Error(), target.URL)
			assert.Contains(t, err.Error(), "redirect")
			var te *TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, TokenKindRedirect, te.Kind)
			assert.Equal(t, code, te.StatusCode)
			assert.Equal(t, target.URL, te.Location)
			assert.Equal(t, OutcomeFailure, outcome)
			assert.Empty(t, target.requests(), "the token request was redirected")
		})
	}
}

// TestCallerClientKeepsItsRedirectPolicy: the clients copy the caller's http.Client; the
// caller's own client is left as it was.
func TestCallerClientKeepsItsRedirectPolicy(t *testing.T) {
	t.Parallel()
	hc := httpClient(t)
	mine := func(*http.Request, []*http.Request) error { return errors.New("mine") }
	hc.CheckRedirect = mine
	_ = NewClient(Config{HTTPClient: hc, Tokens: NewTokenSource(TokenConfig{HTTPClient: hc})})
	require.NotNil(t, hc.CheckRedirect)
	assert.True(t, strings.Contains(hc.CheckRedirect(nil, nil).Error(), "mine"))
}
