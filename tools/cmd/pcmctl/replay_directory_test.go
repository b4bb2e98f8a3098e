package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

// TestReplayResolvesCounterpartsThroughTheDirectory: a CLIENT report dead-lettered without
// serverOrgId (say, before the exporter's Directory had loaded) is completed from the configured
// counterparts.directory when replayed — from the URL it called, as the exporter resolves it —
// and PCM accepts it. With -dry-run the Directory's file is read, no network.
func TestReplayResolvesCounterpartsThroughTheDirectory(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	participants := e.file("participants.json", fmt.Sprintf(`[
  {"OrganisationId": %q, "OrganisationName": "Banco B", "Status": "Active",
   "AuthorisationServers": [{
     "AuthorisationServerId": "6850e112-0d2b-4f92-8955-993e6b9426d2",
     "ApiResources": [{"ApiFamilyType": "accounts", "ApiVersion": "2.4.2",
       "ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts"}]}]}]}
]`, orgB))
	config := e.writeConfig("directory.yaml", e.exporter("banco_a", []string{
		"  directory:", // under counterparts:, after its hosts
		"        file: " + participants,
	}))

	missing := report("CLIENT", fapi1, map[string]any{"serverOrgId": nil, "endpointUriPrefix": "https://api.banco-b-dir.example/opbk"})
	unknown := report("CLIENT", fapi2, map[string]any{"serverOrgId": nil, "endpointUriPrefix": "https://api.nobody.example/opbk"})
	dead := filepath.Join(e.dir, "dead.jsonl")
	w, err := deadletter.Open(dead)
	require.NoError(t, err)
	for _, r := range []map[string]any{missing, unknown} {
		require.NoError(t, w.Write([]deadletter.Entry{{Time: time.Now().UTC(), Stage: deadletter.StageInvalid,
			Reason: "Missing property: serverOrgId", API: "private", Report: json.RawMessage(jsonLine(t, r))}}))
	}
	require.NoError(t, w.Close())

	code, stdout, stderr := runCmd(t, "-config", config, "-exporter", "banco_a", "replay", "-dry-run", dead)
	assert.Equal(t, exitProblem, code, stderr)
	assert.Contains(t, stdout, "line 1: would send to ")
	assert.Contains(t, stdout, "line 2: still invalid, not sent: Missing property: serverOrgId")

	code, stdout, stderr = runCmd(t, "-config", config, "-exporter", "banco_a", "replay", dead)
	assert.Equal(t, exitProblem, code, "line 2 stays invalid: %s %s", stdout, stderr)
	assert.Regexp(t, `(?m)^line 1: ACCEPTED reportId=`, stdout)
	reports := e.sim.Reports()
	require.Len(t, reports, 1)
	assert.Equal(t, orgB, reports[0].ServerOrgID)
	assert.Equal(t, fapi1, reports[0].FapiInteractionID)
}
