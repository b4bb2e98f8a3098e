package pcmapi

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenErrorKinds: every failed token request is a *TokenError whose Kind (a bounded
// metric label) and StatusCode tell the cause by type, not by message text.
func TestTokenErrorKinds(t *testing.T) {
	t.Parallel()
	respond := func(code int, ctype, body string) func(*http.Request, int) (int, string, string) {
		return func(*http.Request, int) (int, string, string) { return code, ctype, body }
	}
	tests := []struct {
		name     string
		respond  func(*http.Request, int) (int, string, string)
		noCert   bool
		refused  bool
		timeout  bool
		canceled bool
		kind     string
		status   int
	}{
		{name: "500", respond: respond(500, "application/json", `{"message":"Internal server error"}`), kind: TokenKindHTTP, status: 500},
		{name: "400 invalid_client", respond: respond(400, "application/json", `{"error":"invalid_client"}`), kind: TokenKindHTTP, status: 400},
		{name: "200 error under 200", respond: respond(200, "application/json", `{"statusCode":401,"message":"ClientId is not valid to the orgId"}`), kind: TokenKindAnswer, status: 200},
		{name: "200 without expires_in", respond: respond(200, "application/json", `{"access_token":"abc"}`), kind: TokenKindAnswer, status: 200},
		{name: "no client certificate", noCert: true, kind: TokenKindCertificate},
		{name: "connection refused", refused: true, kind: TokenKindUnreachable},
		{name: "client timeout", timeout: true, kind: TokenKindTimeout},
		{name: "caller canceled", canceled: true, kind: TokenKindCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t)
			ts.respond = tt.respond
			cfg := TokenConfig{}
			switch {
			case tt.noCert:
				cfg.HTTPClient = httpClient(t)
			case tt.timeout:
				cfg.HTTPClient = httpClient(t, pki(t).client)
				cfg.HTTPClient.Timeout = 100 * time.Millisecond
				ts.respond = func(r *http.Request, _ int) (int, string, string) {
					<-r.Context().Done()
					panic(http.ErrAbortHandler)
				}
			}
			src := ts.source(t, cfg)
			if tt.refused {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				src.cfg.URL = "https://" + l.Addr().String() + "/token/"
				require.NoError(t, l.Close())
			}
			ctx := context.Background()
			if tt.canceled {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			_, err := src.Token(ctx)
			var te *TokenError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, ErrToken)
			assert.Equal(t, tt.kind, te.Kind, err.Error())
			assert.Equal(t, tt.status, te.StatusCode)
			assert.False(t, IsPermanent(err))
		})
	}
}
