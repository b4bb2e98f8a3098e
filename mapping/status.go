package mapping

import (
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// statusTimeout is what a client reports when no response arrived in time (PCM-REFERENCE §14
// item 2: 408, not the 403 of some spec texts).
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

// timeoutWords are matched case-insensitively in error.type, the span status message and
// exception events. They cover java.net.SocketTimeoutException,
// java.net.http.HttpTimeoutException, System.Threading.Tasks.TaskCanceledException, Go's
// "context deadline exceeded" / "Client.Timeout exceeded" / "context canceled", and Node's
// ETIMEDOUT / ESOCKETTIMEDOUT.
var timeoutWords = [...]string{"timeout", "timed out", "timedout", "deadline", "cancel"}

// endedByTimeout reports whether a span without a response ended because the call timed out or
// was cancelled (the client gave up waiting).
func endedByTimeout(span ptrace.Span, a *spanAttrs) bool {
	if isTimeoutText(a.errorType.str()) || isTimeoutText(span.Status().Message()) {
		return true
	}
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		if ev.Name() != eventNameException {
			continue
		}
		attrs := ev.Attributes()
		for _, name := range [...]string{attrExceptionType, attrExceptionMsg} {
			if v, ok := attrs.Get(name); ok && isTimeoutText(v.Str()) {
				return true
			}
		}
	}
	return false
}

func isTimeoutText(s string) bool {
	if s == "" {
		return false
	}
	for _, w := range timeoutWords {
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
