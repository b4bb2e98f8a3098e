package pcmapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrToken is wrapped by every error of a token request, so callers can tell "PCM refused or
// could not be reached for a token" from a refused report. Token errors are never permanent:
// a token endpoint that is down or misconfigured today may work after a fix, and the reports
// waiting for it are still valid.
var ErrToken = errors.New("obtaining PCM token")

// ErrInvalidRequest is wrapped when a request cannot be built from what the caller gave (an item
// that is not a JSON object, an endpoint that is not a URL). Sending the same input again can
// never succeed, so [IsPermanent] reports true for it.
var ErrInvalidRequest = errors.New("invalid PCM request")

// maxRetryAfter caps a server's Retry-After: a nonsense value must not park the sending queue
// for years; the caller's retry budget ends long before this anyway.
const maxRetryAfter = 24 * time.Hour

// StatusError is a non-success answer of the PCM API.
type StatusError struct {
	StatusCode int
	// Location is the Location header of a 3xx (sanitised, userinfo removed). The clients
	// never follow redirects: the bearer token must not travel to another URL.
	Location string
	// Message is PCM's {"message": …} or a short, sanitised excerpt of the body (≤ 200
	// characters); any echo of the access token is redacted.
	Message string
	// RetryAfter is the server's Retry-After on 429/503 (seconds or HTTP date; a date in the
	// past gives 0).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PCM answered HTTP %d", e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Redirect() {
		loc := e.Location
		if loc == "" {
			loc = "no Location"
		}
		fmt.Fprintf(&b, " (redirect to %s not followed: point the endpoint at the final URL, or fix the proxy)", loc)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Permanent reports whether resending the same request can never succeed.
//
// 400, 403, 404, 406, 413 (reaching a caller only for a single item), 415 and the other 4xx are
// permanent: they mean a malformed request or a configuration problem (certificate,
// organisation, path, headers), and resending only repeats it. 404 counts as permanent because
// for a POST it means a wrong report path, not PCM's eventual consistency (which concerns GETs).
// 401 (token, already refreshed once), 408 and 429 are not: they depend on time, not on the
// request. A 3xx ([StatusError.Redirect]) is a configuration problem (endpoint or proxy) but
// not permanent: the reports stay queued until an operator fixes it, and a WAF's maintenance
// redirect must not dead-letter a day of reports. 5xx and anything else are retryable.
func (e *StatusError) Permanent() bool {
	switch c := e.StatusCode; {
	case c == http.StatusUnauthorized, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return false
	default:
		return c >= 400 && c < 500
	}
}

// Redirect reports whether PCM (or something in front of it) answered with a 3xx, which the
// clients never follow; Location says where it pointed.
func (e *StatusError) Redirect() bool { return e.StatusCode >= 300 && e.StatusCode < 400 }

// UnconfirmedError means that a POST got an answer that confirms nothing: a 2xx (or a 400,
// docs/pcm-rules.md Decision 7) whose body is not PCM's JSON array with one ReportResponse per
// report — an HTML page from a proxy or WAF, an empty or truncated body, an array shorter or
// longer than the request. None of the POST's reports counts as delivered; the error is
// retryable (not [IsPermanent]), like a 5xx.
type UnconfirmedError struct {
	StatusCode int
	// Reason says what was wrong with the answer, e.g. "2 results for 4 reports".
	Reason string
	// Excerpt is the start of the body, sanitised (≤ 200 characters) and redacted of the token.
	Excerpt string
}

func (e *UnconfirmedError) Error() string {
	msg := fmt.Sprintf("PCM answered HTTP %d without confirming the reports (%s); they are not delivered", e.StatusCode, e.Reason)
	if e.Excerpt != "" {
		msg += ": " + e.Excerpt
	}
	return msg
}

// IsUnconfirmed reports whether err is an [UnconfirmedError].
func IsUnconfirmed(err error) bool {
	var ue *UnconfirmedError
	return errors.As(err, &ue)
}

// IsPermanent reports whether err means that resending the same items can never succeed: a
// permanent [StatusError] or an [ErrInvalidRequest]. Transport and token errors, redirects and
// [UnconfirmedError] are retryable.
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidRequest) {
		return true
	}
	var se *StatusError
	return errors.As(err, &se) && se.Permanent()
}

// RetryAfter returns the delay PCM asked for with Retry-After (429/503), if err carries a
// positive one. A zero delay reports false: it asks for nothing beyond the normal backoff.
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date. Unparseable → 0,
// negative or past → 0, huge → maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
