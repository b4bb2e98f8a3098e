package pcmsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Participant is an organisation of the simulated Open Finance Brasil Directory's participants
// file (served at /directory/participants), with the authorisation servers whose OpenID
// discovery documents the simulator serves too. It lets the exporter's Directory source
// (counterparts.directory.url) be tested against this simulator, mTLS endpoint aliases included.
type Participant struct {
	OrgID string
	Name  string
	// APIBases are API URLs up to and including /open-banking/… (ApiDiscoveryEndpoints).
	APIBases []string
	// AuthServers are the organisation's authorisation servers.
	AuthServers []AuthServer
}

// AuthServer is one authorisation server: its public host (token_endpoint etc. of its discovery
// document) and the host of its mTLS endpoint aliases (RFC 8705 §5), which only the discovery
// document names.
type AuthServer struct {
	Host     string // e.g. auth.banco-b.example
	MTLSHost string // e.g. matls-auth.banco-b.example; empty: no aliases
}

// Paths of the simulated Directory on the API listener (no authentication, like the public
// Directory).
const (
	DirectoryParticipantsPath = "/directory/participants"
	directoryDiscoveryPrefix  = "/directory/discovery/"
	discoverySuffix           = "/.well-known/openid-configuration"
)

// DirectoryURL is the participants URL of the simulated Directory (empty before Start).
func (s *Server) DirectoryURL() string { return s.APIURL() + DirectoryParticipantsPath }

// handleDirectory serves the participants file and the discovery documents.
func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	p := r.URL.Path
	if p == DirectoryParticipantsPath {
		writeJSON(w, http.StatusOK, s.participantsFile())
		return
	}
	// /directory/discovery/<participant index>/<auth server index>/.well-known/openid-configuration
	rest, ok := strings.CutSuffix(strings.TrimPrefix(p, directoryDiscoveryPrefix), discoverySuffix)
	org, as, _ := strings.Cut(rest, "/")
	i, err1 := strconv.Atoi(org)
	j, err2 := strconv.Atoi(as)
	if !ok || err1 != nil || err2 != nil || i < 0 || i >= len(s.cfg.Participants) || j < 0 || j >= len(s.cfg.Participants[i].AuthServers) {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, discoveryDocument(s.cfg.Participants[i].AuthServers[j]))
}

// participantsFile is the participants file in the Directory's published shape.
func (s *Server) participantsFile() []map[string]any {
	out := make([]map[string]any, 0, len(s.cfg.Participants))
	for i, p := range s.cfg.Participants {
		var servers []map[string]any
		for j := range p.AuthServers {
			as := map[string]any{
				"AuthorisationServerId":   fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", i, j),
				"OpenIDDiscoveryDocument": fmt.Sprintf("%s%s%d/%d%s", s.APIURL(), directoryDiscoveryPrefix, i, j, discoverySuffix),
			}
			if j == 0 && len(p.APIBases) > 0 {
				var endpoints []map[string]string
				for _, base := range p.APIBases {
					endpoints = append(endpoints, map[string]string{"ApiEndpoint": base})
				}
				as["ApiResources"] = []map[string]any{{"ApiDiscoveryEndpoints": endpoints}}
			}
			servers = append(servers, as)
		}
		out = append(out, map[string]any{
			"OrganisationId": p.OrgID, "OrganisationName": p.Name, "Status": "Active", "AuthorisationServers": servers,
		})
	}
	return out
}

// discoveryDocument is the OpenID discovery document of as, with its mTLS endpoint aliases.
func discoveryDocument(as AuthServer) map[string]any {
	endpoints := func(host string) map[string]any {
		return map[string]any{
			"token_endpoint":                        "https://" + host + "/token",
			"pushed_authorization_request_endpoint": "https://" + host + "/par",
			"registration_endpoint":                 "https://" + host + "/register",
		}
	}
	doc := endpoints(as.Host)
	doc["issuer"] = "https://" + as.Host
	doc["authorization_endpoint"] = "https://" + as.Host + "/auth"
	if as.MTLSHost != "" {
		doc["mtls_endpoint_aliases"] = endpoints(as.MTLSHost)
	}
	return doc
}
