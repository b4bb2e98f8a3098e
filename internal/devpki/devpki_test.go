package devpki

import (
	"crypto/tls"
	"crypto/x509"
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

func TestCASurvivesASaveAndLoad(t *testing.T) {
	ca, err := NewCA("kept CA", time.Hour)
	require.NoError(t, err)
	keyPEM, err := ca.KeyPEM()
	require.NoError(t, err)
	loaded, err := LoadCA(ca.CertPEM, keyPEM)
	require.NoError(t, err)
	leaf, err := loaded.IssueClient("ss", "org")
	require.NoError(t, err)
	cert, err := leaf.TLSCertificate()
	require.NoError(t, err)
	parsed, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	_, err = parsed.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err, "a certificate issued by the loaded CA chains to the original")

	notCA, err := ca.IssueServer("localhost")
	require.NoError(t, err)
	_, err = LoadCA(notCA.CertPEM, notCA.KeyPEM)
	require.ErrorContains(t, err, "not a CA certificate")
}
