package pcmapi

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Outcomes passed to TokenConfig.OnRequest, one per token request.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	// OutcomeFreshFallback: the request to FreshURL failed (any error but the caller's context
	// ending) and the same fetch went on at once with URL, whose own outcome is reported next.
	OutcomeFreshFallback = "fresh_fallback"
)

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
	cfg TokenConfig
	now func() time.Time // time.Now; replaced by tests

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
	return &TokenSource{cfg: cfg, now: time.Now}
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
// Errors are *TokenError (they wrap ErrToken, "obtaining PCM token") and never contain the
// token nor a token endpoint answer body.
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
				return "", transportTokenError(ctx.Err())
			}
		}
		f := &tokenFlight{done: make(chan struct{})}
		s.flight = f
		fresh := s.wantFresh && s.cfg.FreshURL != ""
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
		tok, lifetime, err = s.request(ctx, s.cfg.FreshURL)
		if err != nil && ctx.Err() == nil {
			freshErr = err
			start = s.now()
			tok, lifetime, err = s.request(ctx, s.cfg.URL)
		}
	} else {
		tok, lifetime, err = s.request(ctx, s.cfg.URL)
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
