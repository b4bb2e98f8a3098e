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
	want := map[[2]string]int64{}
	want[[2]string{sla.TransactionDay(recentStart), sla.Classify(recentStart, now)}]++
	want[[2]string{sla.TransactionDay(oldStart), sla.D7}]++
	var dps []metricdata.DataPoint[int64]
	for k, v := range want {
		dps = append(dps, metricdata.DataPoint[int64]{Attributes: exporterSet(
			attribute.String("transaction_day", k[0]), attribute.String("deadline", k[1])), Value: v})
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
