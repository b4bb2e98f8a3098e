package pcmapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// getServer is PCM's GET /report-api/v1/private/report/{id}: it checks what every GET must
// carry and lets answer decide the response to the n-th (1-based) request.
type getServer struct {
	t      *testing.T
	tokens *tokenServer
	answer func(w http.ResponseWriter, r *http.Request, n int, token string)

	mu       sync.Mutex
	paths    []string // escaped paths, as sent
	tokensIn []string
}

func (gs *getServer) serve(w http.ResponseWriter, r *http.Request) {
	tok, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case r.Method != http.MethodGet:
		gs.t.Errorf("method %s", r.Method)
	case !isBearer || tok == "":
		gs.t.Errorf("no bearer token")
	case !gs.tokens.valid(tok):
		gs.t.Errorf("bearer token %q was not issued by the token server", tok)
	case r.Header.Get("Accept") != "application/json":
		gs.t.Errorf("accept %q", r.Header.Get("Accept"))
	case r.ContentLength > 0:
		gs.t.Errorf("a GET with a body")
	}
	gs.mu.Lock()
	gs.paths = append(gs.paths, r.URL.EscapedPath())
	gs.tokensIn = append(gs.tokensIn, tok)
	n := len(gs.paths)
	gs.mu.Unlock()
	gs.answer(w, r, n, tok)
}

func (gs *getServer) seen() (paths, tokens []string) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return append([]string(nil), gs.paths...), append([]string(nil), gs.tokensIn...)
}

const fapiID = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01"

// pairedModel is a ReportModel as PCM writes it: state plus the submitted fields.
const pairedModel = `{"reportId":"8b0c5c8e-0f0e-4b7e-9a51-6f1c2d3e4f50","pairedReportId":"9c1d6d9f-1a1f-4c8f-8b62-7a2d3e4f5061",
"status":"PAIRED ","createdAt":"2026-03-10T12:00:00.000Z","updatedAt":"2026-03-10T12:00:01.000Z",
"role":"CLIENT","fapiInteractionId":"0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01","statusCode":200,"processTimespan":120,
"endpoint":"/open-banking/accounts/v2/accounts","additionalInfo":{"consentId":"urn:bank:1"}}`

func TestGetReport(t *testing.T) {
	t.Parallel()
	model := func(body string) func(http.ResponseWriter, *http.Request, int, string) {
		return func(w http.ResponseWriter, _ *http.Request, _ int, _ string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}
	}
	status := func(code int, msg string) func(http.ResponseWriter, *http.Request, int, string) {
		return func(w http.ResponseWriter, _ *http.Request, _ int, _ string) { writeMessage(w, code, msg) }
	}
	tests := []struct {
		name      string
		basePath  string
		id        string
		answer    func(http.ResponseWriter, *http.Request, int, string)
		want      ReportModel
		wantPaths []string
		wantCode  int // StatusError code; 0 = no StatusError
		wantErr   string
		permanent bool
		tokens    int // token requests
	}{
		{
			name: "paired report", basePath: privatePath, id: fapiID, answer: model(pairedModel),
			want: ReportModel{
				ReportID: "8b0c5c8e-0f0e-4b7e-9a51-6f1c2d3e4f50", PairedReportID: "9c1d6d9f-1a1f-4c8f-8b62-7a2d3e4f5061",
				Status: "PAIRED", CreatedAt: "2026-03-10T12:00:00.000Z", UpdatedAt: "2026-03-10T12:00:01.000Z",
				Fields: map[string]any{
					"role": "CLIENT", "fapiInteractionId": fapiID, "statusCode": json.Number("200"),
					"processTimespan": json.Number("120"), "endpoint": "/open-banking/accounts/v2/accounts",
					"additionalInfo": map[string]any{"consentId": "urn:bank:1"},
				},
			},
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "unpaired: null pairedReportId, base path without slash", basePath: "/report-api/v1/private/report", id: fapiID,
			answer:    model(`{"reportId":"r1","pairedReportId":null,"status":"UNPAIRED","createdAt":"c","updatedAt":"u"}`),
			want:      ReportModel{ReportID: "r1", Status: "UNPAIRED", CreatedAt: "c", UpdatedAt: "u", Fields: map[string]any{}},
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "id is path-escaped", basePath: privatePath, id: "a/b c?d",
			answer:    model(`{"reportId":"r1","status":"SINGLE"}`),
			want:      ReportModel{ReportID: "r1", Status: "SINGLE", Fields: map[string]any{}},
			wantPaths: []string{privatePath + "a%2Fb%20c%3Fd"}, tokens: 1,
		},
		{
			name: "404 is a StatusError callers can recognise", basePath: privatePath, id: fapiID,
			answer: status(http.StatusNotFound, "Not Found"), wantCode: http.StatusNotFound,
			wantErr: "PCM answered HTTP 404 Not Found: Not Found", permanent: true,
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "401 then 200: one retry with a new token", basePath: privatePath, id: fapiID,
			answer: func(w http.ResponseWriter, r *http.Request, n int, tok string) {
				if n == 1 {
					writeMessage(w, http.StatusUnauthorized, "Unauthorized")
					return
				}
				model(`{"reportId":"r1","status":"UNPAIRED"}`)(w, r, n, tok)
			},
			want:      ReportModel{ReportID: "r1", Status: "UNPAIRED", Fields: map[string]any{}},
			wantPaths: []string{privatePath + fapiID, privatePath + fapiID}, tokens: 2,
		},
		{
			name: "401 twice: retryable StatusError", basePath: privatePath, id: fapiID,
			answer: status(http.StatusUnauthorized, "Unauthorized"), wantCode: http.StatusUnauthorized,
			wantErr:   "PCM answered HTTP 401 Unauthorized: Unauthorized",
			wantPaths: []string{privatePath + fapiID, privatePath + fapiID}, tokens: 2,
		},
		{
			name: "403 permanent", basePath: privatePath, id: fapiID,
			answer: status(http.StatusForbidden, "Forbidden"), wantCode: http.StatusForbidden,
			wantErr: "PCM answered HTTP 403 Forbidden: Forbidden", permanent: true,
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "429 with Retry-After", basePath: privatePath, id: fapiID,
			answer: func(w http.ResponseWriter, r *http.Request, n int, tok string) {
				w.Header().Set("Retry-After", "3")
				writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
			},
			wantCode: http.StatusTooManyRequests, wantErr: "PCM answered HTTP 429 Too Many Requests: Too Many Requests (retry after 3s)",
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "500 retryable", basePath: privatePath, id: fapiID,
			answer: status(http.StatusInternalServerError, "Internal Server Error"), wantCode: http.StatusInternalServerError,
			wantErr:   "PCM answered HTTP 500 Internal Server Error: Internal Server Error",
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "200 that is not a report model", basePath: privatePath, id: fapiID,
			answer:    model(`<html>maintenance</html>`),
			wantErr:   "PCM answered HTTP 200 with an unreadable report model",
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
		{
			name: "200 with an array", basePath: privatePath, id: fapiID,
			answer:    model(`[{"reportId":"r1"}]`),
			wantErr:   "PCM answered HTTP 200 with an unreadable report model",
			wantPaths: []string{privatePath + fapiID}, tokens: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tokenSrv := newTokenServer(t)
			gs := &getServer{t: t, tokens: tokenSrv, answer: tt.answer}
			srv := startTLS(t, http.HandlerFunc(gs.serve), false)
			c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: srv.URL + "/", Tokens: tokenSrv.source(t, TokenConfig{})})

			got, err := c.GetReport(context.Background(), tt.basePath, tt.id)
			paths, _ := gs.seen()
			assert.Equal(t, tt.wantPaths, paths)
			assert.Equal(t, int32(tt.tokens), tokenSrv.fetches.Load(), "token requests")
			requireNoSecrets(t, tokenSrv, err)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			var se *StatusError
			if tt.wantCode == 0 {
				assert.False(t, errors.As(err, &se), "not a StatusError: %v", err)
				return
			}
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.wantCode, se.StatusCode)
			assert.Equal(t, tt.wantCode == http.StatusNotFound, IsNotFound(err))
			assert.Equal(t, tt.permanent, IsPermanent(err))
		})
	}
}

func TestGetReportRedactsEchoedToken(t *testing.T) {
	t.Parallel()
	tokenSrv := newTokenServer(t)
	gs := &getServer{t: t, tokens: tokenSrv, answer: func(w http.ResponseWriter, r *http.Request, _ int, _ string) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		writeMessage(w, http.StatusBadRequest, "bad request, your token was "+tok)
	}}
	srv := startTLS(t, http.HandlerFunc(gs.serve), false)
	c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: srv.URL, Tokens: tokenSrv.source(t, TokenConfig{})})
	_, err := c.GetReport(context.Background(), privatePath, fapiID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "[REDACTED]")
	requireNoSecrets(t, tokenSrv, err)
}

func TestGetReportInvalidInput(t *testing.T) {
	t.Parallel()
	tokenSrv := newTokenServer(t)
	c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: "https://127.0.0.1:1", Tokens: tokenSrv.source(t, TokenConfig{})})
	_, err := c.GetReport(context.Background(), privatePath, " ")
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Zero(t, tokenSrv.fetches.Load(), "no token for a request that cannot be made")
}

func TestGetReportTransportError(t *testing.T) {
	t.Parallel()
	tokenSrv := newTokenServer(t)
	gs := &getServer{t: t, tokens: tokenSrv, answer: func(http.ResponseWriter, *http.Request, int, string) {}}
	srv := startTLS(t, http.HandlerFunc(gs.serve), false)
	url := srv.URL
	srv.Close() // nothing listens any more
	c := NewClient(Config{HTTPClient: httpClient(t), Endpoint: url, Tokens: tokenSrv.source(t, TokenConfig{})})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.GetReport(ctx, privatePath, fapiID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading PCM report")
	assert.False(t, IsNotFound(err))
	assert.False(t, IsPermanent(err))
}
