package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pcmexporter "github.com/pcm-otel/pcmexporter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// shippedParticipants is the repository's Directory fixture.
var shippedParticipants = filepath.Join("..", "..", "testdata", "directory", "participants.json")

// participants is a Directory participants file in the published shape, where banco B is
// known only by its API base and its authorisation server, and one caller by its client_id.
func participants() string {
	return fmt.Sprintf(`[
  {"OrganisationId": %q, "OrganisationName": "Banco B", "Status": "Active",
   "AuthorisationServers": [{
     "AuthorisationServerId": "6850e112-0d2b-4f92-8955-993e6b9426d2",
     "OpenIDDiscoveryDocument": "https://auth.banco-b-dir.example/.well-known/openid-configuration",
     "ApiResources": [{"ApiFamilyType": "accounts", "ApiVersion": "2.4.2",
       "ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts"}]}]}]},
  {"OrganisationId": %q, "OrganisationName": "Banco A", "Status": "Active",
   "SoftwareStatements": [{"SoftwareStatementId": %q, "ClientId": "client-a"}]}
]`, bankB, ourOrg, ourSS)
}

// TestDirectoryResolvesCounterpartsAgainstPCMSim: a CLIENT span to a host known only through
// the Directory is reported with the right serverOrgId and PCM accepts it; a SERVER span whose
// caller is known by its client_id gets the right clientOrgId; the two pair.
func TestDirectoryResolvesCounterpartsAgainstPCMSim(t *testing.T) {
	file := filepath.Join(t.TempDir(), "participants.json")
	require.NoError(t, os.WriteFile(file, []byte(participants()), 0o600))
	sim, a, b := startSim(t, func(cfg *pcmexporter.Config) {
		cfg.Counterparts.Hosts = nil
		cfg.Counterparts.Directory.File = file
	})

	call := clientCall("GET", "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts/acc-1/balances", 200)
	token := clientCall("POST", "https://auth.banco-b-dir.example/as/token.oauth2", 200)
	a.push(t, call, token)

	served := serverCall("GET", "/open-banking/accounts/v2/accounts/acc-1/balances", 200)
	served.interactionID, served.clientOrg, served.callerID = call.interactionID, "", "client-a"
	b.push(t, served)

	byRole := map[string]pcmsim.Report{}
	for _, r := range sim.FindReports(pcmsim.ReportFilter{FapiInteractionID: call.interactionID}) {
		byRole[r.Role] = r
	}
	require.Len(t, byRole, 2, "both sides reached PCM")
	assert.Equal(t, bankB, byRole["CLIENT"].ServerOrgID, "serverOrgId from the Directory's API base")
	assert.Equal(t, ourOrg, byRole["SERVER"].ClientOrgID, "clientOrgId from the caller's client_id")
	assert.Equal(t, pcmsim.StatusPaired, byRole["CLIENT"].Status)
	tokenReports := sim.FindReports(pcmsim.ReportFilter{FapiInteractionID: token.interactionID})
	require.Len(t, tokenReports, 1)
	assert.Equal(t, "/token", tokenReports[0].Endpoint)
	assert.Equal(t, bankB, tokenReports[0].ServerOrgID, "the token call resolved by the authorisation server's host")
}

// TestShippedDirectoryFixtureResolvesAgainstPCMSim: with testdata/directory/participants.json,
// a call to Banco Aurora's API, a host known only through the fixture, is reported with Banco
// Aurora's OrganisationId, and PCM (which knows Banco Aurora) accepts it.
func TestShippedDirectoryFixtureResolvesAgainstPCMSim(t *testing.T) {
	const bancoAurora = "56218094-b49b-4779-b1d4-aa96223aa31f"
	sim, a, _ := startSimWith(t, bancoAurora, func(cfg *pcmexporter.Config) {
		cfg.Counterparts.Hosts = nil
		cfg.Counterparts.Directory.File = shippedParticipants
	})
	call := clientCall("GET", "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts/acc-9/balances?page=2", 200)
	a.push(t, call)
	got := sim.FindReports(pcmsim.ReportFilter{FapiInteractionID: call.interactionID})
	require.Len(t, got, 1)
	assert.Equal(t, bancoAurora, got[0].ServerOrgID)
	assert.Equal(t, "https://api.bancoaurora.example/opbk", got[0].EndpointURIPrefix)
	assert.Equal(t, pcmsim.StatusUnpaired, got[0].Status, "accepted, waiting for Banco Aurora's own report")
}

// TestDirectoryDiscoveryResolvesMTLSAliasesAgainstPCMSim: with only a Directory URL configured,
// CLIENT calls to an authorisation server's mTLS endpoint aliases (RFC 8705 §5: hosts that only
// its OpenID discovery document names, not the participants file) are reported with that
// organisation as serverOrgId. pcmsim serves the participants file and the discovery documents;
// a report that arrives while the first round of documents is still running waits for it
// instead of being dead-lettered.
func TestDirectoryDiscoveryResolvesMTLSAliasesAgainstPCMSim(t *testing.T) {
	sim, a, _ := startSimConfigured(t, bankB, func(c *pcmsim.Config) {
		c.Participants = []pcmsim.Participant{{
			OrgID: bankB, Name: "Banco B",
			APIBases:    []string{"https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts"},
			AuthServers: []pcmsim.AuthServer{{Host: "auth.banco-b-dir.example", MTLSHost: "matls-auth.banco-b-dir.example"}},
		}}
	}, func(cfg *pcmexporter.Config, sim *pcmsim.Server, caFile string) {
		cfg.Counterparts.Hosts = nil
		cfg.Counterparts.Directory.URL = sim.DirectoryURL()
		cfg.Counterparts.Directory.Client.TLS.CAFile = caFile
		cfg.RetryConfig.InitialInterval = 20 * time.Millisecond
		cfg.RetryConfig.MaxInterval = 100 * time.Millisecond
	})
	token := clientCall("POST", "https://matls-auth.banco-b-dir.example/token", 200)
	par := clientCall("POST", "https://matls-auth.banco-b-dir.example/par", 201)
	balances := clientCall("GET", "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts/acc-1/balances", 200)
	a.push(t, token, par, balances)
	for _, c := range []spanSpec{token, par, balances} {
		got := sim.FindReports(pcmsim.ReportFilter{FapiInteractionID: c.interactionID})
		require.Len(t, got, 1, c.url)
		assert.Equal(t, bankB, got[0].ServerOrgID, c.url)
	}
}
