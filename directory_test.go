package pcmexporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
)

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

func TestDirectoryFileThatCannotBeLoadedStopsTheStart(t *testing.T) {
	cfg := newFakePCM(t).config()
	cfg.Counterparts.Directory.File = filepath.Join(t.TempDir(), "missing.json")
	exp, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	err = exp.start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "counterparts.directory.file")
	require.NoError(t, exp.shutdown(context.Background()))
}

// directoryBehind returns a fake PCM's config whose counterparts come only from a Directory
// URL served on TLS; the Directory answers the participants while up reports true, else 503.
func directoryBehind(t *testing.T, up func() bool) (*fakePCM, *Config) {
	t.Helper()
	dirSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !up() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(participants()))
	}))
	t.Cleanup(dirSrv.Close)
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.Counterparts.Hosts = nil
	cfg.Counterparts.Directory.URL = dirSrv.URL + "/participants"
	cfg.Counterparts.Directory.Client.TLS.InsecureSkipVerify = true // the test server's own certificate
	return pcm, cfg
}

// TestDirectoryURLDownKeepsRunningAndCatchesUp: the Directory does not answer at start; the
// collector still starts, reports whose counterpart only the Directory knows are handed back
// for retry (not dead-lettered), and once a refresh loads the participants the retry delivers
// them.
func TestDirectoryURLDownKeepsRunningAndCatchesUp(t *testing.T) {
	var up atomic.Bool
	pcm, cfg := directoryBehind(t, up.Load)
	cfg.Counterparts.Directory.RefreshInterval = 50 * time.Millisecond
	exp, tt := startExporter(t, cfg)
	call := clientCall("GET", "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts", 200)
	known := clientCall("GET", "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts", 200)
	known.serverOrg = bankB // named by an attribute: no need to wait for the Directory
	err := exp.pushTraces(context.Background(), traces(call, known))
	var failed *heldError
	require.ErrorAs(t, err, &failed)
	require.False(t, consumererror.IsPermanent(err))
	assert.ErrorIs(t, err, errWaitingForDirectory)
	assert.Equal(t, 1, failed.left.ItemsCount(), "only the report waiting for the Directory goes back")
	assert.Len(t, pcm.delivered()[privatePath], 1)
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	assert.Empty(t, dead, "nothing is dead-lettered while the Directory has not loaded")
	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "accepted"), Value: 1},
		{Attributes: reportAttrs("private", "CLIENT", "waiting_for_directory"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	up.Store(true)
	src := exp.resolver.source.Load()
	require.NotNil(t, src)
	require.Eventually(t, func() bool { return src.Index().Stats().Organisations == 2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, exp.push(context.Background(), failed.left))
	items := pcm.delivered()[privatePath]
	require.Len(t, items, 2)
	assert.Equal(t, bankB, items[1]["serverOrgId"])
	assert.Equal(t, call.interactionID, items[1]["fapiInteractionId"])
}

// TestDirectoryLoadedStillDeadLettersAnUnknownCounterpart: once the participants are loaded,
// a counterpart the Directory does not know is a real gap and is dead-lettered at once.
func TestDirectoryLoadedStillDeadLettersAnUnknownCounterpart(t *testing.T) {
	_, cfg := directoryBehind(t, func() bool { return true })
	exp, _ := startExporter(t, cfg)
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", "https://api.nobody.example/open-banking/accounts/v2/accounts", 200)))
	require.True(t, consumererror.IsPermanent(err) || err == nil, "no retry: %v", err)
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, "Missing property: serverOrgId", dead[0].Reason)
}

// TestWaitingForTheDirectoryEndsAtPCMsSevenDayLimit: a report that waited for the Directory
// until PCM's limit is dead-lettered as too old, not retried forever.
func TestWaitingForTheDirectoryEndsAtPCMsSevenDayLimit(t *testing.T) {
	_, cfg := directoryBehind(t, func() bool { return false })
	exp, _ := startExporter(t, cfg)
	call := clientCall("GET", "https://api.banco-b-dir.example/opbk/open-banking/accounts/v2/accounts", 200)
	td := traces(call)
	require.ErrorIs(t, exp.pushTraces(context.Background(), td), errWaitingForDirectory)

	exp.now = func() time.Time { return time.Now().Add(7*24*time.Hour + time.Minute) }
	err := exp.pushTraces(context.Background(), td)
	require.True(t, err == nil || consumererror.IsPermanent(err), "given up, not retried: %v", err)
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].Reason, "Report is too old")
}
