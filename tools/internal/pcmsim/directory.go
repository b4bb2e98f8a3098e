package pcmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Org is one registration in the simulator's Directory: an organisation and, optionally, one
// software statement with the client_id that may request tokens for it. An organisation with
// several software statements appears once per statement. An entry without ClientID only makes
// the organisation known (a counterpart that never reports itself).
type Org struct {
	// Name is a short label (file names of dev-certs, table output).
	Name string `json:"name"`
	// OrgID is the OrganisationId (UUID); client certificates carry it in the subject OU.
	OrgID string `json:"org_id"`
	// SoftwareStatementID is the software statement id (UUID), the CN of the client certificate.
	SoftwareStatementID string `json:"software_statement_id,omitempty"`
	// ClientID is the OAuth client_id of the software statement.
	ClientID string `json:"client_id,omitempty"`
	// CertFile and KeyFile name the client certificate written by dev-certs (informational,
	// relative to the directory file).
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
}

// Directory is the set of registered organisations and clients (the stand-in for the Open
// Finance Brasil Directory). It is the format of directory.json written by dev-certs.
type Directory struct {
	Orgs []Org `json:"orgs"`
}

// LoadDirectory reads a directory.json file.
func LoadDirectory(path string) (*Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pcmsim: directory: %w", err)
	}
	var d Directory
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("pcmsim: directory %s: %w", path, err)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("pcmsim: directory %s: %w", path, err)
	}
	return &d, nil
}

// WriteFile writes the directory as indented JSON.
func (d *Directory) WriteFile(path string) error {
	data, err := d.marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func (d *Directory) marshal() ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	return append(data, '\n'), err
}

// Validate checks that org ids and software statement ids are UUIDs and client ids are unique.
func (d *Directory) Validate() error {
	var errs []error
	clients := map[string]bool{}
	for i, o := range d.Orgs {
		label := fmt.Sprintf("orgs[%d]", i)
		if o.Name != "" {
			label += " (" + o.Name + ")"
		}
		if !isUUID(o.OrgID) {
			errs = append(errs, fmt.Errorf("%s: org_id %q is not a UUID", label, o.OrgID))
		}
		if o.SoftwareStatementID != "" && !isUUID(o.SoftwareStatementID) {
			errs = append(errs, fmt.Errorf("%s: software_statement_id %q is not a UUID", label, o.SoftwareStatementID))
		}
		if o.ClientID != "" {
			if clients[o.ClientID] {
				errs = append(errs, fmt.Errorf("%s: duplicate client_id %q", label, o.ClientID))
			}
			clients[o.ClientID] = true
		}
	}
	return errors.Join(errs...)
}

// dirIndex is the lookup form of a Directory. A nil *dirIndex is the permissive directory:
// every client_id is accepted (its organisation is the certificate's) and every org exists.
type dirIndex struct {
	orgs    map[string]bool // lower-case org id
	clients map[string]Org  // by client_id
}

func newDirIndex(d *Directory) *dirIndex {
	if d == nil {
		return nil
	}
	ix := &dirIndex{orgs: map[string]bool{}, clients: map[string]Org{}}
	for _, o := range d.Orgs {
		ix.orgs[strings.ToLower(o.OrgID)] = true
		if o.ClientID != "" {
			ix.clients[o.ClientID] = o
		}
	}
	return ix
}

func (ix *dirIndex) hasOrg(orgID string) bool {
	return ix == nil || ix.orgs[strings.ToLower(orgID)]
}

// client returns the registration of clientID; in permissive mode every client_id is known and
// registered to certOrg.
func (ix *dirIndex) client(clientID, certOrg string) (Org, bool) {
	if ix == nil {
		return Org{OrgID: certOrg, ClientID: clientID}, clientID != ""
	}
	o, ok := ix.clients[clientID]
	return o, ok
}
