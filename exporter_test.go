package pcmexporter

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
)

const (
	accountsURL = "https://api.banco-b.example/opbk/open-banking/accounts/v2/accounts/acc-1/balances?page=1"
	privatePath = "/report-api/v1/private/report/"
	opendata    = "/report-api/v1/opendata/report"
)

// startExporter creates and starts the exporter with its own telemetry, stopped at cleanup.
func startExporter(t *testing.T, cfg *Config) (*pcmExporter, *componenttest.Telemetry) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	exp, err := newExporter(cfg, metadatatest.NewSettings(tt))
	require.NoError(t, err)
	require.NoError(t, exp.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.shutdown(context.Background())) })
	return exp, tt
}

// pushTraces is what exporterhelper does with td without a sending queue: the door, then one
// push.
func (e *pcmExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	req, err := e.convert(ctx, td)
	if err != nil {
		return err
	}
	return e.push(ctx, req)
}

func reportAttrs(api, role, outcome string) attribute.Set {
	return exporterSet(attribute.String("api", api), attribute.String("role", role), attribute.String("outcome", outcome))
}

// exporterSet is an attribute set of the exporter's metrics: kvs plus the component id.
func exporterSet(kvs ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append(kvs, attribute.String("exporter", "pcm"))...)
}

func TestPushMapsEveryKindDeliversAndAccounts(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)

	client := clientCall("GET", accountsURL, 200)
	server := serverCall("POST", "/open-banking/consents/v3/consents", 201)
	open := spanSpec{kind: ptrace.SpanKindServer, method: "GET", path: "/open-banking/channels/v2/branches", status: 200, clientIP: "203.0.113.7"}
	health := spanSpec{kind: ptrace.SpanKindServer, method: "GET", path: "/health", status: 200}
	unlisted := clientCall("GET", "https://api.banco-b.example/open-banking/accounts/v1/accounts", 200)
	noCounterpart := clientCall("GET", "https://api.unknown.example/open-banking/accounts/v2/accounts", 200)
	internal := spanSpec{kind: ptrace.SpanKindInternal, method: "GET"}

	require.NoError(t, exp.pushTraces(context.Background(), traces(client, server, open, health, unlisted, noCounterpart, internal)))

	got := pcm.delivered()
	require.Len(t, got[privatePath], 2)
	require.Len(t, got[opendata], 1)
	c, s, o := got[privatePath][0], got[privatePath][1], got[opendata][0]

	assert.Equal(t, "CLIENT", c["role"])
	assert.Equal(t, "/open-banking/accounts/v2/accounts/{accountId}/balances", c["endpoint"])
	assert.Equal(t, "https://api.banco-b.example/opbk", c["endpointUriPrefix"])
	assert.Equal(t, client.interactionID, c["fapiInteractionId"])
	assert.Equal(t, ourOrg, c["clientOrgId"])
	assert.Equal(t, bankB, c["serverOrgId"])
	assert.Equal(t, ourSS, c["clientSSId"])
	assert.Equal(t, float64(42), c["processTimespan"])
	assert.Equal(t, map[string]any{}, c["additionalInfo"])
	assert.Len(t, c["correlationId"], 32, "the trace id")

	assert.Equal(t, "SERVER", s["role"])
	assert.Equal(t, "/open-banking/consents/v3/consents", s["endpoint"])
	assert.Equal(t, float64(201), s["statusCode"])
	assert.Equal(t, bankB, s["clientOrgId"])
	assert.Equal(t, ourOrg, s["serverOrgId"])
	for _, clientOnly := range []string{"clientSSId", "endpointUriPrefix", "correlationId"} {
		assert.NotContains(t, s, clientOnly)
	}

	assert.Equal(t, map[string]any{
		"endpoint": "/open-banking/channels/v2/branches", "statusCode": float64(200), "httpMethod": "GET",
		"timestamp": o["timestamp"], "processTimespan": float64(42), "additionalInfo": map[string]any{"clientIp": "203.0.113.7"},
	}, o)

	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	assert.Equal(t, deadletter.StageUnlisted, dead[0].Stage)
	assert.Equal(t, "Unlisted endpoint: /open-banking/accounts/v1/accounts", dead[0].Reason)
	assert.Equal(t, deadletter.StageInvalid, dead[1].Stage)
	assert.Equal(t, "Missing property: serverOrgId", dead[1].Reason)
	assert.Contains(t, string(dead[1].Report), `"endpoint":"/open-banking/accounts/v2/accounts"`)

	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "accepted"), Value: 1},
		{Attributes: reportAttrs("private", "SERVER", "accepted"), Value: 1},
		{Attributes: reportAttrs("opendata", "SERVER", "accepted"), Value: 1},
		{Attributes: reportAttrs("private", "CLIENT", "invalid"), Value: 2},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPcmSpansSkipped(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("reason", "not_open_finance")), Value: 1},
		{Attributes: exporterSet(attribute.String("reason", "span_kind")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPcmTokenRequests(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("outcome", "success")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	duration, err := tt.GetMetric("otelcol_exporter_pcm_request_duration")
	require.NoError(t, err)
	hist := duration.Data.(metricdata.Histogram[float64])
	require.Len(t, hist.DataPoints, 2, "one series per API")
	for _, dp := range hist.DataPoints {
		status, _ := dp.Attributes.Value("status_code")
		assert.Equal(t, int64(200), status.AsInt64())
		assert.Equal(t, uint64(1), dp.Count)
	}
}

func TestTwelveThousandSpansDeliveredExactlyOnceInPOSTsOfAtMost5000(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	specs := make([]spanSpec, 12000)
	want := map[string]bool{}
	for i := range specs {
		specs[i] = clientCall("GET", accountsURL, 200)
		want[specs[i].interactionID] = true
	}
	require.NoError(t, exp.pushTraces(context.Background(), traces(specs...)))

	assert.Equal(t, []int{5000, 5000, 2000}, pcm.postSizes())
	seen := map[string]int{}
	for _, item := range pcm.delivered()[privatePath] {
		seen[item["fapiInteractionId"].(string)]++
	}
	require.Len(t, seen, len(want))
	for id, n := range seen {
		require.True(t, want[id])
		require.Equal(t, 1, n, "report %s delivered more than once", id)
	}
	assert.Equal(t, 1, pcm.tokensIssued(), "one token for every POST")
}

func TestTokenIsReusedAcrossBatchesAndRefreshedBeforeExpiry(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	for i := 0; i < 3; i++ {
		require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	}
	assert.Equal(t, 1, pcm.tokensIssued())

	// A token is replaced before it expires: expiry_buffer, capped at half of a short
	// lifetime (PCM's expires_in is the remaining life of its cached token), ends its use.
	pcm2 := newFakePCM(t)
	pcm2.lifetime = 1
	exp2, _ := startExporter(t, pcm2.config())
	require.NoError(t, exp2.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	time.Sleep(600 * time.Millisecond) // still valid for 0.4 s, but inside the buffer
	require.NoError(t, exp2.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	assert.Equal(t, 2, pcm2.tokensIssued())
	tokens := map[string]bool{}
	for _, p := range pcm2.posts {
		tokens[p.token] = true
	}
	assert.Len(t, tokens, 2, "the second POST used the new token")
}

func TestUnauthorizedGetsANewTokenAndResendsOnce(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	pcm.revokeAll()
	require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	assert.Equal(t, 2, pcm.tokensIssued())
	assert.Len(t, pcm.delivered()[privatePath], 2)
}

func TestDiscardedItemsAreCountedAndDeadLetteredNotResent(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		body := accepted(r)
		body[1]["status"] = "DISCARDED"
		body[1]["message"] = "Requester id mismatch with clientOrgId"
		return http.StatusMultiStatus, nil, body
	})
	specs := []spanSpec{clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 404), clientCall("GET", accountsURL, 200)}
	require.NoError(t, exp.pushTraces(context.Background(), traces(specs...)), "a DISCARDED item is not retried")

	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, deadletter.StageDiscarded, dead[0].Stage)
	assert.Equal(t, "Requester id mismatch with clientOrgId", dead[0].Reason)
	assert.Equal(t, "r-1", dead[0].ReportID)
	assert.Contains(t, string(dead[0].Report), specs[1].interactionID, "the dead letter keeps the discarded report, not another")

	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "accepted"), Value: 2},
		{Attributes: reportAttrs("private", "CLIENT", "discarded"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestStatusPaths(t *testing.T) {
	message := func(m string) any { return map[string]string{"message": m} }
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      any
		permanent bool
		throttle  string // expected "Throttle (…)" delay in the error, when retried with Retry-After
	}{
		{name: "400 not an array", status: 400, body: message("Invalid payload format: MUST be an array"), permanent: true},
		{name: "403 forbidden", status: 403, body: message("Forbidden"), permanent: true},
		{name: "406 not acceptable", status: 406, body: message("Content type not accepted"), permanent: true},
		{name: "415 media type", status: 415, body: message("Unsupported Media Type"), permanent: true},
		{name: "429 with Retry-After", status: 429, header: http.Header{"Retry-After": {"7"}}, body: message("Too Many Requests"), throttle: "Throttle (7s)"},
		{name: "503 with Retry-After", status: 503, header: http.Header{"Retry-After": {"30"}}, body: message("Service Unavailable"), throttle: "Throttle (30s)"},
		{name: "503 without Retry-After", status: 503, body: message("Service Unavailable")},
		{name: "500", status: 500, body: message("Internal Server Error")},
		{name: "502", status: 502, body: "bad gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm := newFakePCM(t)
			cfg := pcm.config()
			exp, tel := startExporter(t, cfg)
			pcm.setAnswer(func(int, *received) (int, http.Header, any) { return tt.status, tt.header, tt.body })
			td := traces(clientCall("GET", accountsURL, 200), serverCall("GET", "/open-banking/consents/v3/consents/c-1", 200))

			err := exp.pushTraces(context.Background(), td)
			require.Error(t, err)
			dead, readErr := deadletter.Read(cfg.DeadLetter.Path)
			if tt.permanent {
				// Permanent: dead-lettered and counted; nothing is handed back for retry.
				require.NoError(t, readErr)
				require.Len(t, dead, 2)
				assert.Equal(t, deadletter.StageRejected, dead[0].Stage)
				assert.Contains(t, dead[0].Reason, fmt.Sprint(tt.status))
				metadatatest.AssertEqualExporterPcmReports(t, tel, []metricdata.DataPoint[int64]{
					{Attributes: reportAttrs("private", "CLIENT", "failed"), Value: 1},
					{Attributes: reportAttrs("private", "SERVER", "failed"), Value: 1},
				}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
				return
			}
			require.False(t, consumererror.IsPermanent(err), "%v", err)
			assert.Empty(t, dead, "a retryable failure dead-letters nothing")
			var failed *heldError
			require.ErrorAs(t, err, &failed)
			assert.Equal(t, 2, failed.left.ItemsCount(), "both spans go back for retry")
			if tt.throttle != "" {
				assert.Contains(t, err.Error(), tt.throttle)
			}
		})
	}
}

func TestPermanentRefusalIsPermanentForExporterhelper(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	pcm.setAnswer(func(int, *received) (int, http.Header, any) {
		return 403, nil, map[string]string{"message": "Forbidden"}
	})
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	// The reports are in the dead letter; exporterhelper must count them as failed and not retry.
	require.True(t, consumererror.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "403")
}

func TestRecordLimitSplitsTheBatch(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		if len(r.items) > 2 {
			return http.StatusRequestEntityTooLarge, nil, map[string]string{"message": "Record limit exceeded"}
		}
		return http.StatusOK, nil, nil
	})
	specs := make([]spanSpec, 7)
	for i := range specs {
		specs[i] = clientCall("GET", accountsURL, 200)
	}
	require.NoError(t, exp.pushTraces(context.Background(), traces(specs...)))
	items := pcm.delivered()[privatePath]
	require.Len(t, items, 7)
	for i, item := range items {
		assert.Equal(t, specs[i].interactionID, item["fapiInteractionId"], "order and exactly-once after splitting")
	}
	for _, n := range pcm.postSizes() {
		assert.LessOrEqual(t, n, 2)
	}
}

func TestPartialFailureHandsBackOnlyUndeliveredSpans(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.MaxBatchSize = 2
	exp, _ := startExporter(t, cfg)
	pcm.setAnswer(func(call int, _ *received) (int, http.Header, any) {
		if call == 2 {
			return http.StatusServiceUnavailable, nil, map[string]string{"message": "Service Unavailable"}
		}
		return http.StatusOK, nil, nil
	})
	specs := []spanSpec{
		clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200),
		clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200),
		{kind: ptrace.SpanKindServer, method: "GET", path: "/open-banking/channels/v2/branches", status: 200},
	}
	err := exp.pushTraces(context.Background(), traces(specs...))
	var failed *heldError
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 4, failed.left.ItemsCount(), "3 private spans after the failing POST and the opendata span")

	require.NoError(t, exp.push(context.Background(), failed.left))
	got := pcm.delivered()
	var ids []any
	for _, item := range got[privatePath] {
		ids = append(ids, item["fapiInteractionId"])
	}
	var want []any
	for _, s := range specs[:5] {
		want = append(want, s.interactionID)
	}
	assert.Equal(t, want, ids, "every private report exactly once, in order")
	assert.Len(t, got[opendata], 1)
}

func TestTokenFailuresAreRetryableAndCounted(t *testing.T) {
	pcm := newFakePCM(t)
	exp, tt := startExporter(t, pcm.config())
	pcm.mu.Lock()
	pcm.tokenErr = http.StatusInternalServerError
	pcm.mu.Unlock()
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	require.Error(t, err)
	require.False(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "obtaining PCM token")

	pcm.mu.Lock()
	pcm.tokenErr = 0
	pcm.mu.Unlock()
	require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	metadatatest.AssertEqualExporterPcmTokenRequests(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("outcome", "failure")), Value: 1},
		{Attributes: exporterSet(attribute.String("outcome", "success")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestTokenServerRefusesACertificateFromAnotherCA(t *testing.T) {
	pcm := newFakePCM(t)
	other := newFakePCM(t) // its client certificate is issued by a different CA
	cfg := pcm.config()
	cfg.Token.TLS.CertFile = other.config().Token.TLS.CertFile
	cfg.Token.TLS.KeyFile = other.config().Token.TLS.KeyFile
	exp, _ := startExporter(t, cfg)
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	require.Error(t, err)
	require.False(t, consumererror.IsPermanent(err), "a certificate problem may be fixed by rotation: keep the data")
	assert.Contains(t, err.Error(), "obtaining PCM token")
	assert.Equal(t, 0, pcm.tokensIssued())
}

func TestTokenNeverAppearsInErrorsOrDeadLetters(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, _ := startExporter(t, cfg)
	// A server that echoes the token back must not make us write it anywhere.
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		return http.StatusBadRequest, nil, map[string]string{"message": "bad token " + r.token}
	})
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "tok-1")
	dead, readErr := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, readErr)
	require.Len(t, dead, 1)
	assert.NotContains(t, dead[0].Reason, "tok-1")
}

// TestThroughExporterhelperRetriesUntilDelivered runs the factory-built exporter (no queue, so
// ConsumeTraces waits) through a PCM that fails twice, and checks one delivery per report.
func TestThroughExporterhelperRetriesUntilDelivered(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 10 * time.Second
	pcm.setAnswer(func(call int, _ *received) (int, http.Header, any) {
		if call <= 2 {
			return http.StatusInternalServerError, nil, map[string]string{"message": "Internal Server Error"}
		}
		return http.StatusOK, nil, nil
	})
	exp, err := NewFactory().CreateTraces(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	specs := []spanSpec{clientCall("GET", accountsURL, 200), serverCall("GET", "/open-banking/consents/v3/consents/c-9", 200)}
	require.NoError(t, exp.ConsumeTraces(context.Background(), traces(specs...)))
	items := pcm.delivered()[privatePath]
	require.Len(t, items, 2)
	assert.Equal(t, specs[0].interactionID, items[0]["fapiInteractionId"])
	assert.Equal(t, specs[1].interactionID, items[1]["fapiInteractionId"])
}

func TestStartFailsWithTheKeyOfABadCertificate(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.Token.TLS.CertFile = "/nonexistent/transport.crt"
	exp, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	err = exp.start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "token.tls:")
	require.NoError(t, exp.shutdown(context.Background()))
}

func TestCreateFailsOnABadEndpointsFile(t *testing.T) {
	cfg := newFakePCM(t).config()
	cfg.EndpointsFile = "/nonexistent/endpoints.json"
	_, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.ErrorContains(t, err, "endpoints_file:")
}

func TestOneOversizedReportIsRefusedAloneAndTheRestDelivered(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)
	specs := []spanSpec{clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200)}
	huge := specs[1].interactionID
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		for _, it := range r.items {
			if it["fapiInteractionId"] == huge {
				return http.StatusRequestEntityTooLarge, nil, map[string]string{"message": "Record limit exceeded"}
			}
		}
		return http.StatusOK, nil, nil
	})
	err := exp.pushTraces(context.Background(), traces(specs...))
	require.True(t, consumererror.IsPermanent(err), "%v", err)
	items := pcm.delivered()[privatePath]
	require.Len(t, items, 2)
	assert.Equal(t, specs[0].interactionID, items[0]["fapiInteractionId"])
	assert.Equal(t, specs[2].interactionID, items[1]["fapiInteractionId"])
	dead, readErr := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, readErr)
	require.Len(t, dead, 1)
	assert.Contains(t, string(dead[0].Report), huge)
	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "accepted"), Value: 2},
		{Attributes: reportAttrs("private", "CLIENT", "failed"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
