package pcmapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
)

const (
	// DefaultMaxBodyBytes keeps a POST under PCM's 10 MB limit (413 above it), read as 10^7
	// bytes, the stricter of MB and MiB, with 64 KiB to spare for anything a proxy adds.
	DefaultMaxBodyBytes = 10_000_000 - 64<<10

	// maxDrainBytes is how much of an unread body is drained so the connection can be reused;
	// beyond that, closing is cheaper than reading.
	maxDrainBytes = 64 << 10
	// maxResultBytes bounds the per-item answer: 5000 ReportResponses of at most ~450 bytes
	// each are about 2 MB.
	maxResultBytes = 16 << 20
)

// Config configures a Client.
type Config struct {
	HTTPClient *http.Client // built by the exporter from confighttp (TLS trust, timeout, proxy, headers); nil → http.DefaultClient
	Endpoint   string       // API base URL, e.g. https://api.pcm.sandbox.openfinancebrasil.org.br
	Tokens     *TokenSource // required
	// MaxBodyBytes bounds one POST body; 0 (or negative) → DefaultMaxBodyBytes.
	MaxBodyBytes int
	// OnResponse, if set, is called after every report POST attempt with the path, HTTP status
	// (0 on transport error) and duration. It must not block.
	OnResponse func(path string, status int, d time.Duration)
	UserAgent  string
	// Logger, if set, receives a warning when PCM's per-item answer holds unconfirmed items
	// (see Send). nil → no logging.
	Logger *zap.Logger
}

// Client sends reports to the PCM API. It is safe for concurrent use.
type Client struct {
	http    *http.Client
	base    string
	tokens  *TokenSource
	maxBody int
	onResp  func(string, int, time.Duration)
	ua      string
	logger  *zap.Logger
	now     func() time.Time // time.Now; replaced by tests
}

// NewClient returns a Client for cfg.
func NewClient(cfg Config) *Client {
	c := &Client{
		http:    cfg.HTTPClient,
		base:    strings.TrimRight(cfg.Endpoint, "/"),
		tokens:  cfg.Tokens,
		maxBody: cfg.MaxBodyBytes,
		onResp:  cfg.OnResponse,
		ua:      cfg.UserAgent,
		logger:  cfg.Logger,
		now:     time.Now,
	}
	c.http = withoutRedirects(cfg.HTTPClient)
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	return c
}

// Send POSTs items (each one already-encoded JSON object) to Endpoint+path as JSON arrays and
// returns one ItemResult per item PCM answered for, in order.
//
// Items are split into several POSTs when the body would exceed MaxBodyBytes, and a batch PCM
// answers with 413 is split in halves and resent (recursively). An item larger than
// MaxBodyBytes on its own is sent alone: PCM decides, and a 413 for it is permanent.
//
// Only PCM's word counts. A POST is answered only when PCM's status is 2xx (or 400 with
// per-item results, docs/pcm-rules.md Decision 7) and its body is a JSON array with exactly one
// ReportResponse per item. Any other 2xx body (a proxy's HTML page, an empty or truncated body,
// an array shorter or longer than the request) confirms nothing: Send stops with an
// *[UnconfirmedError], which is retryable, as after a 5xx.
//
// On error, the returned results cover a delivered prefix of items: PCM has answered for
// items[:len(results)] and items[len(results):] were not delivered, so the caller retries
// exactly the rest. After a transport error or an unconfirmed answer PCM may still have
// received the failed POST; without an idempotency key in the PCM API, that batch is the only
// possible duplicate.
//
// Within the results, an item is settled only when [ItemResult.Confirmed]: ACCEPTED, DISCARDED
// or one of PCM's lifecycle statuses (docs/pcm-rules.md Decision 6). An item without a status
// or with a status PCM does not document is unconfirmed: the caller retries it like an
// undelivered one and never counts it as accepted. Such answers are logged as warnings to
// Config.Logger (one line per POST).
func (c *Client) Send(ctx context.Context, path string, items [][]byte) ([]ItemResult, error) {
	if err := checkItems(items); err != nil {
		return nil, err
	}
	results := make([]ItemResult, 0, len(items))
	for start := 0; start < len(items); {
		end := c.chunkEnd(items, start)
		res, err := c.sendSplitting(ctx, path, items[start:end])
		results = append(results, res...)
		if err != nil {
			return results, err
		}
		start = end
	}
	return results, nil
}

// checkItems rejects items that are not JSON objects: a broken item would make PCM refuse every
// report of the batch with 400. It checks the braces only: the items come from
// mapping.AppendJSON, whose output is always valid JSON (fuzzed), and a full json.Valid was a
// third of the exporter's CPU at load.
func checkItems(items [][]byte) error {
	for i, it := range items {
		if !looksLikeObject(it) {
			return notAnObject(i)
		}
	}
	return nil
}

// looksLikeObject: braces around the item, spaces aside.
func looksLikeObject(item []byte) bool {
	trimmed := bytes.TrimSpace(item)
	return len(trimmed) >= 2 && trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}'
}

func notAnObject(i int) error {
	return fmt.Errorf("%w: item %d is not a JSON object", ErrInvalidRequest, i)
}

// chunkEnd returns the end of the largest run of items from start whose array body fits
// maxBody; at least one item.
func (c *Client) chunkEnd(items [][]byte, start int) int {
	size := len("[]") + len(items[start])
	end := start + 1
	for end < len(items) && size+len(",")+len(items[end]) <= c.maxBody {
		size += len(",") + len(items[end])
		end++
	}
	return end
}

// sendSplitting posts items, splitting in halves on 413. The first half is fully answered
// before the second is sent, which keeps the delivered-prefix contract.
func (c *Client) sendSplitting(ctx context.Context, path string, items [][]byte) ([]ItemResult, error) {
	results, err := c.post(ctx, path, items)
	if len(items) < 2 || !tooLarge(err) {
		return results, err
	}
	return c.sendHalves(ctx, path, items)
}

func tooLarge(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusRequestEntityTooLarge
}

// sendHalves sends items PCM refused as too large in two halves, splitting further as needed.
func (c *Client) sendHalves(ctx context.Context, path string, items [][]byte) ([]ItemResult, error) {
	mid := len(items) / 2
	first, err := c.sendSplitting(ctx, path, items[:mid])
	if err != nil {
		return first, err
	}
	second, err := c.sendSplitting(ctx, path, items[mid:])
	return append(first, second...), err
}

// post sends one array; on 401 it refreshes the token and resends once.
func (c *Client) post(ctx context.Context, path string, items [][]byte) ([]ItemResult, error) {
	body := bufferBody(encodeArray(getBuffer(), items))
	defer body.release()
	return c.postBody(ctx, path, body, len(items))
}

// postBody sends one array body of n items; on 401 it refreshes the token and resends once.
func (c *Client) postBody(ctx context.Context, path string, body *sharedBody, n int) ([]ItemResult, error) {
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	results, err := c.attempt(ctx, path, body, token, n)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		return results, err
	}
	c.tokens.invalidate(token)
	if token, err = c.tokens.Token(ctx); err != nil {
		return nil, err
	}
	return c.attempt(ctx, path, body, token, n)
}

// encodeArray joins already-encoded items into a JSON array without re-encoding them.
func encodeArray(body *bytes.Buffer, items [][]byte) *bytes.Buffer {
	n := len("[]") + max(len(items)-1, 0)
	for _, it := range items {
		n += len(it)
	}
	body.Grow(n)
	body.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(it)
	}
	body.WriteByte(']')
	return body
}

// attempt makes one POST and interprets the answer.
func (c *Client) attempt(ctx context.Context, path string, body *sharedBody, token string, n int) ([]ItemResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path), body.reader())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	req.ContentLength = int64(len(body.data))
	req.GetBody = func() (io.ReadCloser, error) { return body.reader(), nil }
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observe(path, 0, time.Since(start))
		return nil, fmt.Errorf("sending PCM reports: %w", err)
	}
	defer drainClose(resp.Body)
	results, err := c.interpret(resp, path, token, n)
	c.observe(path, resp.StatusCode, time.Since(start))
	return results, err
}

func (c *Client) url(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.base + path // path verbatim: PCM's private path keeps its trailing slash
}

func (c *Client) observe(path string, status int, d time.Duration) {
	if c.onResp != nil {
		c.onResp(path, status, d)
	}
}

// interpret maps a response to per-item results, an UnconfirmedError or a StatusError
// (docs/pcm-rules.md §4.3, §4.4).
func (c *Client) interpret(resp *http.Response, path, token string, n int) ([]ItemResult, error) {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		buf, readErr := readBody(resp.Body, maxResultBytes)
		defer putBuffer(buf)
		return c.confirm(buf.Bytes(), readErr, token, n, path, code)
	case code == http.StatusBadRequest:
		// Decision 7: a 400 that carries per-item results is handled like 207.
		buf, readErr := readBody(resp.Body, maxResultBytes)
		defer putBuffer(buf)
		body := buf.Bytes()
		if results, ok := parseResults(body, token); ok && len(results) > 0 {
			return c.confirm(body, readErr, token, n, path, code)
		}
		return nil, c.statusError(resp, body, token)
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDrainBytes))
		return nil, c.statusError(resp, body, token)
	}
}

func (c *Client) statusError(resp *http.Response, body []byte, token string) *StatusError {
	se := &StatusError{StatusCode: resp.StatusCode, Message: errorMessage(body, token)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	if se.Redirect() {
		se.Location = cleanLocation(resp.Header.Get("Location"), token)
	}
	return se
}

// confirm returns PCM's per-item results when body is exactly one ReportResponse per item, and
// an UnconfirmedError otherwise (see Send).
func (c *Client) confirm(body []byte, readErr error, token string, n int, path string, code int) ([]ItemResult, error) {
	unconfirmed := func(reason string) error {
		return &UnconfirmedError{StatusCode: code, Reason: reason, Excerpt: cleanText(string(body), token)}
	}
	if readErr != nil {
		return nil, unconfirmed("the body could not be read: " + cleanText(readErr.Error(), token))
	}
	results, ok := parseResults(body, token)
	switch {
	case !ok && len(bytes.TrimSpace(body)) == 0:
		return nil, unconfirmed("empty body")
	case !ok:
		return nil, unconfirmed("the body is not a JSON array of report results")
	case len(results) != n:
		return nil, unconfirmed(fmt.Sprintf("%d results for %d reports", len(results), n))
	}
	if bad, example := countUnconfirmed(results); bad > 0 {
		c.logger.Warn("PCM answered reports without a documented status; they are unconfirmed, not delivered",
			zap.String("path", path), zap.Int("status", code), zap.Int("reports", n), zap.Int("unconfirmed", bad),
			zap.String("example_status", example))
	}
	return results, nil
}

// countUnconfirmed counts the unconfirmed results and returns the status of the first one.
func countUnconfirmed(results []ItemResult) (n int, example string) {
	for _, r := range results {
		if !r.Confirmed() {
			if n == 0 {
				example = r.Status
			}
			n++
		}
	}
	return n, example
}

// cleanLocation makes a Location header fit for an error text: no userinfo, no token,
// sanitised.
func cleanLocation(loc, token string) string {
	if u, err := url.Parse(strings.TrimSpace(loc)); err == nil && u.User != nil {
		u.User = nil
		loc = u.String()
	}
	return cleanText(loc, token)
}

// drainClose reads what is left of a body (bounded) and closes it, so the connection can be
// reused.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, maxDrainBytes)
	_ = body.Close()
}
