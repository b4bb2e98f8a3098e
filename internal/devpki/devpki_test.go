package devpki

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMutualTLS proves the issued certificates work for a real handshake in which the server
// requires and verifies a client certificate, and that the OU carries the organisation id.
func TestMutualTLS(t *testing.T) {
	ca, err := NewCA("test CA", time.Hour)
	require.NoError(t, err)
	server, err := ca.IssueServer("127.0.0.1", "localhost")
	require.NoError(t, err)
	client, err := ca.IssueClient("ss-1", "org-1")
	require.NoError(t, err)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.OrganizationalUnit[0])
	}))
	serverCert, err := server.TLSCertificate()
	require.NoError(t, err)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
	srv.StartTLS()
	defer srv.Close()

	clientCert, err := client.TLSCertificate()
	require.NoError(t, err)
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{clientCert}}}}
	resp, err := withCert.Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, "org-1", string(body))

	withoutCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	_, err = withoutCert.Get(srv.URL)
	require.Error(t, err, "a server requiring client certificates must refuse a client without one")
}
