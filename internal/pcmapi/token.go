package pcmapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Outcomes passed to TokenConfig.OnRequest, one per token request.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	// OutcomeFreshFallback: the request to FreshURL failed (any error but the caller's context
	// ending) and the same fetch went on at once with URL, whose own outcome is reported next.
	OutcomeFreshFallback = "fresh_fallback"
)

// maxTokenBody is how much of a token response is read, as golang.org/x/oauth2 does.
const maxTokenBody = 1 << 20

// maxTokenLifetime caps expires_in. PCM grants 6 hours; a value beyond a day is nonsense, and
// one beyond time.Duration (about 292 years) would overflow into "already expired".
const maxTokenLifetime = 24 * time.Hour

// TokenConfig configures the client_credentials grant over mTLS.
type TokenConfig struct {
	URL string // kept verbatim, trailing slash included (PCM requires POST <auth>/token/)
	// FreshURL, if set (PCM's <auth>/token-fresh/, opt-in per docs/pcm-rules.md Decision 8), is
	// used instead of URL for the one fetch that follows an invalidation: /token/ may hand back
	// PCM's server-side cached token, the very one that just got a 401, while /token-fresh/
	// always mints a new one. When FreshURL fails (404, 405, 501, refused, timeout, an answer
	// without a token) the fetch falls back to URL at once, so FreshURL can never leave the
	// caller without a token; OnRequest sees OutcomeFreshFallback for it.
	FreshURL     string
	ClientID     string        // software statement client_id; no client secret is ever sent
	HTTPClient   *http.Client  // carries the mTLS client certificate and its own timeout; nil → http.DefaultClient
	ExpiryBuffer time.Duration // refresh this long before expiry (at most half the token's lifetime, see Token)
	// OnRequest, if set, is called after every token request with its outcome (OutcomeSuccess,
	// OutcomeFailure or OutcomeFreshFallback) and error. It runs on the fetching goroutine and
	// must not block.
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
	cfg.HTTPClient = withoutRedirects(cfg.HTTPClient)
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
		fresh := s.wantFresh && s.ccFresh != nil
		s.mu.Unlock()

		var freshErr error
		f.token, freshErr, f.err = s.fetch(ctx, fresh)
		f.leaderGone = f.err != nil && ctx.Err() != nil
		close(f.done)
		if freshErr != nil {
			s.report(OutcomeFreshFallback, freshErr)
		}
		s.report(outcomeOf(f.err), f.err)
		return f.token, f.err
	}
}

// report tells OnRequest the outcome of one token request (after the waiters are released, so
// a slow hook delays nobody but the caller that fetched).
func (s *TokenSource) report(outcome string, err error) {
	if s.cfg.OnRequest != nil {
		s.cfg.OnRequest(outcome, err)
	}
}

func outcomeOf(err error) string {
	if err != nil {
		return OutcomeFailure
	}
	return OutcomeSuccess
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

// fetch obtains a token — from FreshURL first when fresh, falling back to URL at once when that
// fails — and caches it. freshErr is FreshURL's failure when there was a fallback. It clears
// s.flight in the same critical section that stores the token, so no caller can start a second
// fetch in between.
func (s *TokenSource) fetch(ctx context.Context, fresh bool) (tok string, freshErr, err error) {
	start := s.now()
	var lifetime time.Duration
	if fresh {
		tok, lifetime, err = s.request(ctx, s.ccFresh)
		if err != nil && ctx.Err() == nil {
			freshErr = err
			start = s.now()
			tok, lifetime, err = s.request(ctx, s.cc)
		}
	} else {
		tok, lifetime, err = s.request(ctx, s.cc)
	}

	s.mu.Lock()
	s.flight = nil
	if err == nil {
		s.token = tok
		s.expiry = start.Add(lifetime) // from the request's start: the lifetime ran while we waited
		s.refreshAt = s.expiry.Add(-min(s.cfg.ExpiryBuffer, lifetime/2))
		s.wantFresh = false
	}
	s.mu.Unlock()
	return tok, freshErr, err
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

// describeTokenError turns an x/oauth2 error into an ErrToken error that quotes no response
// body: a token endpoint's answer may hold a token, so only its error fields (PCM's statusCode
// and message, OAuth2's error and error_description) are quoted, redacted of any access_token
// the body carries. oauth2.RetrieveError's own text embeds the body and is never used.
func describeTokenError(err error, capture *captureTransport) error {
	var re *oauth2.RetrieveError
	switch {
	case capture.status >= 300 && capture.status < 400:
		loc := capture.location
		if loc == "" {
			loc = "no Location"
		}
		return fmt.Errorf("%w: token endpoint answered HTTP %d, a redirect to %s that is not followed: set token.url (and token.fresh_url) to the final URL",
			ErrToken, capture.status, cleanLocation(loc, capture.accessToken()))
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%w: token endpoint answered HTTP %d: %s", ErrToken, status, capture.describe())
	case capture.status >= 200 && capture.status < 300:
		// A 2xx that x/oauth2 could not use (no access_token, unparseable). Its error text names
		// the problem and quotes no body.
		if msg := capture.errorFields(); msg != "" {
			return fmt.Errorf("%w: %w (PCM said: %s)", ErrToken, err, msg)
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

// expiresIn reads expires_in (a JSON number or string, or a form value) as a positive lifetime,
// capped at maxTokenLifetime. Missing, zero, negative or NaN is not a usable lifetime: a token
// that claims to be expired is of no use, and the next Token call asks again.
func expiresIn(tok *oauth2.Token) (time.Duration, bool) {
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64:
		secs = float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: ±Inf, capped below
			return 0, false
		}
		secs = f
	default:
		return 0, false
	}
	if !(secs > 0) { // also NaN
		return 0, false
	}
	if secs >= maxTokenLifetime.Seconds() { // compared as float: the Duration would overflow
		return maxTokenLifetime, true
	}
	return time.Duration(secs * float64(time.Second)), true
}

// captureTransport keeps a copy of the last response body it carried (bounded like x/oauth2's
// own read), for error messages. One is made per token request, so it needs no lock.
type captureTransport struct {
	base        http.RoundTripper
	status      int
	location    string
	contentType string
	body        []byte
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
	t.location, t.contentType = resp.Header.Get("Location"), resp.Header.Get("Content-Type")
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// accessToken returns the access_token the captured body carries, if any (JSON or form), so
// that it can be redacted from anything quoted.
func (t *captureTransport) accessToken() string {
	var j struct {
		AccessToken lenientString `json:"access_token"`
	}
	if json.Unmarshal(t.body, &j) == nil && j.AccessToken != "" {
		return string(j.AccessToken)
	}
	if vals, err := url.ParseQuery(string(t.body)); err == nil {
		return vals.Get("access_token")
	}
	return ""
}

// errorFields returns the captured body's error fields, sanitised and redacted; "" if none.
func (t *captureTransport) errorFields() string {
	msg := errorFields(t.body)
	if msg == "" {
		return ""
	}
	return cleanText(msg, t.accessToken())
}

// describe says what the captured answer was without quoting its body: its error fields, or
// its content type and size.
func (t *captureTransport) describe() string {
	if msg := t.errorFields(); msg != "" {
		return msg
	}
	ct := cleanText(t.contentType, "")
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("a body of %d bytes (%s) without error fields", len(t.body), ct)
}
