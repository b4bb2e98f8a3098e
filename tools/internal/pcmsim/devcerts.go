package pcmsim

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pcm-otel/pcmexporter/internal/devpki"
)

// File names written by GenerateDevCerts in its directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	DirectoryFile  = "directory.json"
)

// DefaultServerHosts are the names and addresses of the simulator's server certificate.
var DefaultServerHosts = []string{"localhost", "127.0.0.1", "::1"}

// devCAValidity is the lifetime of a dev CA; its leaves expire with it (as in devpki).
const devCAValidity = 10 * 365 * 24 * time.Hour

var orgNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ParseOrgs parses the -orgs flag of dev-certs: comma-separated
// name=ORG_UUID[:SOFTWARE_STATEMENT_UUID[:CLIENT_ID]] entries. Omitted parts stay empty (see
// Org defaults in GenerateDevCerts).
func ParseOrgs(spec string) ([]Org, error) {
	var orgs []Org
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, rest, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("org %q: want name=ORG_UUID[:SSID_UUID[:CLIENT_ID]]", entry)
		}
		parts := strings.SplitN(rest, ":", 3)
		o := Org{Name: name, OrgID: parts[0]}
		if len(parts) > 1 {
			o.SoftwareStatementID = parts[1]
		}
		if len(parts) > 2 {
			o.ClientID = parts[2]
		}
		if err := checkOrg(o); err != nil {
			return nil, err
		}
		orgs = append(orgs, o)
	}
	if len(orgs) == 0 {
		return nil, errors.New("no organisations given")
	}
	return orgs, nil
}

func checkOrg(o Org) error {
	switch {
	case !orgNamePattern.MatchString(o.Name):
		return fmt.Errorf("org name %q: use letters, digits, '_', '-', '.'", o.Name)
	case o.Name == "ca" || o.Name == "server" || o.Name == "directory":
		return fmt.Errorf("org name %q is reserved", o.Name)
	case !isUUID(o.OrgID):
		return fmt.Errorf("org %s: organisation id %q is not a UUID", o.Name, o.OrgID)
	case o.SoftwareStatementID != "" && !isUUID(o.SoftwareStatementID):
		return fmt.Errorf("org %s: software statement id %q is not a UUID", o.Name, o.SoftwareStatementID)
	}
	return nil
}

// withDefaults fills an omitted software statement id with a UUID derived from the name and
// organisation (stable across runs) and an omitted client_id with the software statement id.
func (o Org) withDefaults() Org {
	if o.SoftwareStatementID == "" {
		h := sha256.Sum256([]byte("pcmsim software statement\x00" + o.Name + "\x00" + strings.ToLower(o.OrgID)))
		b := h[:16]
		b[6] = b[6]&0x0f | 0x80 // version 8 (custom), RFC 9562
		b[8] = b[8]&0x3f | 0x80
		o.SoftwareStatementID = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	if o.ClientID == "" {
		o.ClientID = o.SoftwareStatementID
	}
	return o
}

// DevCertsOptions configures GenerateDevCerts.
type DevCertsOptions struct {
	// Dir receives the files (created if needed).
	Dir string
	// Orgs get one client certificate each (OU = OrgID, CN = SoftwareStatementID).
	Orgs []Org
	// Hosts are added to DefaultServerHosts in the server certificate.
	Hosts []string
	// Force recreates the CA and every certificate and rewrites the directory from Orgs only.
	Force bool
}

// DevCertsResult reports what GenerateDevCerts did.
type DevCertsResult struct {
	Created   []string   // files written
	Kept      []string   // files that existed and were kept
	Directory *Directory // the directory written to DIR/directory.json
}

// GenerateDevCerts writes a development PKI for the simulator into opts.Dir: ca.crt and ca.key
// (0600), server.crt/.key for localhost, 127.0.0.1 and ::1, <name>.crt/.key per organisation
// and directory.json. It is idempotent: existing files are kept (after checking that they still
// match the CA and the requested identities, else it fails and asks for Force); new
// organisations are added to the directory.
func GenerateDevCerts(opts DevCertsOptions) (*DevCertsResult, error) {
	if opts.Dir == "" {
		return nil, errors.New("dev-certs: no directory")
	}
	if len(opts.Orgs) == 0 {
		return nil, errors.New("dev-certs: no organisations")
	}
	seen := map[string]bool{}
	for _, o := range opts.Orgs {
		if err := checkOrg(o); err != nil {
			return nil, fmt.Errorf("dev-certs: %w", err)
		}
		if seen[o.Name] {
			return nil, fmt.Errorf("dev-certs: org %s given twice", o.Name)
		}
		seen[o.Name] = true
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("dev-certs: %w", err)
	}
	g := &devGen{dir: opts.Dir, force: opts.Force, res: &DevCertsResult{}}
	dir, err := g.directory(opts.Orgs)
	if err != nil {
		return nil, err
	}
	if err := g.ca(); err != nil {
		return nil, err
	}
	hosts := append(slices.Clone(DefaultServerHosts), opts.Hosts...)
	if err := g.leaf(ServerCertFile, ServerKeyFile, checkServer(hosts), func() (devpki.Pair, error) {
		return g.caCert.IssueServer(hosts...)
	}); err != nil {
		return nil, err
	}
	for i, o := range dir.Orgs {
		if o.ClientID == "" {
			continue
		}
		dir.Orgs[i].CertFile, dir.Orgs[i].KeyFile = o.Name+".crt", o.Name+".key"
		if err := g.leaf(o.Name+".crt", o.Name+".key", checkClient(o), func() (devpki.Pair, error) {
			return g.caCert.IssueClient(o.SoftwareStatementID, o.OrgID)
		}); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(opts.Dir, DirectoryFile)
	data, err := dir.marshal()
	if err != nil {
		return nil, err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		g.res.Kept = append(g.res.Kept, path)
	} else {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("dev-certs: %w", err)
		}
		g.res.Created = append(g.res.Created, path)
	}
	g.res.Directory = dir
	return g.res, nil
}

type devGen struct {
	dir    string
	force  bool
	caCert *devpki.CA
	newCA  bool
	res    *DevCertsResult
}

func (g *devGen) path(name string) string { return filepath.Join(g.dir, name) }

// directory merges the requested orgs into an existing directory.json (unless force).
func (g *devGen) directory(orgs []Org) (*Directory, error) {
	dir := &Directory{}
	if !g.force {
		existing, err := LoadDirectory(g.path(DirectoryFile))
		switch {
		case err == nil:
			dir = existing
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("dev-certs: %w (use -force to rewrite it)", err)
		}
	}
	for _, o := range orgs {
		i := slices.IndexFunc(dir.Orgs, func(e Org) bool { return e.Name == o.Name })
		if i < 0 {
			dir.Orgs = append(dir.Orgs, o.withDefaults())
			continue
		}
		e := dir.Orgs[i]
		if !strings.EqualFold(e.OrgID, o.OrgID) ||
			(o.SoftwareStatementID != "" && !strings.EqualFold(e.SoftwareStatementID, o.SoftwareStatementID)) ||
			(o.ClientID != "" && e.ClientID != o.ClientID) {
			return nil, fmt.Errorf("dev-certs: org %s is already registered as %s:%s:%s; use -force to replace it",
				o.Name, e.OrgID, e.SoftwareStatementID, e.ClientID)
		}
		if e.ClientID == "" { // an entry without a client gets one now
			dir.Orgs[i] = e.withDefaults()
		}
	}
	if err := dir.Validate(); err != nil {
		return nil, fmt.Errorf("dev-certs: %w", err)
	}
	return dir, nil
}

func (g *devGen) ca() error {
	certPath, keyPath := g.path(CACertFile), g.path(CAKeyFile)
	if !g.force {
		_, errCert := os.Stat(certPath)
		_, errKey := os.Stat(keyPath)
		switch {
		case errCert == nil && errKey == nil:
			ca, err := loadCA(certPath, keyPath)
			if err != nil {
				return fmt.Errorf("dev-certs: %w (use -force to recreate the CA)", err)
			}
			g.caCert = ca
			g.res.Kept = append(g.res.Kept, certPath, keyPath)
			return nil
		case errCert == nil || errKey == nil:
			return fmt.Errorf("dev-certs: %s and %s must both exist; use -force to recreate the CA", certPath, keyPath)
		}
	}
	ca, err := devpki.NewCA("pcmsim dev CA", devCAValidity)
	if err != nil {
		return err
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, ca.CertPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(keyPath, 0o600); err != nil { // WriteFile keeps an existing file's mode
		return err
	}
	g.caCert, g.newCA = ca, true
	g.res.Created = append(g.res.Created, certPath, keyPath)
	return nil
}

// leaf keeps name.crt/.key when they exist, chain to the CA and pass check; issues them when
// absent (or with force); fails otherwise.
func (g *devGen) leaf(certName, keyName string, check func(*x509.Certificate) error, issue func() (devpki.Pair, error)) error {
	certPath, keyPath := g.path(certName), g.path(keyName)
	if !g.force {
		pair, err := tls.LoadX509KeyPair(certPath, keyPath)
		switch {
		case err == nil:
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err == nil {
				_, err = leaf.Verify(x509.VerifyOptions{Roots: g.caCert.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			}
			if err == nil {
				err = check(leaf)
			}
			if err != nil {
				return fmt.Errorf("dev-certs: existing %s: %w; use -force to reissue", certPath, err)
			}
			g.res.Kept = append(g.res.Kept, certPath, keyPath)
			return nil
		case fileExists(certPath) || fileExists(keyPath):
			return fmt.Errorf("dev-certs: %s or %s unreadable: %w; use -force to reissue", certPath, keyPath, err)
		}
	}
	pair, err := issue()
	if err != nil {
		return err
	}
	if _, _, err := pair.Write(g.dir, strings.TrimSuffix(certName, ".crt")); err != nil {
		return err
	}
	if err := os.Chmod(keyPath, 0o600); err != nil {
		return err
	}
	g.res.Created = append(g.res.Created, certPath, keyPath)
	return nil
}

func checkServer(hosts []string) func(*x509.Certificate) error {
	return func(c *x509.Certificate) error {
		for _, h := range hosts {
			if err := c.VerifyHostname(h); err != nil {
				return fmt.Errorf("does not cover %s", h)
			}
		}
		return nil
	}
}

func checkClient(o Org) func(*x509.Certificate) error {
	return func(c *x509.Certificate) error {
		if got := orgFromCert(c); !strings.EqualFold(got, o.OrgID) {
			return fmt.Errorf("organisation (OU) is %q, want %s", got, o.OrgID)
		}
		if !strings.EqualFold(c.Subject.CommonName, o.SoftwareStatementID) {
			return fmt.Errorf("software statement (CN) is %q, want %s", c.Subject.CommonName, o.SoftwareStatementID)
		}
		return nil
	}
}

func loadCA(certPath, keyPath string) (*devpki.CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	return devpki.LoadCA(certPEM, keyPEM)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// LoadCertPool reads a PEM file of CA certificates.
func LoadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return p, nil
}

// LoadServerTLS reads dir/server.crt, dir/server.key and dir/ca.crt (the files of
// GenerateDevCerts) for Config.ServerCertificate and Config.ClientCAs.
func LoadServerTLS(dir string) (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("pcmsim: server certificate: %w", err)
	}
	pool, err := LoadCertPool(filepath.Join(dir, CACertFile))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("pcmsim: CA: %w", err)
	}
	return cert, pool, nil
}

// DevPKI is an in-memory certificate set for tests, made with devpki: a CA, the simulator's
// server certificate (localhost, 127.0.0.1, ::1) and a client certificate per organisation.
type DevPKI struct {
	CA     *devpki.CA
	Server devpki.Pair
	// Clients holds the client certificate of each organisation with a client_id, by Org.Name.
	Clients map[string]devpki.Pair
	// Directory lists the organisations with their defaults filled in.
	Directory *Directory
}

// NewDevPKI issues certificates for orgs. Omitted software statement ids and client ids get
// the same defaults as dev-certs; an org with ClientID "-" is registered without a client
// (a Directory member that cannot get tokens).
func NewDevPKI(orgs ...Org) (*DevPKI, error) {
	ca, err := devpki.NewCA("pcmsim test CA", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	server, err := ca.IssueServer(DefaultServerHosts...)
	if err != nil {
		return nil, err
	}
	p := &DevPKI{CA: ca, Server: server, Clients: map[string]devpki.Pair{}, Directory: &Directory{}}
	for _, o := range orgs {
		noClient := o.ClientID == "-"
		if noClient {
			o.ClientID = ""
		}
		if !noClient {
			o = o.withDefaults()
			pair, err := ca.IssueClient(o.SoftwareStatementID, o.OrgID)
			if err != nil {
				return nil, err
			}
			p.Clients[o.Name] = pair
		}
		p.Directory.Orgs = append(p.Directory.Orgs, o)
	}
	if err := p.Directory.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Config returns a Config with the server certificate, client CA and directory filled in.
func (p *DevPKI) Config() (Config, error) {
	cert, err := p.Server.TLSCertificate()
	if err != nil {
		return Config{}, err
	}
	return Config{ServerCertificate: cert, ClientCAs: p.CA.Pool(), Directory: p.Directory}, nil
}

// Org returns the directory entry called name.
func (p *DevPKI) Org(name string) (Org, bool) {
	i := slices.IndexFunc(p.Directory.Orgs, func(o Org) bool { return o.Name == name })
	if i < 0 {
		return Org{}, false
	}
	return p.Directory.Orgs[i], true
}

// ClientTLS is a client TLS configuration trusting the CA and presenting the client
// certificate of org name (for the auth listener).
func (p *DevPKI) ClientTLS(name string) (*tls.Config, error) {
	pair, ok := p.Clients[name]
	if !ok {
		return nil, fmt.Errorf("pcmsim: no client certificate for %q", name)
	}
	cert, err := pair.TLSCertificate()
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: p.CA.Pool(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// RootTLS is a client TLS configuration that only trusts the CA (for the API listener).
func (p *DevPKI) RootTLS() *tls.Config {
	return &tls.Config{RootCAs: p.CA.Pool(), MinVersion: tls.VersionTLS12}
}

// WriteFiles writes the set in the layout of dev-certs (without ca.key, which devpki keeps in
// memory): dir/ca.crt, dir/server.crt/.key, dir/<name>.crt/.key and dir/directory.json, for
// clients configured with file paths (the exporter's tls.ca_file, token.tls.cert_file, …).
func (p *DevPKI) WriteFiles(dir string) error {
	if _, err := p.CA.WriteCA(dir, strings.TrimSuffix(CACertFile, ".crt")); err != nil {
		return err
	}
	if _, _, err := p.Server.Write(dir, strings.TrimSuffix(ServerCertFile, ".crt")); err != nil {
		return err
	}
	d := &Directory{Orgs: slices.Clone(p.Directory.Orgs)}
	for i, o := range d.Orgs {
		pair, ok := p.Clients[o.Name]
		if !ok {
			continue
		}
		if _, _, err := pair.Write(dir, o.Name); err != nil {
			return err
		}
		d.Orgs[i].CertFile, d.Orgs[i].KeyFile = o.Name+".crt", o.Name+".key"
	}
	return d.WriteFile(filepath.Join(dir, DirectoryFile))
}
