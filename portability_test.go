package pcmexporter

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
	"github.com/pcm-otel/pcmexporter/mapping"
)

const (
	portabilityClientPath = "/report-api/v1/credit-portabilities/client"
	portabilityServerPath = "/report-api/v1/credit-portabilities/server"
	portabilityID         = "54d5348c-1a3f-4ff4-a8a8-d0724fb806c6"
	portabilitiesURL      = "https://api.banco-b.example/opbk/open-banking/credit-portability/v1/portabilities"
)

// portabilityProposal is our POST /portabilities to the creditor, with what its answer said.
func portabilityProposal() spanSpec {
	s := clientCall("POST", portabilitiesURL, 201)
	s.attrs = map[string]string{
		mapping.AttrPortabilityID:        portabilityID,
		mapping.AttrPortabilityConsentID: "urn:bancoa:C1DD33123",
		mapping.AttrPortabilityCreation:  "2026-03-17T12:00:00Z",
	}
	return s
}

// portabilityStatusRead is the proponent's GET of a portability, seen by us as the creditor.
func portabilityStatusRead() spanSpec {
	s := serverCall("GET", "/open-banking/credit-portability/v1/portabilities/"+portabilityID, 200)
	s.attrs = map[string]string{
		mapping.AttrPortabilityID:           portabilityID,
		mapping.AttrPortabilityStatus:       "REJECTED",
		mapping.AttrPortabilityStatusUpdate: "2026-03-17T12:30:00Z",
		mapping.AttrPortabilityRejection:    "OUTROS",
		mapping.AttrPortabilityRejectedBy:   "CREDORA",
	}
	return s
}

func TestCreditPortabilityReportsGoToTheirOwnPaths(t *testing.T) {
	pcm := newFakePCM(t)
	exp, tt := startExporter(t, pcm.config())
	proposal, read := portabilityProposal(), portabilityStatusRead()
	require.NoError(t, exp.pushTraces(context.Background(), traces(proposal, clientCall("GET", accountsURL, 200), read)))

	got := pcm.delivered()
	require.Len(t, got[privatePath], 1)
	require.Len(t, got[portabilityClientPath], 1)
	require.Len(t, got[portabilityServerPath], 1)
	client := got[portabilityClientPath][0]
	assert.Equal(t, "/open-banking/credit-portability/v1/portabilities", client["endpoint"])
	assert.Equal(t, proposal.interactionID, client["fapiInteractionId"])
	assert.Equal(t, "CLIENT", client["role"])
	assert.Equal(t, portabilityID, client["portabilityId"])
	assert.Equal(t, "urn:bancoa:C1DD33123", client["consentId"])
	assert.Equal(t, "2026-03-17T12:00:00Z", client["creationDateTime"])
	assert.Equal(t, ourSS, client["clientSSId"])
	assert.NotContains(t, client, "additionalInfo")
	server := got[portabilityServerPath][0]
	assert.Equal(t, "/open-banking/credit-portability/v1/portabilities/{portabilityId}", server["endpoint"])
	assert.Equal(t, "SERVER", server["role"])
	assert.Equal(t, bankB, server["clientOrgId"])
	assert.Equal(t, "REJECTED", server["creditPortabilityStatus"])
	assert.Equal(t, "CREDORA", server["rejectedBy"])
	assert.Equal(t, "OUTROS", server["rejectionReason"])
	assert.Equal(t, "2026-03-17T12:30:00Z", server["statusUpdateDateTime"])

	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "accepted"), Value: 1},
		{Attributes: reportAttrs("credit_portability", "CLIENT", "accepted"), Value: 1},
		{Attributes: reportAttrs("credit_portability", "SERVER", "accepted"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestCreditPortabilityPathsAreConfigurable(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.CreditPortabilityClientPath = "/pcm/cp/client"
	cfg.CreditPortabilityServerPath = "/pcm/cp/server"
	exp, _ := startExporter(t, cfg)
	require.NoError(t, exp.pushTraces(context.Background(), traces(portabilityProposal(), portabilityStatusRead())))
	got := pcm.delivered()
	assert.Len(t, got["/pcm/cp/client"], 1)
	assert.Len(t, got["/pcm/cp/server"], 1)
}

func TestCreditPortabilityDiscardedAndInvalidAreDeadLettered(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		body := accepted(r)
		if r.path == portabilityServerPath {
			body[0]["status"] = "DISCARDED"
			body[0]["message"] = "Invalid field value: rejectedBy"
			return http.StatusMultiStatus, nil, body
		}
		return http.StatusOK, nil, body
	})
	noCreation := portabilityProposal()
	delete(noCreation.attrs, mapping.AttrPortabilityCreation)
	require.NoError(t, exp.pushTraces(context.Background(), traces(noCreation, portabilityStatusRead())))

	assert.Empty(t, pcm.delivered()[portabilityClientPath], "PCM would discard it: never sent")
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	byStage := map[deadletter.Stage]deadletter.Entry{}
	for _, d := range dead {
		byStage[d.Stage] = d
		assert.Equal(t, "credit_portability", d.API)
	}
	assert.Equal(t, "Missing property: creationDateTime", byStage[deadletter.StageInvalid].Reason)
	assert.Equal(t, "Invalid field value: rejectedBy", byStage[deadletter.StageDiscarded].Reason)
	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("credit_portability", "CLIENT", "invalid"), Value: 1},
		{Attributes: reportAttrs("credit_portability", "SERVER", "discarded"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// PCM keeps credit-portability reports for 10 days, the others for 7 (docs/pcm-rules.md §12).
func TestCreditPortabilityReportsOlderThanAWeekAreStillSent(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, _ := startExporter(t, cfg)
	oldPortability, oldPrivate := portabilityStatusRead(), clientCall("GET", accountsURL, 200)
	oldPortability.age, oldPrivate.age = 9*24*time.Hour, 9*24*time.Hour
	tooOld := portabilityStatusRead()
	tooOld.age = 10*24*time.Hour + time.Hour
	_ = exp.pushTraces(context.Background(), traces(oldPortability, oldPrivate, tooOld))

	got := pcm.delivered()
	require.Len(t, got[portabilityServerPath], 1)
	assert.Equal(t, oldPortability.interactionID, got[portabilityServerPath][0]["fapiInteractionId"])
	assert.Empty(t, got[privatePath])
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	for _, d := range dead {
		assert.Equal(t, "Report is too old: timestamp", d.Reason)
	}
}

func TestCreditPortabilityReportsSurviveThePersistentQueue(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	req, err := exp.convert(context.Background(), traces(portabilityProposal(), portabilityStatusRead()))
	require.NoError(t, err)
	b := req.(*reportBatch)
	require.Len(t, b.records, 2)
	data, err := queueEncoding{}.Marshal(context.Background(), b)
	require.NoError(t, err)
	assert.Equal(t, byte(queueVersion), data[2])
	_, back, err := queueEncoding{}.Unmarshal(data)
	require.NoError(t, err)
	got := back.(*reportBatch)
	require.Empty(t, got.undecodable)
	for i := range b.records {
		assert.Equal(t, mapping.APICreditPortability, got.records[i].report.API)
		assert.Equal(t, *b.records[i].report.CreditPortability, *got.records[i].report.CreditPortability)
		assert.JSONEq(t, string(mapping.AppendJSON(nil, &b.records[i].report)), string(mapping.AppendJSON(nil, &got.records[i].report)))
	}
}

// Queues written before credit portability (version 1) are still read; a version 1 entry
// claiming a credit-portability report is not.
func TestQueueEncodingReadsVersion1(t *testing.T) {
	b := sampleBatch(t)
	data, err := queueEncoding{}.Marshal(context.Background(), b)
	require.NoError(t, err)
	data[2] = queueVersionPrivateOnly
	_, back, err := queueEncoding{}.Unmarshal(data)
	require.NoError(t, err)
	require.Empty(t, back.(*reportBatch).undecodable)
	assert.Len(t, back.(*reportBatch).records, len(b.records))

	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	req, err := exp.convert(context.Background(), traces(portabilityStatusRead()))
	require.NoError(t, err)
	data, err = queueEncoding{}.Marshal(context.Background(), req)
	require.NoError(t, err)
	data[2] = queueVersionPrivateOnly
	_, back, err = queueEncoding{}.Unmarshal(data)
	require.NoError(t, err)
	assert.Len(t, back.(*reportBatch).undecodable, 1)
}

func TestCreditPortabilityPathDefaultsAndChecks(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, portabilityClientPath, cfg.CreditPortabilityClientPath)
	assert.Equal(t, portabilityServerPath, cfg.CreditPortabilityServerPath)
	pcm := newFakePCM(t)
	cfg = pcm.config()
	cfg.CreditPortabilityClientPath = "report-api/v1/credit-portabilities/client"
	cfg.CreditPortabilityServerPath = "/report-api/v1/credit-portabilities/server?x=1"
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `credit_portability_client_path: must start with "/"`)
	assert.Contains(t, err.Error(), `credit_portability_server_path: must be a plain path`)
}
