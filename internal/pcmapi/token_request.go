package pcmapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxTokenBody is how much of a token response is read (as golang.org/x/oauth2 does).
const maxTokenBody = 1 << 20

// maxTokenLifetime caps expires_in. PCM grants 6 hours; a value beyond a day is nonsense, and
// one beyond time.Duration (about 292 years) would overflow into "already expired".
const maxTokenLifetime = 24 * time.Hour

// request performs the client_credentials grant against tokenURL and checks what PCM requires
// of the answer: an access_token and a positive expires_in (docs/pcm-rules.md §3, Decision 8).
//
// The grant is made here rather than with golang.org/x/oauth2, whose parser refuses a whole
// answer for an expires_in it cannot hold in an int64 (1e19, 3600.5) and whose error text
// embeds the response body. No error of this function quotes the body: a token endpoint's
// answer may hold a token, so only its error fields are quoted, redacted of any access_token.
func (s *TokenSource) request(ctx context.Context, tokenURL string) (string, time.Duration, error) {
	// The form carries grant_type and client_id only and there is no Authorization header:
	// RFC 8705 tls_client_auth, PCM authenticates the client by its certificate.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.cfg.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &TokenError{Kind: TokenKindOther, msg: err.Error(), cause: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil { // TLS, refused, timeout, ctx
		return "", 0, transportTokenError(err)
	}
	defer drainClose(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		te := transportTokenError(err)
		te.StatusCode, te.msg = resp.StatusCode, fmt.Sprintf("reading the token response (HTTP %d): %v", resp.StatusCode, err)
		return "", 0, te
	}
	a := parseTokenAnswer(body, resp.Header.Get("Content-Type"))

	code := resp.StatusCode
	switch {
	case code >= 300 && code < 400:
		loc := cleanLocation(resp.Header.Get("Location"), a.accessToken)
		if loc == "" {
			loc = "no Location"
		}
		return "", 0, &TokenError{Kind: TokenKindRedirect, StatusCode: code, Location: loc, msg: fmt.Sprintf(
			"token endpoint answered HTTP %d, a redirect to %s that is not followed: set token.url (and token.fresh_url) to the final URL", code, loc)}
	case code < 200 || code > 299:
		return "", 0, &TokenError{Kind: TokenKindHTTP, StatusCode: code, msg: fmt.Sprintf("token endpoint answered HTTP %d: %s", code, a.describe())}
	case !a.parsed:
		return "", 0, answerError(code, "the token response (HTTP %d) is %s, not a token", code, a.describe())
	case a.oauthError != "" || a.accessToken == "":
		// PCM documents an error under 200: {"statusCode":401,"message":"ClientId is not valid to the orgId"}.
		if msg := a.errorText(); msg != "" {
			return "", 0, answerError(code, "the token response carries no usable access_token (PCM said: %s)", msg)
		}
		return "", 0, answerError(code, "the token response has no access_token")
	}
	lifetime, ok := tokenLifetime(a.expiresIn)
	if !ok {
		return "", 0, answerError(code, "the token response has no positive expires_in")
	}
	return a.accessToken, lifetime, nil
}

func answerError(code int, format string, args ...any) *TokenError {
	return &TokenError{Kind: TokenKindAnswer, StatusCode: code, msg: fmt.Sprintf(format, args...)}
}

// tokenAnswer is what request needs from a token response body.
type tokenAnswer struct {
	parsed      bool   // the body is a JSON object or a form
	accessToken string // "" when absent or not a string
	expiresIn   string // the raw number, "" when absent
	oauthError  string // OAuth2's error code
	errorFields string // PCM's statusCode and message, OAuth2's error and error_description
	contentType string
	size        int
}

// parseTokenAnswer reads a JSON object, or a form for the content types x/oauth2 reads as one.
func parseTokenAnswer(body []byte, contentType string) tokenAnswer {
	a := tokenAnswer{contentType: contentType, size: len(body)}
	media, _, _ := mime.ParseMediaType(contentType)
	if media == "application/x-www-form-urlencoded" || media == "text/plain" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return a
		}
		a.parsed = true
		a.accessToken, a.expiresIn, a.oauthError = vals.Get("access_token"), vals.Get("expires_in"), vals.Get("error")
		a.errorFields = strings.Join(nonEmpty(vals.Get("error"), vals.Get("error_description")), ": ")
		return a
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil || fields == nil {
		return a
	}
	a.parsed = true
	_ = json.Unmarshal(fields["access_token"], &a.accessToken) // not a string: no token
	if raw := fields["expires_in"]; len(raw) > 0 {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			a.expiresIn = str
		} else {
			a.expiresIn = string(raw)
		}
	}
	var oauthErr lenientString
	_ = json.Unmarshal(fields["error"], &oauthErr)
	a.oauthError = string(oauthErr)
	a.errorFields = errorFields(body)
	return a
}

// errorText is the answer's error fields, sanitised and redacted; "" if none.
func (a tokenAnswer) errorText() string {
	if a.errorFields == "" {
		return ""
	}
	return cleanText(a.errorFields, a.accessToken)
}

// describe says what the answer was without quoting its body: its error fields, or its content
// type and size.
func (a tokenAnswer) describe() string {
	if msg := a.errorText(); msg != "" {
		return msg
	}
	ct := cleanText(a.contentType, "")
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("a body of %d bytes (%s) without error fields", a.size, ct)
}

// tokenLifetime reads expires_in (seconds, a JSON number or a string) as a positive lifetime,
// capped at maxTokenLifetime. Missing, zero, negative, NaN or not a number is no usable
// lifetime: a token that claims to be expired is of no use, and the next Token call asks again.
func tokenLifetime(raw string) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: ±Inf or 0, handled below
		return 0, false
	}
	if !(secs > 0) { // also NaN
		return 0, false
	}
	if secs >= maxTokenLifetime.Seconds() { // compared as a float: the Duration would overflow
		return maxTokenLifetime, true
	}
	return time.Duration(secs * float64(time.Second)), true
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
