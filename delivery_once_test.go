package pcmexporter

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// startWithRecord starts the exporter with a persistent sending queue on store, as after a
// (re)start of the collector.
func startWithRecord(t *testing.T, pcm *fakePCM, store *memStorage) (*pcmExporter, *componenttest.Telemetry) {
	t.Helper()
	host := storageHost{id: component.MustNewID("file_storage"), ext: store}
	cfg := pcm.config()
	cfg.QueueConfig.Get().StorageID = &host.id
	require.NoError(t, cfg.Validate())
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	exp, err := newExporter(cfg, metadatatest.NewSettings(tt))
	require.NoError(t, err)
	require.NoError(t, exp.start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, exp.shutdown(context.Background())) })
	require.NotNil(t, exp.record)
	return exp, tt
}

// queuedBatch is what the persistent queue holds for td, and hands out again after a restart.
func queuedBatch(t *testing.T, exp *pcmExporter, td ptrace.Traces) *reportBatch {
	t.Helper()
	req, err := exp.convert(context.Background(), td)
	require.NoError(t, err)
	return req.(*reportBatch)
}

// crashedInFlight leaves the reports of b as a crash between their POST and PCM's answer does.
func crashedInFlight(t *testing.T, exp *pcmExporter, b *reportBatch) {
	t.Helper()
	_, err := exp.record.write(context.Background(), spanKeys(b.records), markSending, exp.now())
	require.NoError(t, err)
}

func recordMarks(t *testing.T, exp *pcmExporter, b *reportBatch) []mark {
	t.Helper()
	keys := make([]sla.Key, len(b.records))
	for i := range b.records {
		keys[i] = b.records[i].key()
	}
	return marksOf(t, exp.record, keys)
}

func alreadyDelivered(t *testing.T, tt *componenttest.Telemetry, n int64) {
	t.Helper()
	m, err := tt.GetMetric("otelcol_exporter_pcm_reports")
	require.NoError(t, err)
	var got int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if o, _ := dp.Attributes.Value("outcome"); o.AsString() == "already_delivered" {
			got += dp.Value
		}
	}
	assert.Equal(t, n, got, "reports counted as already_delivered")
}

func TestReplayedDeliveredReportsAreNotSentAgain(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	exp, _ := startWithRecord(t, pcm, store)
	td := traces(clientCall("GET", accountsURL, 200), serverCall("POST", "/open-banking/consents/v3/consents", 201))
	b := queuedBatch(t, exp, td)
	require.NoError(t, exp.push(context.Background(), b))
	require.Len(t, pcm.delivered()[privatePath], 2)
	assert.Equal(t, []mark{markDelivered, markDelivered}, recordMarks(t, exp, b))

	// the persistent queue replays the same entry after a restart
	exp, tt := startWithRecord(t, pcm, store)
	require.NoError(t, exp.push(context.Background(), queuedBatch(t, exp, td)))
	assert.Len(t, pcm.delivered()[privatePath], 2, "nothing sent twice")
	assert.Equal(t, 1, len(pcm.postSizes()), "no POST for the replay")
	assert.Zero(t, pcm.lookupCount(), "delivered reports need no lookup")
	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "already_delivered"), Value: 1},
		{Attributes: reportAttrs("private", "SERVER", "already_delivered"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestReportsCaughtInFlightThatPCMStoredAreNotSentAgain(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	exp, _ := startWithRecord(t, pcm, store)
	td := traces(clientCall("GET", accountsURL, 200), serverCall("POST", "/open-banking/consents/v3/consents", 201))
	b := queuedBatch(t, exp, td)
	crashedInFlight(t, exp, b)
	// PCM stored the POST; its answer was lost with the collector
	var items []map[string]any
	for i := range b.records {
		items = append(items, decodeJSON(t, mapping.AppendJSON(nil, &b.records[i].report)))
	}
	pcm.store(privatePath, items...)

	exp, tt := startWithRecord(t, pcm, store)
	require.NoError(t, exp.push(context.Background(), queuedBatch(t, exp, td)))
	assert.Len(t, pcm.delivered()[privatePath], 2, "nothing sent twice")
	assert.Empty(t, pcm.postSizes()[1:], "no POST")
	assert.Equal(t, 2, pcm.lookupCount())
	alreadyDelivered(t, tt, 2)
	assert.Equal(t, []mark{markDelivered, markDelivered}, recordMarks(t, exp, b))

	// and a second replay needs no lookup
	require.NoError(t, exp.push(context.Background(), queuedBatch(t, exp, td)))
	assert.Equal(t, 2, pcm.lookupCount())
	assert.Len(t, pcm.delivered()[privatePath], 2)
}

func TestReportsCaughtInFlightThatPCMDoesNotHaveAreSent(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	exp, _ := startWithRecord(t, pcm, store)
	client := clientCall("GET", accountsURL, 200)
	td := traces(client)
	b := queuedBatch(t, exp, td)
	crashedInFlight(t, exp, b)
	// PCM holds only the counterpart's report of the same interaction: not ours
	pcm.store(privatePath, map[string]any{"fapiInteractionId": client.interactionID, "role": "SERVER",
		"endpoint": b.records[0].report.Endpoint, "httpMethod": "GET"})

	exp, tt := startWithRecord(t, pcm, store)
	require.NoError(t, exp.push(context.Background(), queuedBatch(t, exp, td)))
	assert.Equal(t, 1, pcm.lookupCount())
	require.Len(t, pcm.postSizes(), 2, "sent")
	alreadyDelivered(t, tt, 0)
	assert.Equal(t, []mark{markDelivered}, recordMarks(t, exp, b))
}

func TestOpendataReportsCaughtInFlightAreSentAgain(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	exp, _ := startWithRecord(t, pcm, store)
	open := spanSpec{kind: ptrace.SpanKindServer, method: "GET", path: "/open-banking/channels/v2/branches", status: 200, clientIP: "203.0.113.7"}
	td := traces(open)
	b := queuedBatch(t, exp, td)
	require.Len(t, b.records, 1)
	crashedInFlight(t, exp, b)

	exp, _ = startWithRecord(t, pcm, store)
	require.NoError(t, exp.push(context.Background(), queuedBatch(t, exp, td)))
	assert.Zero(t, pcm.lookupCount(), "PCM has no lookup for opendata reports")
	assert.Len(t, pcm.delivered()[opendata], 1, "sent again, at the risk of a duplicate")
}

func TestReportsCaughtInFlightWaitWhenPCMCannotBeAsked(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	exp, _ := startWithRecord(t, pcm, store)
	td := traces(clientCall("GET", accountsURL, 200))
	b := queuedBatch(t, exp, td)
	crashedInFlight(t, exp, b)
	pcm.mu.Lock()
	pcm.lookupErr = http.StatusServiceUnavailable
	pcm.mu.Unlock()

	exp, _ = startWithRecord(t, pcm, store)
	err := exp.push(context.Background(), queuedBatch(t, exp, td))
	require.ErrorIs(t, err, errLookupFailed)
	var held *heldError
	require.ErrorAs(t, err, &held)
	assert.Len(t, held.left.records, 1, "retried")
	assert.Empty(t, pcm.postSizes(), "not sent while PCM cannot say whether it has it")
	assert.Equal(t, []mark{markSending}, recordMarks(t, exp, b), "still to be looked up")

	pcm.mu.Lock()
	pcm.lookupErr = 0
	pcm.mu.Unlock()
	require.NoError(t, exp.push(context.Background(), held.left))
	assert.Len(t, pcm.delivered()[privatePath], 1, "sent once PCM says it does not have it")
}

func TestUnconfirmedReportsLoseTheirMark(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{}}
	exp, _ := startWithRecord(t, pcm, store)
	pcm.setAnswer(unavailable)
	td := traces(clientCall("GET", accountsURL, 200))
	b := queuedBatch(t, exp, td)
	require.Error(t, exp.push(context.Background(), b))
	assert.Equal(t, []mark{markNone}, recordMarks(t, exp, b), "PCM refused the POST: nothing to look up after a crash")
}

func TestWithoutPersistentQueueThereIsNoRecord(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	assert.Nil(t, exp.record)
	td := traces(clientCall("GET", accountsURL, 200))
	require.NoError(t, exp.pushTraces(context.Background(), td))
	require.NoError(t, exp.pushTraces(context.Background(), td))
	assert.Len(t, pcm.delivered()[privatePath], 2, "without sending_queue.storage nothing is remembered")
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestDamagedDeliveryRecordDoesNotStopTheExporter(t *testing.T) {
	pcm := newFakePCM(t)
	store := &memStorage{data: map[string][]byte{deliveryRecordClientName + "/" + metaKey: []byte("garbage")}}
	exp, _ := startWithRecord(t, pcm, store)
	require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	assert.Len(t, pcm.delivered()[privatePath], 1)
}
