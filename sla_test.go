package pcmexporter

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
	"github.com/pcm-otel/pcmexporter/internal/sla"
)

func gaugeValue[N int64 | float64](t *testing.T, tt *componenttest.Telemetry, name string) N {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err)
	points := m.Data.(metricdata.Gauge[N]).DataPoints
	require.Len(t, points, 1)
	return points[0].Value
}

// TestSLAMetricsFollowTheBacklog drives PCM down and up again and reads the SLA metrics back.
func TestSLAMetricsFollowTheBacklog(t *testing.T) {
	pcm := newFakePCM(t)
	exp, tt := startExporter(t, pcm.config())
	down := func(int, *received) (int, http.Header, any) {
		return http.StatusServiceUnavailable, nil, map[string]string{"message": "Service Unavailable"}
	}
	recent := clientCall("GET", accountsURL, 200)
	old := clientCall("GET", accountsURL, 200)
	old.age = 6*24*time.Hour + time.Hour // still inside PCM's 7 days, but at risk

	assert.Zero(t, gaugeValue[float64](t, tt, "otelcol_exporter_pcm_sla_oldest_undelivered_age"))
	recentTraces, oldTraces := traces(recent), traces(old)
	pcm.setAnswer(down)
	err := exp.pushTraces(context.Background(), recentTraces)
	require.Error(t, err)
	age := gaugeValue[float64](t, tt, "otelcol_exporter_pcm_sla_oldest_undelivered_age")
	assert.InDelta(t, 60, age, 5, "the undelivered report started a minute ago")
	assert.Zero(t, gaugeValue[int64](t, tt, "otelcol_exporter_pcm_sla_reports_at_risk"))

	require.Error(t, exp.pushTraces(context.Background(), oldTraces))
	assert.Equal(t, int64(1), gaugeValue[int64](t, tt, "otelcol_exporter_pcm_sla_reports_at_risk"))
	assert.Greater(t, gaugeValue[float64](t, tt, "otelcol_exporter_pcm_sla_oldest_undelivered_age"), float64(6*24*3600))

	// PCM is back: the retries deliver both and the backlog empties.
	pcm.setAnswer(nil)
	require.NoError(t, exp.pushTraces(context.Background(), recentTraces))
	require.NoError(t, exp.pushTraces(context.Background(), oldTraces))
	assert.Zero(t, gaugeValue[float64](t, tt, "otelcol_exporter_pcm_sla_oldest_undelivered_age"))
	assert.Zero(t, gaugeValue[int64](t, tt, "otelcol_exporter_pcm_sla_reports_at_risk"))

	now := time.Now()
	recentStart, oldStart := now.Add(-time.Minute), now.Add(-old.age)
	want := map[[3]string]int64{}
	want[[3]string{sla.TransactionDay(recentStart), sla.Classify(recentStart, now), sla.ClassifyStrict(recentStart, now)}]++
	want[[3]string{sla.TransactionDay(oldStart), sla.D7, sla.StrictMissed}]++
	var dps []metricdata.DataPoint[int64]
	for k, v := range want {
		dps = append(dps, metricdata.DataPoint[int64]{Attributes: exporterSet(
			attribute.String("transaction_day", k[0]), attribute.String("deadline", k[1]),
			attribute.String("deadline_strict", k[2])), Value: v})
	}
	metadatatest.AssertEqualExporterPcmSLAAccepted(t, tt, dps, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestRejectedReportsByErrorType(t *testing.T) {
	pcm := newFakePCM(t)
	exp, tt := startExporter(t, pcm.config())
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		body := accepted(r)
		body[0]["status"], body[0]["message"] = "DISCARDED", "Requester id mismatch with clientOrgId"
		body[1]["status"], body[1]["message"] = "DISCARDED", "something PCM never documented"
		return http.StatusMultiStatus, nil, body
	})
	missingOrg := clientCall("GET", "https://api.unknown.example/open-banking/accounts/v2/accounts", 200)
	require.NoError(t, exp.pushTraces(context.Background(), traces(
		clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200), missingOrg)))
	metadatatest.AssertEqualExporterPcmRejectedReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("source", "pcm"), attribute.String("reason", "Requester id mismatch")), Value: 1},
		{Attributes: exporterSet(attribute.String("source", "pcm"), attribute.String("reason", "other")), Value: 1},
		{Attributes: exporterSet(attribute.String("source", "local"), attribute.String("reason", "Missing property")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestPCMWordingsNameTheirErrorType feeds the wordings of docs/pcm-rules.md §4.3 (the error
// types, and the spec's own examples that do not start with one) to the reason label.
func TestPCMWordingsNameTheirErrorType(t *testing.T) {
	tests := []struct{ message, want string }{
		{"Missing property: clientOrgId", "Missing property"},
		{"Missing fields: 'fapiInteractionId'", "Missing property"},
		{"fapiInteractionId must be a UUID", "Invalid field value"},
		{"invalid format: consentId: String must contain at least 1 character(s)", "Invalid field value"},
		{"Invalid field value: statusCode", "Invalid field value"},
		{"Requester id mismatch with clientOrgId", "Requester id mismatch"},
		{"requester ID mismatch with serverOrgId", "Requester id mismatch"},
		{"Report is too old", "Report is too old"},
		{"OrganisationId doesn't exist on Directory", "OrganisationId doesn't exist on Directory"},
		{"Unlisted endpoint: /open-banking/x/v1/y", "Unlisted endpoint"},
		{"Field type mismatch: processTimespan", "Field type mismatch"},
		{"Additional property not allowed: foo", "Additional property not allowed"},
		{"Invalid payload format: MUST be an array", "Invalid payload format"},
		// Several errors joined with ";": the first names the type.
		{"Missing fields: 'endpoint'; fapiInteractionId must be a UUID", "Missing property"},
		{"   ", "other"},
		{"something PCM never documented", "other"},
		{"<html><body>Request blocked</body></html>", "other"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, errorType(tt.message), tt.message)
	}
}

func TestReconciliationStatusIsBounded(t *testing.T) {
	for in, want := range map[string]string{
		"PAIRED": "PAIRED", "PAIRED ": "PAIRED", "paired_inconsistent": "PAIRED_INCONSISTENT", "UNPAIRED": "UNPAIRED",
		"SINGLE": "SINGLE", "ACCEPTED": "ACCEPTED", "DISCARDED": "DISCARDED", "NOT_FOUND": "NOT_FOUND", "ERROR": "ERROR",
		"": "other", "PAIRED\nINJECTED": "other", "<html>": "other", "PENDING": "other",
	} {
		assert.Equal(t, want, reconciliationStatus(in), "%q", in)
	}
}
