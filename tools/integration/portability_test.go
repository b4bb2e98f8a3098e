package integration

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/mapping"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// TestCreditPortabilityReportsReachPCMSim: through NewFactory, each side's credit-portability
// span becomes a report on its own path of PCM's credit-portability API, which pcmsim
// validates by its rules and accepts.
func TestCreditPortabilityReportsReachPCMSim(t *testing.T) {
	sim, a, b := startSim(t, nil)
	const portabilityID = "54d5348c-1a3f-4ff4-a8a8-d0724fb806c6"

	proposal := clientCall("POST", "https://api.banco-b.example/opbk/open-banking/credit-portability/v1/portabilities", 201)
	proposal.attrs = map[string]string{
		mapping.AttrPortabilityID:        portabilityID,
		mapping.AttrPortabilityConsentID: "urn:bancoa:C1DD33123",
		mapping.AttrPortabilityCreation:  "2026-03-17T12:00:00Z",
	}
	a.push(t, proposal, clientCall("GET", accountsURL, 200))

	cancelled := serverCall("PATCH", "/open-banking/credit-portability/v1/portabilities/"+portabilityID+"/cancel", 200)
	cancelled.clientOrg = ourOrg
	cancelled.attrs = map[string]string{
		mapping.AttrPortabilityID:         portabilityID,
		mapping.AttrPortabilityStatus:     "CANCELLED",
		mapping.AttrPortabilityRejectedBy: "PROPONENTE",
		mapping.AttrPortabilityRejection:  "CANCELADO_PELO_CLIENTE",
	}
	b.push(t, cancelled)

	assert.Empty(t, sim.Discarded())
	got := sim.FindReports(pcmsim.ReportFilter{API: pcmsim.APICreditPortability})
	require.Len(t, got, 2)
	byRole := map[string]pcmsim.Report{}
	for _, r := range got {
		byRole[r.Role] = r
		assert.Equal(t, pcmsim.StatusSingle, r.Status, "PCM pairs only private reports")
	}
	client, server := byRole[pcmsim.RoleClient], byRole[pcmsim.RoleServer]
	assert.Equal(t, proposal.interactionID, client.FapiInteractionID)
	assert.Equal(t, "/open-banking/credit-portability/v1/portabilities", client.Endpoint)
	assert.Equal(t, ourOrg, client.SubmittedBy)
	assert.Equal(t, map[string]string{
		"portabilityId": portabilityID, "consentId": "urn:bancoa:C1DD33123", "creationDateTime": "2026-03-17T12:00:00Z",
	}, client.CreditPortability)
	assert.Equal(t, cancelled.interactionID, server.FapiInteractionID)
	assert.Equal(t, "/open-banking/credit-portability/v1/portabilities/{portabilityId}/cancel", server.Endpoint)
	assert.Equal(t, bankB, server.SubmittedBy)
	assert.Equal(t, map[string]string{
		"portabilityId": portabilityID, "creditPortabilityStatus": "CANCELLED", "rejectedBy": "PROPONENTE",
		"rejectionReason": "CANCELADO_PELO_CLIENTE",
	}, server.CreditPortability)
	assert.Len(t, sim.FindReports(pcmsim.ReportFilter{API: pcmsim.APIPrivate}), 1, "the private report went its own way")
}
