package pcmapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type errKind int

const (
	noError errKind = iota
	permanent
	retryable
)

// TestSendStatuses walks PCM's status table (docs/pcm-rules.md §4.4) with three reports.
func TestSendStatuses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	statusOnly := func(code int, msg string, header ...string) func(http.ResponseWriter, *http.Request, apiRequest) {
		return func(w http.ResponseWriter, _ *http.Request, _ apiRequest) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			writeMessage(w, code, msg)
		}
	}
	tests := []struct {
		name           string
		handle         func(http.ResponseWriter, *http.Request, apiRequest)
		wantStatuses   []string
		wantMessages   []string
		wantErr        errKind
		wantCode       int
		wantMsg        string
		wantRetryAfter time.Duration
	}{
		{
			name:         "200 all accepted",
			handle:       acceptAll,
			wantStatuses: []string{"ACCEPTED", "ACCEPTED", "ACCEPTED"},
			wantMessages: []string{"", "", ""},
		},
		{
			name: "207 mixed, messages kept in order",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				writeResults(w, http.StatusMultiStatus, req.Items, func(i int, it testItem) (string, string) {
					if i == 1 {
						return StatusAccepted, ""
					}
					return StatusDiscarded, "Missing property: fapiInteractionId " + it.ID
				})
			},
			wantStatuses: []string{"DISCARDED", "ACCEPTED", "DISCARDED"},
			wantMessages: []string{"Missing property: fapiInteractionId r0", "", "Missing property: fapiInteractionId r2"},
		},
		{
			name: "207 all discarded",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				writeResults(w, http.StatusMultiStatus, req.Items, func(int, testItem) (string, string) {
					return StatusDiscarded, "Report is too old"
				})
			},
			wantStatuses: []string{"DISCARDED", "DISCARDED", "DISCARDED"},
			wantMessages: []string{"Report is too old", "Report is too old", "Report is too old"},
		},
		{
			name: "400 with per-item array is handled like 207",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				writeResults(w, http.StatusBadRequest, req.Items, func(i int, _ testItem) (string, string) {
					if i == 0 {
						return StatusDiscarded, "Invalid field value: httpMethod"
					}
					return StatusAccepted, ""
				})
			},
			wantStatuses: []string{"DISCARDED", "ACCEPTED", "ACCEPTED"},
			wantMessages: []string{"Invalid field value: httpMethod", "", ""},
		},
		{
			// docs/pcm-rules.md Decision 6: lifecycle statuses are accepted, trimmed; a value PCM
			// does not document confirms nothing.
			name: "lifecycle statuses accepted, trimmed; unknown ones unconfirmed",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				writeResults(w, http.StatusMultiStatus, req.Items, func(i int, _ testItem) (string, string) {
					return []string{"PAIRED ", " SINGLE", "SOMETHING_NEW"}[i], ""
				})
			},
			wantStatuses: []string{"PAIRED", "SINGLE", "SOMETHING_NEW"},
			wantMessages: []string{"", "", ""},
		},
		{name: "400 plain", handle: statusOnly(400, "Invalid payload format: MUST be an array"), wantErr: permanent, wantCode: 400, wantMsg: "Invalid payload format: MUST be an array"},
		{name: "400 empty array", handle: func(w http.ResponseWriter, _ *http.Request, _ apiRequest) { writeJSON(w, 400, []result{}) }, wantErr: permanent, wantCode: 400},
		{name: "403", handle: statusOnly(403, "Forbidden"), wantErr: permanent, wantCode: 403, wantMsg: "Forbidden"},
		{name: "404", handle: statusOnly(404, "Not Found"), wantErr: permanent, wantCode: 404},
		{name: "406", handle: statusOnly(406, "Content type not accepted"), wantErr: permanent, wantCode: 406},
		{name: "415", handle: statusOnly(415, "Unsupported Media Type"), wantErr: permanent, wantCode: 415},
		{name: "422 other 4xx", handle: statusOnly(422, "nope"), wantErr: permanent, wantCode: 422},
		{name: "408", handle: statusOnly(408, "Request Timeout"), wantErr: retryable, wantCode: 408},
		{name: "500", handle: statusOnly(500, "Internal Server Error"), wantErr: retryable, wantCode: 500, wantMsg: "Internal Server Error"},
		{name: "502", handle: statusOnly(502, "Bad Gateway"), wantErr: retryable, wantCode: 502},
		{name: "429 Retry-After seconds", handle: statusOnly(429, "Too Many Requests", "Retry-After", "7"), wantErr: retryable, wantCode: 429, wantRetryAfter: 7 * time.Second},
		{name: "429 Retry-After HTTP date", handle: statusOnly(429, "Too Many Requests", "Retry-After", now.Add(30*time.Second).Format(http.TimeFormat)), wantErr: retryable, wantCode: 429, wantRetryAfter: 30 * time.Second},
		{name: "429 Retry-After in the past", handle: statusOnly(429, "Too Many Requests", "Retry-After", now.Add(-time.Minute).Format(http.TimeFormat)), wantErr: retryable, wantCode: 429},
		{name: "429 without Retry-After", handle: statusOnly(429, "Too Many Requests"), wantErr: retryable, wantCode: 429},
		{name: "503 Retry-After", handle: statusOnly(503, "Service Unavailable", "Retry-After", "120"), wantErr: retryable, wantCode: 503, wantRetryAfter: 2 * time.Minute},
		{name: "503 without Retry-After", handle: statusOnly(503, "Service Unavailable"), wantErr: retryable, wantCode: 503},
		{name: "500 Retry-After is ignored", handle: statusOnly(500, "x", "Retry-After", "60"), wantErr: retryable, wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.handle)
			f.client.now = func() time.Time { return now }
			items := makeItems(3)

			results, err := f.client.Send(context.Background(), privatePath, items)
			requireNoSecrets(t, f.tokenSrv, err)
			reqs := f.api.received()
			require.Len(t, reqs, 1, "no status of this table may cause a resend")

			if tt.wantErr == noError {
				require.NoError(t, err)
				require.Len(t, results, len(items))
				for i, r := range results {
					assert.Equal(t, tt.wantStatuses[i], r.Status, "item %d", i)
					assert.Equal(t, tt.wantMessages[i], r.Message, "item %d", i)
					assert.Equal(t, fmt.Sprintf("rep-r%d", i), r.ReportID)
					assert.Equal(t, fmt.Sprintf("c%d", i), r.CorrelationID)
					assert.Equal(t, tt.wantStatuses[i] == StatusDiscarded, r.Discarded())
					assert.Equal(t, tt.wantStatuses[i] != "SOMETHING_NEW", r.Confirmed(), "item %d", i)
				}
				return
			}
			require.Error(t, err)
			assert.Empty(t, results, "nothing was delivered")
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.wantCode, se.StatusCode)
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, se.Message)
			}
			assert.Equal(t, tt.wantErr == permanent, IsPermanent(err))
			ra, ok := RetryAfter(err)
			assert.Equal(t, tt.wantRetryAfter, ra)
			assert.Equal(t, tt.wantRetryAfter > 0, ok)
		})
	}
}

// TestSendReusesToken: one token serves many Sends.
func TestSendReusesToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for range 25 {
		_, err := f.client.Send(context.Background(), privatePath, makeItems(2))
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, f.tokenSrv.fetches.Load())
	reqs := f.api.received()
	require.Len(t, reqs, 25)
	for _, r := range reqs {
		assert.Equal(t, reqs[0].Token, r.Token)
	}
}

// TestSend401 covers the refresh-and-resend-once rule.
func TestSend401(t *testing.T) {
	t.Parallel()
	t.Run("new token, one resend, success", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(w http.ResponseWriter, r *http.Request, req apiRequest) {
			if req.N == 1 {
				writeMessage(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			acceptAll(w, r, req)
		})
		results, err := f.client.Send(context.Background(), privatePath, makeItems(3))
		require.NoError(t, err)
		require.Len(t, results, 3)

		reqs := f.api.received()
		require.Len(t, reqs, 2)
		assert.NotEqual(t, reqs[0].Token, reqs[1].Token, "the resend must carry a new token")
		assert.Equal(t, reqs[0].Body, reqs[1].Body)
		assert.EqualValues(t, 2, f.tokenSrv.fetches.Load())

		responses, outcomes := f.observed()
		require.Len(t, responses, 2)
		assert.Equal(t, http.StatusUnauthorized, responses[0].status)
		assert.Equal(t, http.StatusOK, responses[1].status)
		for _, r := range responses {
			assert.Equal(t, privatePath, r.path)
			assert.Positive(t, r.d)
		}
		assert.Equal(t, []string{OutcomeSuccess, OutcomeSuccess}, outcomes)
		assert.Equal(t, []string{"/token/", "/token/"}, paths(f.tokenSrv), "no FreshURL configured")
	})
	t.Run("with FreshURL the refresh goes to /token-fresh/", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(w http.ResponseWriter, r *http.Request, req apiRequest) {
			if req.N == 1 {
				writeMessage(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			acceptAll(w, r, req)
		})
		f.tokens.cfg.FreshURL = f.tokenSrv.URL + "/token-fresh/"
		_, err := f.client.Send(context.Background(), privatePath, makeItems(1))
		require.NoError(t, err)
		assert.Equal(t, []string{"/token/", "/token-fresh/"}, paths(f.tokenSrv))
	})
	t.Run("401 twice is retryable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(w http.ResponseWriter, _ *http.Request, _ apiRequest) {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
		})
		results, err := f.client.Send(context.Background(), privatePath, makeItems(3))
		require.Error(t, err)
		assert.Empty(t, results)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusUnauthorized, se.StatusCode)
		assert.False(t, IsPermanent(err))
		assert.Len(t, f.api.received(), 2, "exactly one resend")
		assert.EqualValues(t, 2, f.tokenSrv.fetches.Load())
		requireNoSecrets(t, f.tokenSrv, err)
	})
}

// TestSend413Splits: a server that takes at most 3 items per POST gets every item exactly
// once, and the results come back in request order.
func TestSend413Splits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, refusingMoreThan(3))
	items := makeItems(10)
	results, err := f.client.Send(context.Background(), privatePath, items)
	require.NoError(t, err)
	require.Len(t, results, len(items))
	for i, r := range results {
		assert.Equal(t, fmt.Sprintf("rep-r%d", i), r.ReportID)
	}
	reqs := f.api.received()
	assert.Equal(t, idRange(0, 10), idsDelivered(reqs), "every item delivered exactly once, in order")
	for _, r := range reqs {
		if len(r.Items) > 3 {
			assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
		}
	}
}

// TestSend413SingleItem: an item PCM refuses as too large on its own is permanent, and the
// results cover the items delivered before it.
func TestSend413SingleItem(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request, req apiRequest) {
		if req.has("r3") {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Record limit exceeded")
			return
		}
		acceptAll(w, r, req)
	})
	results, err := f.client.Send(context.Background(), privatePath, makeItems(6))
	require.Error(t, err)
	assert.True(t, IsPermanent(err))
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusRequestEntityTooLarge, se.StatusCode)
	require.Len(t, results, 3)
	assert.Equal(t, idRange(0, 3), idsDelivered(f.api.received()))
}

// TestSendMaxBodyBytes: no POST body exceeds MaxBodyBytes, except an item too large on its own,
// which goes alone.
func TestSendMaxBodyBytes(t *testing.T) {
	t.Parallel()
	const maxBody = 100
	f := newFixture(t, nil, func(c *Config) { c.MaxBodyBytes = maxBody })
	items := makeItems(9) // 30 bytes each: 3 per POST
	huge := []byte(fmt.Sprintf(`{"id":"r9","correlationId":"c9","pad":"%s"}`, strings.Repeat("x", 150)))
	items = append(items, huge)
	results, err := f.client.Send(context.Background(), privatePath, items)
	require.NoError(t, err)
	require.Len(t, results, 10)

	reqs := f.api.received()
	require.Len(t, reqs, 4)
	for _, r := range reqs[:3] {
		assert.LessOrEqual(t, len(r.Body), maxBody)
		assert.Len(t, r.Items, 3)
	}
	assert.Equal(t, "["+string(huge)+"]", string(reqs[3].Body), "items go out byte for byte")
	assert.Equal(t, idRange(0, 10), idsDelivered(reqs))
}

// TestSendDeliveredPrefix: a failure in the middle of a multi-POST Send returns results for
// exactly the items delivered before it; retrying the rest delivers each item once.
func TestSendDeliveredPrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request, req apiRequest) {
		if req.N == 2 {
			writeMessage(w, http.StatusBadGateway, "Bad Gateway")
			return
		}
		acceptAll(w, r, req)
	}, func(c *Config) { c.MaxBodyBytes = 70 }) // two 30-byte items per POST
	items := makeItems(6)

	results, err := f.client.Send(context.Background(), privatePath, items)
	require.Error(t, err)
	assert.False(t, IsPermanent(err))
	require.Len(t, results, 2)
	assert.Len(t, f.api.received(), 2, "Send stops at the first failure")

	rest, err := f.client.Send(context.Background(), privatePath, items[len(results):])
	require.NoError(t, err)
	require.Len(t, rest, 4)
	assert.Equal(t, "rep-r2", rest[0].ReportID)

	assert.Equal(t, idRange(0, 6), idsDelivered(f.api.received()), "each item delivered once")
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	f := newFixture(t, nil, func(c *Config) { c.Endpoint = "https://" + addr })
	results, err := f.client.Send(context.Background(), privatePath, makeItems(2))
	require.Error(t, err)
	assert.Empty(t, results)
	assert.False(t, IsPermanent(err))
	assert.NotErrorIs(t, err, ErrToken)
	var se *StatusError
	assert.False(t, errors.As(err, &se))
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
	requireNoSecrets(t, f.tokenSrv, err)

	responses, _ := f.observed()
	require.Len(t, responses, 1)
	assert.Equal(t, 0, responses[0].status)
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(_ http.ResponseWriter, r *http.Request, _ apiRequest) {
		<-r.Context().Done()
		panic(http.ErrAbortHandler) // never answer: an implicit 200 could still reach the client
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	results, err := f.client.Send(ctx, privatePath, makeItems(2))
	require.Error(t, err)
	assert.Empty(t, results)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, IsPermanent(err))
}

// TestSendTokenFailure: without a token nothing is posted, and the error is a retryable token
// error.
func TestSendTokenFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.tokenSrv.respond = func(*http.Request, int) (int, string, string) {
		return 200, "application/json", `{"statusCode":401,"message":"ClientId is not valid to the orgId"}`
	}
	results, err := f.client.Send(context.Background(), privatePath, makeItems(2))
	require.Error(t, err)
	assert.Empty(t, results)
	assert.ErrorIs(t, err, ErrToken)
	assert.Contains(t, err.Error(), "ClientId is not valid to the orgId")
	assert.False(t, IsPermanent(err))
	assert.Empty(t, f.api.received())
	_, outcomes := f.observed()
	assert.Equal(t, []string{OutcomeFailure}, outcomes)
}

func TestSendInvalidItems(t *testing.T) {
	t.Parallel()
	for name, item := range map[string]string{
		"empty":     "",
		"array":     `[{"id":"r1"}]`,
		"not JSON":  `id=r1`,
		"truncated": `{"id":"r1"`,
		"string":    `"r1"`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			items := append(makeItems(2), []byte(item))
			results, err := f.client.Send(context.Background(), privatePath, items)
			require.ErrorIs(t, err, ErrInvalidRequest)
			assert.Contains(t, err.Error(), "item 2")
			assert.True(t, IsPermanent(err))
			assert.Empty(t, results)
			assert.Empty(t, f.api.received())
		})
	}
}

// TestSendRequestShape: path verbatim (trailing slash kept), endpoint slash trimmed, headers.
func TestSendRequestShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, func(c *Config) {
		c.Endpoint += "/"
		c.UserAgent = "otelcol-test/1.2.3 pcmexporter"
	})
	for _, path := range []string{privatePath, "/report-api/v1/opendata/report"} {
		_, err := f.client.Send(context.Background(), path, makeItems(1))
		require.NoError(t, err)
	}
	reqs := f.api.received()
	require.Len(t, reqs, 2)
	assert.Equal(t, privatePath, reqs[0].Path)
	assert.Equal(t, "/report-api/v1/opendata/report", reqs[1].Path)
	assert.Equal(t, "otelcol-test/1.2.3 pcmexporter", reqs[0].UA)
	assert.Equal(t, `[{"id":"r0","correlationId":"c0"}]`, string(reqs[0].Body))

	results, err := f.client.Send(context.Background(), privatePath, nil)
	require.NoError(t, err)
	assert.Empty(t, results)
	assert.Len(t, f.api.received(), 2, "nothing to send, no POST")
}

// TestNoTokenInErrors: a server that echoes the Authorization header back must not get the
// token into an error or a result message.
func TestNoTokenInErrors(t *testing.T) {
	t.Parallel()
	echo := func(code int) func(http.ResponseWriter, *http.Request, apiRequest) {
		return func(w http.ResponseWriter, r *http.Request, req apiRequest) {
			if code == http.StatusMultiStatus {
				writeResults(w, code, req.Items, func(int, testItem) (string, string) {
					return StatusDiscarded, "bad request from " + r.Header.Get("Authorization")
				})
				return
			}
			w.WriteHeader(code)
			_, _ = fmt.Fprintf(w, "<html>debug: Authorization: %s</html>", r.Header.Get("Authorization"))
		}
	}
	for _, code := range []int{400, 403, 500, 207} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, echo(code))
			results, err := f.client.Send(context.Background(), privatePath, makeItems(1))
			if code == http.StatusMultiStatus {
				require.NoError(t, err)
				require.Len(t, results, 1)
				err = errors.New(results[0].Message) // check the message like an error text
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "[REDACTED]")
			for _, tok := range f.tokenSrv.allIssued() {
				assert.NotContains(t, err.Error(), tok)
			}
		})
	}
}

func idRange(from, to int) []string {
	ids := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf("r%d", i))
	}
	return ids
}
