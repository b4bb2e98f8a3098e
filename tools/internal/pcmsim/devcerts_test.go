package pcmsim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/devpki"
)

func TestParseOrgs(t *testing.T) {
	orgs, err := ParseOrgs("bank_a=" + orgA + ":" + ssA + ":client-a, bank_b=" + orgB + ",bank_c=" + orgC + ":" + ssB)
	require.NoError(t, err)
	assert.Equal(t, []Org{
		{Name: "bank_a", OrgID: orgA, SoftwareStatementID: ssA, ClientID: "client-a"},
		{Name: "bank_b", OrgID: orgB},
		{Name: "bank_c", OrgID: orgC, SoftwareStatementID: ssB},
	}, orgs)
	for _, bad := range []string{"", "bank_a", "bank_a=nope", "bank_a=" + orgA + ":nope", "ca=" + orgA, "a/b=" + orgA} {
		_, err := ParseOrgs(bad)
		assert.Error(t, err, bad)
	}
	d := Org{Name: "bank_b", OrgID: orgB}.withDefaults()
	assert.True(t, isUUID(d.SoftwareStatementID))
	assert.Equal(t, d.SoftwareStatementID, d.ClientID)
	assert.Equal(t, d, Org{Name: "bank_b", OrgID: orgB}.withDefaults(), "defaults are stable")
}

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestDevCertsFilesWorkForAHandshake(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	orgs, err := ParseOrgs("bank_a=" + orgA + ":" + ssA + ":client-a,bank_b=" + orgB)
	require.NoError(t, err)
	res, err := GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: orgs, Hosts: []string{"pcmsim"}})
	require.NoError(t, err)
	for _, f := range []string{"ca.crt", "ca.key", "server.crt", "server.key", "bank_a.crt", "bank_a.key", "bank_b.crt", "bank_b.key", "directory.json"} {
		assert.Contains(t, res.Created, filepath.Join(dir, f))
	}
	for _, f := range []string{"ca.key", "server.key", "bank_a.key", "bank_b.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	d, err := LoadDirectory(filepath.Join(dir, DirectoryFile))
	require.NoError(t, err)
	require.Len(t, d.Orgs, 2)
	assert.Equal(t, Org{Name: "bank_a", OrgID: orgA, SoftwareStatementID: ssA, ClientID: "client-a", CertFile: "bank_a.crt", KeyFile: "bank_a.key"}, d.Orgs[0])
	assert.Equal(t, d.Orgs[1].SoftwareStatementID, d.Orgs[1].ClientID)

	clientPair, err := tls.LoadX509KeyPair(filepath.Join(dir, "bank_a.crt"), filepath.Join(dir, "bank_a.key"))
	require.NoError(t, err)
	assert.Equal(t, orgA, clientPair.Leaf.Subject.OrganizationalUnit[0])
	assert.Equal(t, ssA, clientPair.Leaf.Subject.CommonName)
	server, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	require.NoError(t, err)
	assert.NoError(t, server.Leaf.VerifyHostname("pcmsim"))
	assert.NoError(t, server.Leaf.VerifyHostname("::1"))

	cert, pool, err := LoadServerTLS(dir)
	require.NoError(t, err)
	srv, err := New(Config{ServerCertificate: cert, ClientCAs: pool, Directory: d})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	defer func() { require.NoError(t, srv.Shutdown(context.Background())) }()

	roots, err := LoadCertPool(filepath.Join(dir, CACertFile))
	require.NoError(t, err)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientPair}}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).PostForm(srv.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-a"}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestDevCertsIdempotent(t *testing.T) {
	dir := t.TempDir()
	orgs, err := ParseOrgs("bank_a=" + orgA + ",bank_b=" + orgB)
	require.NoError(t, err)
	_, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: orgs})
	require.NoError(t, err)
	before := map[string]string{}
	for _, f := range []string{"ca.crt", "ca.key", "server.crt", "bank_a.crt", "bank_b.key", "directory.json"} {
		before[f] = readFile(t, filepath.Join(dir, f))
	}

	res, err := GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: orgs[:1]})
	require.NoError(t, err)
	assert.Empty(t, res.Created)
	assert.Contains(t, res.Kept, filepath.Join(dir, DirectoryFile))
	for f, content := range before {
		assert.Equal(t, content, readFile(t, filepath.Join(dir, f)), f)
	}

	// A new org adds files; the rest is kept.
	more, err := ParseOrgs("bank_c=" + orgC + ":" + ssB + ":client-c")
	require.NoError(t, err)
	res, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: more})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{filepath.Join(dir, "bank_c.crt"), filepath.Join(dir, "bank_c.key"), filepath.Join(dir, DirectoryFile)}, res.Created)
	assert.Equal(t, before["ca.crt"], readFile(t, filepath.Join(dir, "ca.crt")))
	require.Len(t, res.Directory.Orgs, 3)
	roots, err := LoadCertPool(filepath.Join(dir, CACertFile))
	require.NoError(t, err)
	c, err := tls.LoadX509KeyPair(filepath.Join(dir, "bank_c.crt"), filepath.Join(dir, "bank_c.key"))
	require.NoError(t, err)
	_, err = c.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	assert.NoError(t, err, "new leaves are issued by the kept CA")

	// Conflicts need -force.
	conflict, err := ParseOrgs("bank_a=" + orgB)
	require.NoError(t, err)
	_, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: conflict})
	assert.ErrorContains(t, err, "-force")
	_, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: []Org{{Name: "bank_b", OrgID: orgB, ClientID: "other"}}})
	assert.ErrorContains(t, err, "-force")

	// A leaf that no longer matches its identity is not silently kept.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bank_a.crt"), []byte(before["server.crt"]), 0o644))
	_, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: orgs[:1]})
	assert.ErrorContains(t, err, "-force")

	// -force recreates everything from the given orgs.
	res, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: conflict, Force: true})
	require.NoError(t, err)
	assert.NotEqual(t, before["ca.crt"], readFile(t, filepath.Join(dir, "ca.crt")))
	require.Len(t, res.Directory.Orgs, 1)
	assert.Equal(t, orgB, res.Directory.Orgs[0].OrgID)

	// A CA certificate without its key cannot issue.
	require.NoError(t, os.Remove(filepath.Join(dir, CAKeyFile)))
	_, err = GenerateDevCerts(DevCertsOptions{Dir: dir, Orgs: conflict})
	assert.ErrorContains(t, err, "ca.key")
}

func TestOrgFromOrganizationIdentifier(t *testing.T) {
	ca, err := devpki.NewCA("test CA", time.Hour)
	require.NoError(t, err)
	pair, err := ca.IssueLeaf(pkix.Name{CommonName: ssA, ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: oidOrganizationIdentifier, Value: "OFBBR-" + orgB},
	}}, x509.ExtKeyUsageClientAuth)
	require.NoError(t, err)
	cert, err := pair.TLSCertificate()
	require.NoError(t, err)
	assert.Equal(t, orgB, orgFromCert(cert.Leaf))

	none, err := ca.IssueClient(ssA, "not-a-uuid")
	require.NoError(t, err)
	cert, err = none.TLSCertificate()
	require.NoError(t, err)
	assert.Equal(t, "", orgFromCert(cert.Leaf))
}

func TestDevPKIWriteFiles(t *testing.T) {
	dir := t.TempDir()
	pki := testPKI(t)
	require.NoError(t, pki.WriteFiles(dir))
	_, _, err := LoadServerTLS(dir)
	require.NoError(t, err)
	d, err := LoadDirectory(filepath.Join(dir, DirectoryFile))
	require.NoError(t, err)
	require.Len(t, d.Orgs, len(pki.Directory.Orgs))
	assert.Equal(t, "bank_a.crt", d.Orgs[0].CertFile)
	assert.Empty(t, d.Orgs[3].CertFile, "an org without a client has no certificate")
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "bank_b.crt"), filepath.Join(dir, "bank_b.key"))
	require.NoError(t, err)
	assert.Equal(t, orgB, orgFromCert(pair.Leaf))
	assert.Empty(t, pki.Directory.Orgs[0].CertFile, "the in-memory directory is unchanged")
}
