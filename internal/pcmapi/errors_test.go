package pcmapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStatusErrorPermanent(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{
		400: true, 403: true, 404: true, 406: true, 409: true, 413: true, 415: true, 422: true,
		301: false, 302: false, 304: false, 307: false, 308: false,
		401: false, 408: false, 429: false,
		500: false, 501: false, 502: false, 503: false, 504: false,
	} {
		err := fmt.Errorf("wrapped: %w", &StatusError{StatusCode: code})
		assert.Equal(t, want, IsPermanent(err), "HTTP %d", code)
	}
	assert.False(t, IsPermanent(errors.New("dial tcp: connection refused")))
	assert.False(t, IsPermanent(fmt.Errorf("%w: boom", ErrToken)))
	assert.True(t, IsPermanent(fmt.Errorf("%w: item 3", ErrInvalidRequest)))
	assert.False(t, IsPermanent(nil))
}

func TestStatusErrorText(t *testing.T) {
	t.Parallel()
	err := &StatusError{StatusCode: 429, Message: "Too Many Requests", RetryAfter: 7 * time.Second}
	assert.Equal(t, "PCM answered HTTP 429 Too Many Requests: Too Many Requests (retry after 7s)", err.Error())
	assert.Equal(t, "PCM answered HTTP 403 Forbidden", (&StatusError{StatusCode: 403}).Error())
	redirect := &StatusError{StatusCode: 307, Location: "https://waf.example/maintenance"}
	assert.True(t, redirect.Redirect())
	assert.Contains(t, redirect.Error(), "PCM answered HTTP 307 Temporary Redirect (redirect to https://waf.example/maintenance not followed")
	assert.False(t, (&StatusError{StatusCode: 403}).Redirect())
	unconfirmed := fmt.Errorf("x: %w", &UnconfirmedError{StatusCode: 200, Reason: "empty body"})
	assert.Equal(t, "x: PCM answered HTTP 200 without confirming the reports (empty body); they are not delivered", unconfirmed.Error())
	assert.True(t, IsUnconfirmed(unconfirmed))
	assert.False(t, IsPermanent(unconfirmed))

	d, ok := RetryAfter(fmt.Errorf("x: %w", err))
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	_, ok = RetryAfter(errors.New("plain"))
	assert.False(t, ok)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                  0,
		"0":                 0,
		"  5 ":              5 * time.Second,
		"-5":                0,
		"soon":              0,
		"1.5":               0,
		"99999999999999999": maxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		"Sunday, 01-Mar-26 12:00:30 GMT":                  30 * time.Second, // RFC 850
		"Sun Mar  1 12:00:10 2026":                        10 * time.Second, // ANSI C
		now.Add(1000 * time.Hour).Format(http.TimeFormat): maxRetryAfter,
	} {
		assert.Equal(t, want, parseRetryAfter(in, now), "%q", in)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 300)
	for name, tc := range map[string]struct{ body, token, want string }{
		"PCM message":         {`{"message":"Forbidden"}`, "", "Forbidden"},
		"OAuth2 error":        {`{"error":"invalid_client","error_description":"Invalid client credentials"}`, "", "invalid_client: Invalid client credentials"},
		"statusCode":          {`{"statusCode":401,"message":"ClientId is not valid to the orgId"}`, "", "statusCode 401: ClientId is not valid to the orgId"},
		"plain text":          {"upstream\r\n\tconnect error\x00", "", "upstream connect error"},
		"object w/o message":  {`{"detail":"x"}`, "", `{"detail":"x"}`},
		"token redacted":      {`{"message":"bad token abc.def"}`, "abc.def", "bad token [REDACTED]"},
		"long body truncated": {long, "", strings.Repeat("é", maxMessageRunes-1) + "…"},
		"invalid UTF-8":       {"a\xffb", "", "a b"},
	} {
		assert.Equal(t, tc.want, errorMessage([]byte(tc.body), tc.token), name)
	}
}
