package pcmapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Outcomes passed to TokenConfig.OnRequest.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// maxTokenBody is how much of a token response is read, as golang.org/x/oauth2 does.
const maxTokenBody = 1 << 20

// TokenConfig configures the client_credentials grant over mTLS.
type TokenConfig struct {
	URL string // kept verbatim, trailing slash included (PCM requires POST <auth>/token/)
	// FreshURL, if set (PCM's <auth>/token-fresh/, opt-in per decision 8), is used instead of URL
	// for the one fetch that follows an invalidation: /token/ may hand back PCM's server-side
	// cached token, the very one that just got a 401, while /token-fresh/ always mints a new one.
	FreshURL     string
	ClientID     string        // software statement client_id; no client secret is ever sent
	HTTPClient   *http.Client  // carries the mTLS client certificate and its own timeout; nil → http.DefaultClient
	ExpiryBuffer time.Duration // refresh this long before expiry (at most half the token's lifetime, see Token)
	// OnRequest, if set, is called after every token request with its outcome (OutcomeSuccess or
	// OutcomeFailure) and error. It runs on the fetching goroutine and must not block.
	OnRequest func(outcome string, err error)
}

// TokenSource obtains PCM access tokens and caches one. It is safe for concurrent use.
type TokenSource struct {
	cfg     TokenConfig
	cc      *clientcredentials.Config
	ccFresh *clientcredentials.Config // nil without FreshURL
	now     func() time.Time          // time.Now; replaced by tests

	mu        sync.Mutex
	token     string
	expiry    time.Time
	refreshAt time.Time
	flight    *tokenFlight // the fetch in progress, shared by every caller that needs a token
	wantFresh bool         // the last token was invalidated: the next fetch goes to FreshURL
}

// tokenFlight is one token request and its result, awaited by everyone who asked meanwhile.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
	// leaderGone: the request failed because the context of the caller that made it ended.
	// That says nothing about the token endpoint, so a waiter whose context is alive retries.
	leaderGone bool
}

// NewTokenSource returns a TokenSource; it makes no request until the first Token call.
func NewTokenSource(cfg TokenConfig) *TokenSource {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	cfg.ExpiryBuffer = max(cfg.ExpiryBuffer, 0)
	s := &TokenSource{cfg: cfg, cc: grant(cfg.ClientID, cfg.URL), now: time.Now}
	if cfg.FreshURL != "" {
		s.ccFresh = grant(cfg.ClientID, cfg.FreshURL)
	}
	return s
}

func grant(clientID, tokenURL string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: clientID,
		TokenURL: tokenURL,
		// In params with an empty secret: the form carries grant_type and client_id only and
		// there is no Authorization header (RFC 8705 tls_client_auth; PCM authenticates the
		// client by its certificate). Auto-detection would first try Basic auth.
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// Token returns the cached access token, fetching a new one when none is cached or when it
// expires within ExpiryBuffer. Concurrent callers share one fetch; a caller whose ctx ends while
// waiting returns at once, without cancelling the fetch for the others.
//
// The buffer is capped at half of the lifetime PCM granted: since release 2025D expires_in is
// the remaining lifetime of PCM's server-side cached token, which can be shorter than the
// buffer, and refreshing "now" on every call would hammer the token endpoint for a token that
// is still good. With the cap, fetches for a short-lived token halve the remaining time each
// round until PCM mints a new one.
//
// Errors wrap ErrToken ("obtaining PCM token") and never contain the token.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.now().Before(s.refreshAt) {
			tok := s.token
			s.mu.Unlock()
			return tok, nil
		}
		if f := s.flight; f != nil {
			s.mu.Unlock()
			select {
			case <-f.done:
				if f.err != nil && f.leaderGone && ctx.Err() == nil {
					continue // the fetch died with its caller, not with the endpoint: try again
				}
				return f.token, f.err
			case <-ctx.Done():
				return "", fmt.Errorf("%w: %w", ErrToken, ctx.Err())
			}
		}
		f := &tokenFlight{done: make(chan struct{})}
		s.flight = f
		cc := s.cc
		if s.wantFresh && s.ccFresh != nil {
			cc = s.ccFresh
		}
		s.mu.Unlock()

		f.token, f.err = s.fetch(ctx, cc)
		f.leaderGone = f.err != nil && ctx.Err() != nil
		close(f.done)
		s.report(f.err)
		return f.token, f.err
	}
}

// report tells OnRequest the outcome of one token request (after the waiters are released, so
// a slow hook delays nobody but the caller that fetched).
func (s *TokenSource) report(err error) {
	if s.cfg.OnRequest == nil {
		return
	}
	outcome := OutcomeSuccess
	if err != nil {
		outcome = OutcomeFailure
	}
	s.cfg.OnRequest(outcome, err)
}

// Invalidate drops the cached token, so the next Token call fetches one (after a 401).
func (s *TokenSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLocked()
}

// invalidate drops the cached token only if it is still tok. When several requests fail with
// the same stale token at once, the first one's refresh must not be thrown away by the others.
func (s *TokenSource) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.clearLocked()
	}
}

func (s *TokenSource) clearLocked() {
	s.token, s.expiry, s.refreshAt = "", time.Time{}, time.Time{}
	s.wantFresh = true
}

// Expiry returns when the cached token expires; zero when none is cached.
func (s *TokenSource) Expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiry
}

// fetch makes one token request and caches its result. It clears s.flight in the same critical
// section that stores the token, so no caller can start a second fetch in between.
func (s *TokenSource) fetch(ctx context.Context, cc *clientcredentials.Config) (string, error) {
	start := s.now()
	tok, lifetime, err := s.request(ctx, cc)

	s.mu.Lock()
	s.flight = nil
	if err == nil {
		s.token = tok
		s.expiry = start.Add(lifetime) // from the request's start: the lifetime ran while we waited
		s.refreshAt = s.expiry.Add(-min(s.cfg.ExpiryBuffer, lifetime/2))
		s.wantFresh = false
	}
	s.mu.Unlock()
	return tok, err
}

// request performs the client_credentials grant and checks what PCM requires of the answer.
func (s *TokenSource) request(ctx context.Context, cc *clientcredentials.Config) (string, time.Duration, error) {
	// x/oauth2 reports a 200 without access_token as a bare "missing access_token", but PCM
	// documents exactly that case ({"statusCode":401,"message":"ClientId is not valid to the
	// orgId"} under 200), so the body is captured to quote PCM's message.
	capture := &captureTransport{base: s.cfg.HTTPClient.Transport}
	if capture.base == nil {
		capture.base = http.DefaultTransport
	}
	hc := *s.cfg.HTTPClient
	hc.Transport = capture

	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, &hc))
	if err != nil {
		return "", 0, describeTokenError(err, capture)
	}
	lifetime, ok := expiresIn(tok)
	if !ok {
		// Deliberately no body excerpt here: it would contain the access token.
		return "", 0, fmt.Errorf("%w: the token response has no positive expires_in", ErrToken)
	}
	return tok.AccessToken, lifetime, nil
}

// describeTokenError turns an x/oauth2 error into an ErrToken error without the response body
// verbatim: oauth2.RetrieveError's own text embeds the body, which is not ours to log.
func describeTokenError(err error, capture *captureTransport) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%w: token endpoint answered HTTP %d: %s", ErrToken, status, errorMessage(re.Body, ""))
	}
	if capture.status >= 200 && capture.status < 300 {
		// A 2xx that x/oauth2 could not use. Quote only the error fields (PCM's statusCode and
		// message): the body may hold a token.
		if msg := errorFields(capture.body); msg != "" {
			return fmt.Errorf("%w: %w (PCM said: %s)", ErrToken, err, sanitize(msg, maxMessageRunes))
		}
		return fmt.Errorf("%w: %w", ErrToken, err)
	}
	// Transport error: TLS, refused, timeout, ctx.
	if hint := certificateHint(err); hint != "" {
		return fmt.Errorf("%w: %w (%s)", ErrToken, err, hint)
	}
	return fmt.Errorf("%w: %w", ErrToken, err)
}

// certificateHint names the likely cause when the token endpoint refused the TLS client
// certificate. With TLS 1.3 the server checks the certificate after the client's side of the
// handshake is done, so the refusal often surfaces as a broken pipe, a reset or EOF on the
// first write rather than as a TLS alert.
func certificateHint(err error) string {
	msg := err.Error()
	for _, s := range []string{"bad certificate", "certificate required", "unknown certificate authority", "certificate expired", "certificate revoked"} {
		if strings.Contains(msg, s) {
			return "the token endpoint refused the client certificate in token.tls"
		}
	}
	for _, s := range []string{"broken pipe", "connection reset by peer", "client conn could not be established", "EOF"} {
		if strings.Contains(msg, s) {
			return "the token endpoint closed the connection after the TLS handshake: it may not accept the client certificate in token.tls (it must be the transport certificate of token.client_id's software statement)"
		}
	}
	return ""
}

// expiresIn reads expires_in (a JSON number or string, or a form value) as a positive lifetime.
func expiresIn(tok *oauth2.Token) (time.Duration, bool) {
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64:
		secs = float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, false
		}
		secs = f
	default:
		return 0, false
	}
	if secs <= 0 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// captureTransport keeps a copy of the last response body it carried (bounded like x/oauth2's
// own read), for error messages. One is made per token request, so it needs no lock.
type captureTransport struct {
	base   http.RoundTripper
	status int
	body   []byte
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	t.status, t.body = resp.StatusCode, body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
