package pcmexporter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
)

// redirectTarget is where the redirects of these tests point: a TLS server that records every
// request reaching it and its Authorization header, and answers with body.
type redirectTarget struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newRedirectTarget(t *testing.T, body string) *redirectTarget {
	rt := &redirectTarget{}
	rt.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		rt.auth = append(rt.auth, r.Header.Get("Authorization"))
		rt.mu.Unlock()
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(rt.Close)
	return rt
}

func (rt *redirectTarget) requests() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.auth...)
}

// newRedirector is a TLS server answering every request with code to location.
func newRedirector(t *testing.T, code int, location string) *httptest.Server {
	srv := httptest.NewTLSServer(http.RedirectHandler(location, code))
	t.Cleanup(srv.Close)
	return srv
}

// TestPCMClientsFollowNoRedirect: the report client (POST and GET) and the token client built
// from the configuration follow no redirect; a 3xx names its Location and no request, hence no
// token, reaches the other URL.
func TestPCMClientsFollowNoRedirect(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusFound} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			pcm := newFakePCM(t) // grants real tokens
			target := newRedirectTarget(t, `[{"reportId":"x","status":"ACCEPTED"}]`)
			api := newRedirector(t, code, target.URL+"/report-api/v1/private/report/")
			cfg := pcm.config()
			cfg.ClientConfig.Endpoint = api.URL
			cfg.ClientConfig.TLS.CAFile = ""
			cfg.ClientConfig.TLS.InsecureSkipVerify = true // httptest's own certificate
			clients, err := pcmconfig.NewPCMClients(context.Background(), cfg, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings(), pcmconfig.ClientHooks{})
			require.NoError(t, err)
			t.Cleanup(clients.Close)
			apiHTTP, tokenHTTP := clients.HTTPClients()
			for name, hc := range map[string]*http.Client{"api": apiHTTP, "token": tokenHTTP} {
				require.NotNil(t, hc.CheckRedirect, name)
				assert.ErrorIs(t, hc.CheckRedirect(nil, nil), http.ErrUseLastResponse, name)
			}

			results, err := clients.API.Send(context.Background(), cfg.PrivateReportPath, [][]byte{[]byte(`{"id":"r1"}`)})
			assert.Empty(t, results)
			var se *pcmapi.StatusError
			require.ErrorAs(t, err, &se)
			assert.True(t, se.Redirect())
			assert.Equal(t, target.URL+"/report-api/v1/private/report/", se.Location)
			assert.False(t, pcmapi.IsPermanent(err))

			_, err = clients.API.GetReport(context.Background(), cfg.PrivateReportPath, "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01")
			require.ErrorAs(t, err, &se)
			assert.True(t, se.Redirect())
			assert.Empty(t, target.requests(), "a report request followed the redirect")

			// The token endpoint redirecting: a token error naming the Location.
			cfg = pcm.config()
			cfg.Token.URL = newRedirector(t, code, target.URL+"/token/").URL + "/token/"
			cfg.Token.TLS.CAFile = ""
			cfg.Token.TLS.InsecureSkipVerify = true
			clients, err = pcmconfig.NewPCMClients(context.Background(), cfg, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings(), pcmconfig.ClientHooks{})
			require.NoError(t, err)
			t.Cleanup(clients.Close)
			_, err = clients.Tokens.Token(context.Background())
			require.ErrorIs(t, err, pcmapi.ErrToken)
			assert.Contains(t, err.Error(), target.URL+"/token/")
			assert.Empty(t, target.requests(), "the token request followed the redirect")
		})
	}
}

// TestDirectoryRedirects: the Directory client follows an https→https redirect, but none at
// all when it carries credentials of its own (an Authorization header here), which the
// transport would add to the redirected request too; and never one to http.
func TestDirectoryRedirects(t *testing.T) {
	tests := []struct {
		name       string
		toHTTP     bool
		authHeader bool
		wantOrgs   int
	}{
		{name: "https to https is followed", wantOrgs: 2},
		{name: "not with an Authorization header", authHeader: true},
		{name: "never to http", toHTTP: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newRedirectTarget(t, participants())
			location := target.URL + "/participants"
			if tt.toHTTP {
				plain := httptest.NewServer(target.Config.Handler)
				t.Cleanup(plain.Close)
				location = plain.URL + "/participants"
			}
			dir := newRedirector(t, http.StatusFound, location)
			cfg := newFakePCM(t).config()
			cfg.Counterparts.Hosts = nil
			cfg.Counterparts.Directory.URL = dir.URL + "/participants"
			cfg.Counterparts.Directory.Client.TLS.InsecureSkipVerify = true // httptest's own certificate
			if tt.authHeader {
				cfg.Counterparts.Directory.Client.Headers = configopaque.MapList{{Name: "Authorization", Value: "Bearer directory-secret"}}
			}
			exp, _ := startExporter(t, cfg)
			src := exp.resolver.source.Load()
			require.NotNil(t, src)
			if tt.wantOrgs > 0 {
				assert.Equal(t, tt.wantOrgs, src.Index().Stats().Organisations)
				assert.Equal(t, []string{""}, target.requests(), "one request, without credentials")
				return
			}
			assert.Nil(t, src.Index())
			assert.Empty(t, target.requests(), "the redirect was followed")
		})
	}
}
