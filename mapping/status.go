package mapping

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// statusTimeout is what a client reports when no response arrived in time (docs/pcm-rules.md
// Decision 2: 408, not the 403 of some spec texts).
const statusTimeout = 408

// statusCode returns the response status (stable attribute first, then legacy). A status of 0 or
// below counts as absent: some instrumentations record 0 when no response was received.
func (a *spanAttrs) statusCode() (int, bool) {
	for _, at := range [...]attr{a.status, a.statusLegacy} {
		if n, ok := at.intValue(); ok && n > 0 {
			if n > 1<<31-1 { // keep it an int on every platform; Validate rejects it anyway
				n = 1<<31 - 1
			}
			return int(n), true
		}
	}
	return 0, false
}

// A client span without a final status is a 408 when the client gave up: a timeout or a
// cancellation (Decisions 2 and 18). What instrumentations record for that differs, so the span
// is read the way each of them writes it (status_test.go cites the sources row by row):
//
//   - error.type or an exception event's exception.type naming a timeout, cancellation or abort
//     (java.net.SocketTimeoutException, System.Threading.Tasks.TaskCanceledException,
//     requests.exceptions.ReadTimeout, AbortError, TimeoutError, UND_ERR_HEADERS_TIMEOUT, …);
//   - OkHttp's call timeout, java.io.InterruptedIOException, whose name says neither;
//   - a span status or exception message saying so ("context deadline exceeded",
//     "The operation was aborted", "Read timed out", …);
//   - semantic conventions: a request "cancelled intentionally by the caller (e.g., via context
//     cancellation or an abort signal)" gets no error.type and no Error status (Node
//     instrumentation-undici does exactly that), so a span with no status code at all and no
//     error of any kind ended because the caller cancelled it.

// timeoutTypeWords are matched case-insensitively in error types; timeoutMessageWords in
// messages, where a bare "abort" is too loose ("Software caused connection abort").
var (
	timeoutTypeWords    = [...]string{"timeout", "timedout", "timed out", "deadline", "cancel", "abort"}
	timeoutMessageWords = [...]string{"timeout", "timedout", "timed out", "deadline", "cancel", "operation was aborted"}
)

// timeoutTypeNames are error types that mean a timeout although their name does not say so,
// compared without their package.
var timeoutTypeNames = [...]string{"InterruptedIOException"}

// endedByTimeout reports whether a CLIENT span without a final response ended because the call
// timed out or was cancelled. statusPresent is true when a status attribute exists although it
// is no final status (an interim 1xx, a 0, an unreadable value): such a span still needs an
// explicit timeout or cancellation error.
func endedByTimeout(span ptrace.Span, a *spanAttrs, statusPresent bool) bool {
	if isTimeoutType(a.errorType.str()) || containsAnyFold(span.Status().Message(), timeoutMessageWords[:]) {
		return true
	}
	sawException := false
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		if ev.Name() != eventNameException {
			continue
		}
		sawException = true
		attrs := ev.Attributes()
		if v, ok := attrs.Get(attrExceptionType); ok && isTimeoutType(v.Str()) {
			return true
		}
		if v, ok := attrs.Get(attrExceptionMsg); ok && containsAnyFold(v.Str(), timeoutMessageWords[:]) {
			return true
		}
	}
	return !statusPresent && !a.errorType.ok && span.Status().Code() != ptrace.StatusCodeError && !sawException
}

func isTimeoutType(s string) bool {
	if s == "" {
		return false
	}
	if containsAnyFold(s, timeoutTypeWords[:]) {
		return true
	}
	simple := s[strings.LastIndexByte(s, '.')+1:]
	for _, name := range timeoutTypeNames {
		if strings.EqualFold(simple, name) {
			return true
		}
	}
	return false
}

func containsAnyFold(s string, words []string) bool {
	if s == "" {
		return false
	}
	for _, w := range words {
		if containsFold(s, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains word (lower-case ASCII) ignoring ASCII case, without
// allocating (strings.ToLower would copy every error message).
func containsFold(s, word string) bool {
	n := len(word)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
