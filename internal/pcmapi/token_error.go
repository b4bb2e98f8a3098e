package pcmapi

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// Kinds of TokenError: a short, bounded classification for metric labels and rate-limited logs.
const (
	TokenKindCertificate = "certificate" // the token endpoint refused the client certificate
	TokenKindHTTP        = "http"        // a non-2xx answer other than a redirect (see StatusCode)
	TokenKindRedirect    = "redirect"    // a 3xx, not followed (see Location)
	TokenKindAnswer      = "answer"      // a 2xx without a usable access_token and expires_in
	TokenKindUnreachable = "unreachable" // connection refused, unknown host
	TokenKindTimeout     = "timeout"     // the client's timeout or the caller's deadline
	TokenKindCanceled    = "canceled"    // the caller's context was canceled
	TokenKindOther       = "other"
)

// TokenError is the error of a token request. It wraps [ErrToken] and its cause (errors.Is and
// errors.As see both), and its text never holds a token nor a token endpoint answer body.
type TokenError struct {
	Kind       string // one of the TokenKind constants
	StatusCode int    // the token endpoint's HTTP status; 0 when it did not answer
	Location   string // a 3xx's Location (sanitised), for TokenKindRedirect
	msg        string
	cause      error
}

func (e *TokenError) Error() string { return ErrToken.Error() + ": " + e.msg }

// Unwrap returns ErrToken and the cause, if any.
func (e *TokenError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrToken}
	}
	return []error{ErrToken, e.cause}
}

// transportTokenError classifies a failed token request that got no answer.
func transportTokenError(err error) *TokenError {
	te := &TokenError{Kind: TokenKindOther, msg: err.Error(), cause: err}
	var dnsErr *net.DNSError
	var netErr net.Error
	switch hint := certificateHint(err); {
	case hint != "":
		te.Kind, te.msg = TokenKindCertificate, err.Error()+" ("+hint+")"
	case errors.Is(err, context.Canceled):
		te.Kind = TokenKindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		te.Kind = TokenKindTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr):
		te.Kind = TokenKindUnreachable
	}
	return te
}
