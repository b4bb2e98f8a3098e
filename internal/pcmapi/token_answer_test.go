package pcmapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestTokenLifetimeCapped: an expires_in too large for a time.Duration, or absurd, is capped at
// maxTokenLifetime: neither cached forever nor overflowing into "already expired" (which would
// fetch a token on every call) nor refused (which would leave the exporter without a token).
func TestTokenLifetimeCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn any // as written in the JSON answer
		want      time.Duration
	}{
		{"PCM's 6 hours", 21600, 6 * time.Hour},
		{"fractional seconds", 3600.5, 3600*time.Second + 500*time.Millisecond},
		{"as a string", "7200", 2 * time.Hour},
		{"25 hours", 90000, maxTokenLifetime},
		{"overflows a Duration by one second", 9223372037, maxTokenLifetime},
		{"1e19", 1e19, maxTokenLifetime},
		{"beyond float64, as a string", "1e400", maxTokenLifetime},
		{"beyond int64, as an integer", jsonNumber("99999999999999999999"), maxTokenLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(*http.Request, int) (int, string, string) { return ts.grant(tt.expiresIn) }
			src := ts.source(t, TokenConfig{ExpiryBuffer: time.Minute})
			clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			src.now = clock.Now
			t0 := clock.Now()

			first, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, t0.Add(tt.want), src.Expiry())
			again, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, first, again, "cached, not already expired")

			clock.Advance(tt.want) // expired: a capped token is not cached forever
			third, err := src.Token(context.Background())
			require.NoError(t, err)
			assert.NotEqual(t, first, third)
			assert.EqualValues(t, 2, ts.fetches.Load())
		})
	}
}

// jsonNumber is a number written verbatim into the answer (json.Marshal of a json.Number).
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// TestTokenLifetimeUnusable: a missing, zero, negative or not-a-number expires_in is no usable
// lifetime; the token is not cached and the error says why, without the token.
func TestTokenLifetimeUnusable(t *testing.T) {
	t.Parallel()
	for name, expiresIn := range map[string]any{
		"zero": 0, "negative": -30, "NaN string": "NaN", "negative infinity": "-1e400", "text": "soon", "null": nil, "object": map[string]int{"s": 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(*http.Request, int) (int, string, string) { return ts.grant(expiresIn) }
			src := ts.source(t, TokenConfig{})
			_, err := src.Token(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrToken)
			assert.Contains(t, err.Error(), "expires_in")
			requireNoSecrets(t, ts, err)
			assert.True(t, src.Expiry().IsZero())
		})
	}
}

// TestTokenAnswerNeverInErrorsOrLogs: whatever a token endpoint answers, with a token in the
// body or not, neither the access token nor the body reaches an error, a hook or a log line
// (the client logs at debug level here).
func TestTokenAnswerNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	const marker = "BODY-MARKER-7f3a" // a piece of the body that is no error field
	tests := []struct {
		name    string
		respond func(ts *tokenServer) (int, string, string)
	}{
		{"400 with a token and an error", func(ts *tokenServer) (int, string, string) {
			return 400, "application/json", `{"access_token":"` + ts.newToken() + `","error":"invalid_client","error_description":"no, ` + "\x1b[2J" + `","debug":"` + marker + `"}`
		}},
		{"200 with a token and an OAuth2 error", func(ts *tokenServer) (int, string, string) {
			return 200, "application/json", `{"access_token":"` + ts.newToken() + `","expires_in":3600,"error":"server_error","debug":"` + marker + `"}`
		}},
		{"error message echoing the token", func(ts *tokenServer) (int, string, string) {
			tok := ts.newToken()
			return 500, "application/json", `{"access_token":"` + tok + `","message":"could not store ` + tok + `","debug":"` + marker + `"}`
		}},
		{"form with a token and an error", func(ts *tokenServer) (int, string, string) {
			return 401, "application/x-www-form-urlencoded", "access_token=" + ts.newToken() + "&error=invalid_client&debug=" + marker
		}},
		{"200 token without expires_in", func(ts *tokenServer) (int, string, string) {
			return 200, "application/json", `{"access_token":"` + ts.newToken() + `","debug":"` + marker + `"}`
		}},
		{"200 token with a bad expires_in", func(ts *tokenServer) (int, string, string) {
			return 200, "application/json", `{"access_token":"` + ts.newToken() + `","expires_in":"` + marker + `"}`
		}},
		{"HTML page", func(*tokenServer) (int, string, string) {
			return 502, "text/html", "<html>" + marker + "</html>"
		}},
		{"redirect", func(ts *tokenServer) (int, string, string) {
			return 302, "application/json", `{"access_token":"` + ts.newToken() + `","debug":"` + marker + `"}`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = func(*http.Request, int) (int, string, string) { return tt.respond(ts) }
			var hookErr error
			tokens := ts.source(t, TokenConfig{OnRequest: func(_ string, err error) { hookErr = err }})
			core, logs := observer.New(zapcore.DebugLevel)
			c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: "https://127.0.0.1:1", Tokens: tokens, Logger: zap.New(core)})

			_, err := c.Send(context.Background(), privatePath, makeItems(1))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrToken)
			require.Equal(t, err, hookErr)
			texts := []string{err.Error()}
			for _, e := range logs.All() {
				texts = append(texts, e.Message)
				for k, v := range e.ContextMap() {
					texts = append(texts, k, fmt.Sprint(v))
				}
			}
			for _, text := range texts {
				assert.NotContains(t, text, marker, "a token answer body reached an error or a log")
				assert.NotContains(t, text, "\x1b")
				for _, tok := range ts.allIssued() {
					assert.NotContains(t, text, tok)
				}
			}
		})
	}
}
