package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The structs below name only the keys Parse reads (encoding/json ignores the others and
// matches names case-insensitively). Fields the resolution does not need — ApiVersion, which
// real files carry both as a number and as a string, roles, contacts… — are deliberately absent,
// so that their shape can never cost an entry.

type rawOrg struct {
	OrganisationID       string             `json:"OrganisationId"`
	Status               string             `json:"Status"`
	OrganisationName     string             `json:"OrganisationName"`
	RegisteredName       string             `json:"RegisteredName"`
	LegalEntityName      string             `json:"LegalEntityName"`
	AuthorisationServers []rawAuthServer    `json:"AuthorisationServers"`
	SoftwareStatements   softwareStatements `json:"SoftwareStatements"`
}

type rawAuthServer struct {
	CustomerFriendlyName    string           `json:"CustomerFriendlyName"`
	OpenIDDiscoveryDocument string           `json:"OpenIDDiscoveryDocument"`
	Issuer                  string           `json:"Issuer"`
	APIResources            []rawAPIResource `json:"ApiResources"`
}

type rawAPIResource struct {
	APIDiscoveryEndpoints []rawAPIEndpoint `json:"ApiDiscoveryEndpoints"`
}

type rawAPIEndpoint struct {
	APIEndpoint string `json:"ApiEndpoint"`
}

// rawSoftwareStatement is an item of the SoftwareStatements extension. ClientIds lists the
// client_ids of several registrations of the same software statement.
type rawSoftwareStatement struct {
	SoftwareStatementID string   `json:"SoftwareStatementId"`
	ClientID            string   `json:"ClientId"`
	ClientIDs           []string `json:"ClientIds"`
}

// softwareStatements accepts the extension as an array of statements, or as the authenticated
// export's object keyed by SoftwareStatementId whose values are statements or
// {"SoftwareDetails": statement}.
type softwareStatements []rawSoftwareStatement

func (ss *softwareStatements) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		*ss = nil
		return nil
	case data[0] == '[':
		var list []rawSoftwareStatement
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		*ss = list
		return nil
	case data[0] == '{':
		var byID map[string]struct {
			rawSoftwareStatement
			SoftwareDetails *rawSoftwareStatement `json:"SoftwareDetails"`
		}
		if err := json.Unmarshal(data, &byID); err != nil {
			return err
		}
		list := make([]rawSoftwareStatement, 0, len(byID))
		for id, v := range byID {
			st := v.rawSoftwareStatement
			if v.SoftwareDetails != nil {
				st = *v.SoftwareDetails
			}
			if strings.TrimSpace(st.SoftwareStatementID) == "" {
				st.SoftwareStatementID = id
			}
			list = append(list, st)
		}
		*ss = list
		return nil
	}
	return errors.New("SoftwareStatements is neither an array nor an object")
}

// Parse reads a participants file. It fails only on malformed JSON or a top level that is not
// an array; an entry without a valid OrganisationId, or whose read keys have the wrong JSON type,
// is skipped and counted in Stats.Skipped. A leading UTF-8 byte order mark is allowed.
func Parse(data []byte) (*Index, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("participants: empty document, want a JSON array")
		}
		return nil, fmt.Errorf("participants: malformed JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("participants: top level is %s, want a JSON array of organisations", jsonKind(tok))
	}
	b := newBuilder()
	for dec.More() {
		var o rawOrg
		if err := dec.Decode(&o); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("participants: malformed JSON: %w", err)
			}
			// A type mismatch: Decode has consumed the whole entry, the stream is intact.
			b.ix.stats.Skipped++
			continue
		}
		if !b.add(&o) {
			b.ix.stats.Skipped++
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, fmt.Errorf("participants: malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("participants: malformed JSON: data after the top-level array")
	}
	return b.finish(), nil
}

// add indexes one organisation; false when it has no valid OrganisationId.
func (b *builder) add(o *rawOrg) bool {
	id := strings.TrimSpace(o.OrganisationID)
	if !validOrgID(id) {
		return false
	}
	name := firstNonEmpty(o.OrganisationName, o.RegisteredName, o.LegalEntityName)
	for _, as := range o.AuthorisationServers {
		if name != "" {
			break
		}
		name = strings.TrimSpace(as.CustomerFriendlyName)
	}
	known := len(b.ix.orgs)
	c := b.org(lowerASCII(id), name)
	active := o.Status == "" || strings.EqualFold(strings.TrimSpace(o.Status), "Active")
	if int(c) == known && !active {
		b.ix.stats.Inactive++
	}
	b.ix.stats.AuthServers += len(o.AuthorisationServers)
	if active {
		for _, as := range o.AuthorisationServers {
			if as.OpenIDDiscoveryDocument != "" {
				b.addASURL(as.OpenIDDiscoveryDocument, true, c)
				b.addDiscovery(as.OpenIDDiscoveryDocument, c)
			}
			if as.Issuer != "" {
				b.addASURL(as.Issuer, false, c)
			}
			for _, res := range as.APIResources {
				for _, ep := range res.APIDiscoveryEndpoints {
					if ep.APIEndpoint != "" {
						b.addAPIEndpoint(ep.APIEndpoint, c)
					}
				}
			}
		}
	}
	for _, st := range o.SoftwareStatements {
		b.addClient(st.SoftwareStatementID, c)
		b.addClient(st.ClientID, c)
		for _, cid := range st.ClientIDs {
			b.addClient(cid, c)
		}
	}
	return true
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// jsonKind names the JSON type a top-level token starts.
func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a stray " + v.String()
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "not an array"
}
