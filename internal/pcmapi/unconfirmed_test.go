package pcmapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestSendUnconfirmedAnswer: a 2xx (or a 400 with results) whose body is not exactly one
// ReportResponse per report confirms nothing: Send returns no result and a retryable
// UnconfirmedError, so the caller resends the whole POST as after a 5xx.
func TestSendUnconfirmedAnswer(t *testing.T) {
	t.Parallel()
	raw := func(code int, ctype, body string) func(http.ResponseWriter, *http.Request, apiRequest) {
		return func(w http.ResponseWriter, _ *http.Request, _ apiRequest) {
			if ctype != "" {
				w.Header().Set("Content-Type", ctype)
			}
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
	accepted := func(int, testItem) (string, string) { return StatusAccepted, "" }
	tests := []struct {
		name       string
		handle     func(http.ResponseWriter, *http.Request, apiRequest)
		wantCode   int
		wantReason string
		wantInText string
	}{
		{
			name:       "HTML page from a WAF under 200",
			handle:     raw(200, "text/html", "<html><body><h1>Request blocked</h1>\n<p>Support ID: 1234</p></body></html>"),
			wantCode:   200,
			wantReason: "the body is not a JSON array of report results",
			wantInText: "<h1>Request blocked</h1> <p>Support ID: 1234</p>",
		},
		{name: "empty 200 body", handle: raw(200, "application/json", ""), wantCode: 200, wantReason: "empty body"},
		{name: "empty 204", handle: raw(204, "", ""), wantCode: 204, wantReason: "empty body"},
		{
			name:       "truncated array",
			handle:     raw(200, "application/json", `[{"reportId":"rep-r0","status":"ACCEPTED"},{"reportId":"rep-r1","sta`),
			wantCode:   200,
			wantReason: "the body is not a JSON array of report results",
		},
		{
			name:       "array of non-objects",
			handle:     raw(200, "application/json", `["ACCEPTED","ACCEPTED","ACCEPTED","ACCEPTED"]`),
			wantCode:   200,
			wantReason: "the body is not a JSON array of report results",
		},
		{
			name: "short array",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				writeResults(w, http.StatusOK, req.Items[:2], accepted)
			},
			wantCode:   200,
			wantReason: "2 results for 4 reports",
		},
		{
			name: "long array",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				extra := append(append([]testItem(nil), req.Items...), testItem{ID: "ghost"})
				writeResults(w, http.StatusMultiStatus, extra, accepted)
			},
			wantCode:   207,
			wantReason: "5 results for 4 reports",
		},
		{
			name: "400 with a short array (Decision 7)",
			handle: func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
				writeResults(w, http.StatusBadRequest, req.Items[:1], func(int, testItem) (string, string) { return StatusDiscarded, "x" })
			},
			wantCode:   400,
			wantReason: "1 results for 4 reports",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.handle)
			results, err := f.client.Send(context.Background(), privatePath, makeItems(4))
			require.Error(t, err)
			assert.Empty(t, results, "nothing is confirmed")
			var ue *UnconfirmedError
			require.ErrorAs(t, err, &ue)
			assert.True(t, IsUnconfirmed(err))
			assert.False(t, IsPermanent(err), "retried like a 5xx")
			assert.Equal(t, tt.wantCode, ue.StatusCode)
			assert.Equal(t, tt.wantReason, ue.Reason)
			assert.LessOrEqual(t, len([]rune(ue.Excerpt)), maxMessageRunes)
			assert.Contains(t, err.Error(), tt.wantInText)
			assert.NotContains(t, err.Error(), "\n")
			requireNoSecrets(t, f.tokenSrv, err)
			assert.Len(t, f.api.received(), 1, "Send itself does not resend")
		})
	}
}

// TestSendItemStatuses: in a well-formed answer, each item stands on its own status: PCM's
// documented statuses (trimmed) confirm it, a missing or undocumented one does not.
func TestSendItemStatuses(t *testing.T) {
	t.Parallel()
	statuses := []string{"ACCEPTED", "DISCARDED", "PAIRED ", " SINGLE", "UNPAIRED", "PAIRED_INCONSISTENT", "", "FOO", "accepted", "null"}
	f := newFixture(t, func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultiStatus)
		parts := make([]string, len(req.Items))
		for i, it := range req.Items {
			switch statuses[i] {
			case "":
				parts[i] = `{"reportId":"` + reportID(it) + `"}` // no status at all
			case "null":
				parts[i] = `{"reportId":"` + reportID(it) + `","status":null}`
			default:
				parts[i] = `{"reportId":"` + reportID(it) + `","status":"` + statuses[i] + `"}`
			}
		}
		_, _ = io.WriteString(w, "["+strings.Join(parts, ",")+"]")
	})
	core, logs := observer.New(zapcore.WarnLevel)
	f.client.logger = zap.New(core)

	results, err := f.client.Send(context.Background(), privatePath, makeItems(len(statuses)))
	require.NoError(t, err)
	require.Len(t, results, len(statuses))
	want := []struct {
		status              string
		confirmed, accepted bool
	}{
		{"ACCEPTED", true, true}, {"DISCARDED", true, false}, {"PAIRED", true, true}, {"SINGLE", true, true},
		{"UNPAIRED", true, true}, {"PAIRED_INCONSISTENT", true, true},
		{"", false, false}, {"FOO", false, false}, {"accepted", false, false}, {"", false, false},
	}
	for i, w := range want {
		assert.Equal(t, w.status, results[i].Status, "item %d", i)
		assert.Equal(t, w.confirmed, results[i].Confirmed(), "item %d (%q)", i, statuses[i])
		assert.Equal(t, w.accepted, results[i].Accepted(), "item %d (%q)", i, statuses[i])
	}
	require.Equal(t, 1, logs.Len())
	assert.EqualValues(t, 4, logs.All()[0].ContextMap()["unconfirmed"])
	assert.Equal(t, "", logs.All()[0].ContextMap()["example_status"], "the first unconfirmed item has no status")
}

// TestSendUnconfirmedSecondPOST: when the second POST of a Send is not confirmed, the first
// stays delivered and the caller resends exactly the rest.
func TestSendUnconfirmedSecondPOST(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, r *http.Request, req apiRequest) {
		if req.N == 2 {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>maintenance</html>") // 200
			return
		}
		acceptAll(w, r, req)
	}, func(c *Config) { c.MaxBodyBytes = 70 }) // two 30-byte items per POST
	items := makeItems(6)

	results, err := f.client.Send(context.Background(), privatePath, items)
	require.Error(t, err)
	assert.True(t, IsUnconfirmed(err))
	assert.False(t, IsPermanent(err))
	require.Len(t, results, 2, "the first POST stays delivered")
	assert.Equal(t, "rep-r1", results[1].ReportID)
	assert.Len(t, f.api.received(), 2, "Send stops at the unconfirmed POST")

	rest, err := f.client.Send(context.Background(), privatePath, items[len(results):])
	require.NoError(t, err)
	require.Len(t, rest, 4)
	assert.Equal(t, "rep-r2", rest[0].ReportID)
}
