package pcmsim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDirectoryServesParticipantsAndDiscoveryDocuments: the simulated Directory serves the
// participants file in the published shape, each authorisation server pointing to its OpenID
// discovery document, which names the mTLS endpoint aliases (RFC 8705 §5).
func TestDirectoryServesParticipantsAndDiscoveryDocuments(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Participants = []Participant{{
			OrgID: "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d", Name: "Banco B",
			APIBases:    []string{"https://api.banco-b.example/open-banking/accounts/v2/accounts"},
			AuthServers: []AuthServer{{Host: "auth.banco-b.example", MTLSHost: "matls-auth.banco-b.example"}, {Host: "auth2.banco-b.example"}},
		}}
	})
	var participants []struct {
		OrganisationID       string `json:"OrganisationId"`
		Status               string
		AuthorisationServers []struct {
			OpenIDDiscoveryDocument string
			ApiResources            []struct {
				ApiDiscoveryEndpoints []struct{ ApiEndpoint string }
			}
		}
	}
	e.getJSON(DirectoryParticipantsPath, &participants)
	require.Len(t, participants, 1)
	p := participants[0]
	assert.Equal(t, "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d", p.OrganisationID)
	assert.Equal(t, "Active", p.Status)
	require.Len(t, p.AuthorisationServers, 2)
	assert.Equal(t, "https://api.banco-b.example/open-banking/accounts/v2/accounts",
		p.AuthorisationServers[0].ApiResources[0].ApiDiscoveryEndpoints[0].ApiEndpoint)

	var doc struct {
		Issuer              string            `json:"issuer"`
		TokenEndpoint       string            `json:"token_endpoint"`
		MTLSEndpointAliases map[string]string `json:"mtls_endpoint_aliases"`
	}
	docPath := strings.TrimPrefix(p.AuthorisationServers[0].OpenIDDiscoveryDocument, e.srv.APIURL())
	e.getJSON(docPath, &doc)
	assert.Equal(t, "https://auth.banco-b.example", doc.Issuer)
	assert.Equal(t, "https://auth.banco-b.example/token", doc.TokenEndpoint)
	assert.Equal(t, map[string]string{
		"token_endpoint":                        "https://matls-auth.banco-b.example/token",
		"pushed_authorization_request_endpoint": "https://matls-auth.banco-b.example/par",
		"registration_endpoint":                 "https://matls-auth.banco-b.example/register",
	}, doc.MTLSEndpointAliases)

	var second map[string]any
	e.getJSON(strings.TrimPrefix(p.AuthorisationServers[1].OpenIDDiscoveryDocument, e.srv.APIURL()), &second)
	assert.NotContains(t, second, "mtls_endpoint_aliases", "a server without aliases names none")

	resp, _ := e.do(http.MethodGet, "/directory/discovery/7/0/.well-known/openid-configuration", "", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
