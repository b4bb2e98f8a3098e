package pcmapi

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenRequest checks the grant PCM expects (the token server rejects anything else) and
// that the client certificate's OU — our organisation id — reaches the server.
func TestTokenRequest(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	var outcomes []string
	src := ts.source(t, TokenConfig{OnRequest: func(outcome string, err error) {
		assert.NoError(t, err)
		outcomes = append(outcomes, outcome)
	}})

	before := time.Now()
	tok, err := src.Token(context.Background())
	require.NoError(t, err)
	assert.True(t, ts.valid(tok))
	_, ous := ts.seen()
	assert.Equal(t, []string{testOrgID}, ous)
	assert.Equal(t, []string{OutcomeSuccess}, outcomes)
	assert.WithinRange(t, src.Expiry(), before.Add(time.Hour), time.Now().Add(time.Hour))
}

// TestTokenRequiresClientCertificate: the token endpoint is mTLS; without a certificate from a
// trusted CA the handshake fails, and the error is a retryable token error.
func TestTokenRequiresClientCertificate(t *testing.T) {
	t.Parallel()
	for name, certs := range map[string][]tls.Certificate{
		"no certificate":             nil,
		"certificate of an other CA": {pki(t).otherClient},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			var gotOutcome string
			src := ts.source(t, TokenConfig{
				HTTPClient: httpClient(t, certs...),
				OnRequest:  func(outcome string, _ error) { gotOutcome = outcome },
			})
			_, err := src.Token(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrToken)
			assert.True(t, strings.HasPrefix(err.Error(), "obtaining PCM token: "), err.Error())
			assert.False(t, IsPermanent(err))
			assert.Equal(t, OutcomeFailure, gotOutcome)
			assert.Zero(t, ts.fetches.Load(), "no request may get past the handshake")
			assert.True(t, src.Expiry().IsZero())
		})
	}
}

// TestTokenResponseErrors: answers without a usable token are errors that quote PCM's reason
// and never the token.
func TestTokenResponseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		ctype  string
		body   func(ts *tokenServer) string
		want   []string
	}{
		{
			name: "200 carrying an error", status: 200, ctype: "application/json",
			body: func(*tokenServer) string { return `{"statusCode":401,"message":"ClientId is not valid to the orgId"}` },
			want: []string{"ClientId is not valid to the orgId", "statusCode 401"},
		},
		{
			name: "400 invalid_client", status: 400, ctype: "application/json",
			body: func(*tokenServer) string {
				return `{"error":"invalid_client","error_description":"Invalid client credentials"}`
			},
			want: []string{"HTTP 400", "invalid_client", "Invalid client credentials"},
		},
		{
			name: "500 message", status: 500, ctype: "application/json",
			body: func(*tokenServer) string { return `{"message":"Internal server error"}` },
			want: []string{"HTTP 500", "Internal server error"},
		},
		{
			name: "502 from a proxy", status: 502, ctype: "text/html",
			body: func(*tokenServer) string { return "<html>\n<h1>Bad Gateway</h1>\n</html>" },
			// No token endpoint body is ever quoted, not even a proxy's page: only its type and size.
			want: []string{"HTTP 502", "text/html", "35 bytes"},
		},
		{
			name: "token without expires_in", status: 200, ctype: "application/json",
			body: func(ts *tokenServer) string { return `{"access_token":"` + ts.newToken() + `","token_type":"Bearer"}` },
			want: []string{"expires_in"},
		},
		{
			name: "token with expires_in 0", status: 200, ctype: "application/json",
			body: func(ts *tokenServer) string {
				return `{"access_token":"` + ts.newToken() + `","token_type":"Bearer","expires_in":0}`
			},
			want: []string{"expires_in"},
		},
		{
			name: "expires_in without token", status: 200, ctype: "application/json",
			body: func(*tokenServer) string { return `{"expires_in":21600}` },
			want: []string{"access_token"},
		},
		{
			name: "not JSON", status: 200, ctype: "application/json",
			body: func(*tokenServer) string { return `OK` },
			want: []string{"obtaining PCM token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(*http.Request, int) (int, string, string) { return tt.status, tt.ctype, tt.body(ts) }
			var hookErr error
			src := ts.source(t, TokenConfig{OnRequest: func(outcome string, err error) {
				assert.Equal(t, OutcomeFailure, outcome)
				hookErr = err
			}})
			tok, err := src.Token(context.Background())
			require.Error(t, err)
			assert.Empty(t, tok)
			assert.ErrorIs(t, err, ErrToken)
			assert.False(t, IsPermanent(err))
			assert.Equal(t, err, hookErr)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			requireNoSecrets(t, ts, err)
			assert.True(t, src.Expiry().IsZero())
		})
	}
}

// TestTokenResponseFormats: expires_in as a string and form-encoded answers are accepted too.
func TestTokenResponseFormats(t *testing.T) {
	t.Parallel()
	tests := map[string]func(ts *tokenServer) (int, string, string){
		"expires_in as string": func(ts *tokenServer) (int, string, string) { return ts.grant("3600") },
		"form encoded": func(ts *tokenServer) (int, string, string) {
			return 200, "application/x-www-form-urlencoded", "access_token=" + ts.newToken() + "&token_type=bearer&expires_in=3600"
		},
	}
	for name, respond := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(*http.Request, int) (int, string, string) { return respond(ts) }
			src := ts.source(t, TokenConfig{})
			before := time.Now()
			tok, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.True(t, ts.valid(tok))
			assert.WithinRange(t, src.Expiry(), before.Add(time.Hour), time.Now().Add(time.Hour))
		})
	}
}

// TestTokenRefreshSchedule follows the cache on a fake clock: a token is reused until
// ExpiryBuffer before its expiry, the buffer being capped at half the granted lifetime.
func TestTokenRefreshSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn int
		buffer    time.Duration
		refreshAt time.Duration // after the first fetch
	}{
		{"buffer before expiry", 600, time.Minute, 540 * time.Second},
		{"no buffer", 600, 0, 600 * time.Second},
		{"buffer capped at half the lifetime", 100, 5 * time.Minute, 50 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(*http.Request, int) (int, string, string) { return ts.grant(tt.expiresIn) }
			src := ts.source(t, TokenConfig{ExpiryBuffer: tt.buffer})
			clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			src.now = clock.Now
			t0 := clock.Now()
			ctx := context.Background()

			first, err := src.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, t0.Add(time.Duration(tt.expiresIn)*time.Second), src.Expiry())

			clock.Advance(tt.refreshAt - time.Second)
			again, err := src.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, first, again, "still cached one second before the refresh time")
			assert.EqualValues(t, 1, ts.fetches.Load())

			clock.Advance(time.Second)
			second, err := src.Token(ctx)
			require.NoError(t, err)
			assert.NotEqual(t, first, second)
			assert.EqualValues(t, 2, ts.fetches.Load())
		})
	}
}

// TestTokenRefreshRealClock: on the wall clock, with a one-second token, a token past its
// refresh time is replaced. (That it is reused before is TestTokenRefreshSchedule's, on a fake
// clock: here a stalled CI machine could pass the refresh time between two calls.)
func TestTokenRefreshRealClock(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	ts.respond = func(*http.Request, int) (int, string, string) { return ts.grant(1) }
	src := ts.source(t, TokenConfig{ExpiryBuffer: 500 * time.Millisecond})
	ctx := context.Background()

	first, err := src.Token(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, ts.fetches.Load())

	time.Sleep(600 * time.Millisecond) // past expiry - buffer
	second, err := src.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first, second)
	assert.EqualValues(t, 2, ts.fetches.Load())
}

// TestTokenConcurrentCallersShareOneFetch: callers arriving while a fetch is in flight wait for
// it instead of starting their own.
func TestTokenConcurrentCallersShareOneFetch(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	started, release := make(chan struct{}), make(chan struct{})
	ts.respond = func(*http.Request, int) (int, string, string) {
		close(started) // a second fetch would panic here
		<-release
		return ts.grant(3600)
	}
	src := ts.source(t, TokenConfig{})

	const callers = 20
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	call := func(i int) {
		defer wg.Done()
		tokens[i], errs[i] = src.Token(context.Background())
	}
	wg.Add(callers)
	go call(0)
	<-started
	for i := 1; i < callers; i++ {
		go call(i)
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the fetch
	close(release)
	wg.Wait()

	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, tokens[0], tokens[i])
	}
	assert.EqualValues(t, 1, ts.fetches.Load())
}

// TestTokenWaiterContext: a waiter whose context ends returns at once; when the fetching
// caller's context ends, a waiter with a live context fetches on its own.
func TestTokenWaiterContext(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	started := make(chan struct{})
	ts.respond = func(r *http.Request, n int) (int, string, string) {
		if n == 1 {
			close(started)
			<-r.Context().Done()        // hang until the leader gives up,
			panic(http.ErrAbortHandler) // then never answer
		}
		return ts.grant(3600)
	}
	src := ts.source(t, TokenConfig{})

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := src.Token(leaderCtx)
		leaderErr <- err
	}()
	<-started

	impatient, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := src.Token(impatient)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrToken)

	waiterTok := make(chan string, 1)
	go func() {
		tok, err := src.Token(context.Background())
		assert.NoError(t, err)
		waiterTok <- tok
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter queue behind the leader
	cancelLeader()
	require.ErrorIs(t, <-leaderErr, context.Canceled)
	assert.True(t, ts.valid(<-waiterTok))
	assert.EqualValues(t, 2, ts.fetches.Load())
}

func TestTokenInvalidate(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	src := ts.source(t, TokenConfig{})
	ctx := context.Background()

	first, err := src.Token(ctx)
	require.NoError(t, err)
	src.Invalidate()
	assert.True(t, src.Expiry().IsZero())

	second, err := src.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first, second)

	// A late 401 for the first token must not throw away the second.
	src.invalidate(first)
	third, err := src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, second, third)
	assert.EqualValues(t, 2, ts.fetches.Load())
}

// TestTokenFreshURL: with FreshURL, only the fetch right after an invalidation goes to
// /token-fresh/; scheduled refreshes stay on /token/.
func TestTokenFreshURL(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	ts.respond = func(*http.Request, int) (int, string, string) { return ts.grant(600) }
	src := ts.source(t, TokenConfig{FreshURL: ts.URL + "/token-fresh/", ExpiryBuffer: time.Minute})
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	src.now = clock.Now
	ctx := context.Background()

	_, err := src.Token(ctx)
	require.NoError(t, err)
	src.Invalidate()
	_, err = src.Token(ctx)
	require.NoError(t, err)
	clock.Advance(10 * time.Minute) // past the refresh time
	_, err = src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"/token/", "/token-fresh/", "/token/"}, paths(ts))
}

func TestTokenContextAlreadyDone(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t)
	src := ts.source(t, TokenConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := src.Token(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled) && errors.Is(err, ErrToken), err.Error())
}

func TestCertificateHint(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		`Post "https://auth/token/": remote error: tls: bad certificate`:                     "refused the client certificate",
		`Post "https://auth/token/": remote error: tls: certificate required`:                "refused the client certificate",
		`Post "https://auth/token/": write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe`: "closed the connection after the TLS handshake",
		`Post "https://auth/token/": http2: client conn could not be established`:            "closed the connection after the TLS handshake",
		`Post "https://auth/token/": dial tcp 127.0.0.1:2: connect: connection refused`:      "",
	} {
		got := certificateHint(errors.New(msg))
		if want == "" {
			assert.Empty(t, got, msg)
			continue
		}
		assert.Contains(t, got, want, msg)
	}
}
