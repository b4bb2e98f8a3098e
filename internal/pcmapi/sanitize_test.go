package pcmapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostile is a message no log, dead letter or terminal should get verbatim: ANSI escapes (clear
// screen, colour), newlines that would forge log lines, a bidirectional override, invalid UTF-8
// and 5,000 characters.
var hostile = "Invalid field value: \x1b[2J\x1b[31mendpoint\x1b[0m\r\nlevel=error msg=forged\u202e\xff\xfe" + strings.Repeat("x", 5000)

// requireSafeText fails unless s is valid UTF-8 without control or format characters and at
// most limit runes.
func requireSafeText(t *testing.T, s string, limit int, what string) {
	t.Helper()
	require.True(t, utf8.ValidString(s), "%s: invalid UTF-8", what)
	assert.LessOrEqual(t, utf8.RuneCountInString(s), limit, what)
	for _, r := range s {
		require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r), "%s: character %U", what, r)
	}
}

// TestItemResultTextsSanitised: PCM's per-item texts are cut and cleaned before anyone sees them.
func TestItemResultTextsSanitised(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(w http.ResponseWriter, _ *http.Request, req apiRequest) {
		out := make([]map[string]string, len(req.Items))
		for i := range out {
			out[i] = map[string]string{"reportId": hostile, "status": "DISCARDED", "correlationId": hostile, "message": hostile}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultiStatus)
		body, _ := json.Marshal(out)
		// json.Marshal made the invalid UTF-8 valid (U+FFFD); put the raw bytes back.
		_, _ = w.Write([]byte(strings.ReplaceAll(string(body), `\ufffd\ufffd`, "\xff\xfe")))
	})
	results, err := f.client.Send(context.Background(), privatePath, makeItems(2))
	require.NoError(t, err)
	require.Len(t, results, 2)
	for _, r := range results {
		requireSafeText(t, r.Message, maxMessageRunes, "message")
		requireSafeText(t, r.ReportID, maxMessageRunes, "reportId")
		requireSafeText(t, r.CorrelationID, maxMessageRunes, "correlationId")
		assert.True(t, strings.HasPrefix(r.Message, "Invalid field value: [2J [31mendpoint [0m level=error msg=forged"), r.Message)
		assert.True(t, strings.HasSuffix(r.Message, "…"))
		assert.True(t, r.Discarded())
	}
}

// TestStatusAndUnconfirmedTextsSanitised: the texts of a StatusError and an UnconfirmedError
// are cut and cleaned too.
func TestStatusAndUnconfirmedTextsSanitised(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusOK, http.StatusInternalServerError} {
		f := newFixture(t, func(w http.ResponseWriter, _ *http.Request, _ apiRequest) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, hostile)
		})
		_, err := f.client.Send(context.Background(), privatePath, makeItems(1))
		require.Error(t, err)
		requireSafeText(t, err.Error(), 2*maxMessageRunes, "error")
	}
}

// TestGetReportSanitised: what GET returns (pcmctl status prints it) holds no control
// characters, keys included.
func TestGetReportSanitised(t *testing.T) {
	t.Parallel()
	model := map[string]any{
		"reportId": hostile, "pairedReportId": hostile, "status": "PAIRED\x1b[31m", "createdAt": hostile, "updatedAt": hostile,
		"endpoint":       hostile,
		"additionalInfo": map[string]any{"consentId\x1b[2J": hostile, "list": []any{hostile, 1}},
		"key\nforged":    "v",
	}
	tokenSrv := newTokenServer(t)
	gs := &getServer{t: t, tokens: tokenSrv, answer: func(w http.ResponseWriter, _ *http.Request, _ int, _ string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(model)
	}}
	srv := startTLS(t, http.HandlerFunc(gs.serve), false)
	c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: srv.URL, Tokens: tokenSrv.source(t, TokenConfig{})})
	m, err := c.GetReport(context.Background(), privatePath, fapiID)
	require.NoError(t, err)

	for what, s := range map[string]string{"reportId": m.ReportID, "pairedReportId": m.PairedReportID, "status": m.Status, "createdAt": m.CreatedAt, "updatedAt": m.UpdatedAt} {
		requireSafeText(t, s, maxMessageRunes, what)
	}
	assert.Equal(t, "PAIRED [31m", m.Status)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case string:
			requireSafeText(t, v, maxFieldRunes, path)
		case map[string]any:
			for k, e := range v {
				requireSafeText(t, k, maxMessageRunes, path+" key")
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("fields", m.Fields)
	assert.Contains(t, m.Fields, "key forged")
	assert.Contains(t, m.Fields["additionalInfo"], "consentId [2J")
}
