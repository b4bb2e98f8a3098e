package pcmexporter

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/metadatatest"
)

func unavailable(int, *received) (int, http.Header, any) {
	return http.StatusServiceUnavailable, nil, map[string]string{"message": "Service Unavailable"}
}

// createFromFactory builds the exporter as the collector does (exporterhelper around it) with
// its own telemetry, and starts it.
func createFromFactory(t *testing.T, cfg *Config) (*componenttest.Telemetry, func(context.Context) error, func(context.Context, ...spanSpec) error) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	exp, err := NewFactory().CreateTraces(context.Background(), metadatatest.NewSettings(tt), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	consume := func(ctx context.Context, specs ...spanSpec) error { return exp.ConsumeTraces(ctx, traces(specs...)) }
	return tt, exp.Shutdown, consume
}

// TestDefaultRetryHasNoTimeLimit: by default a report waits for PCM's own 7-day limit, not
// for a retry budget (docs/pcm-rules.md §15.3).
func TestDefaultRetryHasNoTimeLimit(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.True(t, cfg.RetryConfig.Enabled)
	assert.Zero(t, cfg.RetryConfig.MaxElapsedTime)
	cfg.RetryConfig.MaxElapsedTime = time.Hour
	assert.Zero(t, helperRetryConfig(cfg.RetryConfig).MaxElapsedTime, "exporterhelper never gets a budget to drop data with")
	assert.Equal(t, time.Hour, cfg.RetryConfig.MaxElapsedTime, "the user's setting is kept for the exporter")
}

// TestRetryAfterLongerThanTheBudgetIsWaitedFor: PCM asks to wait longer than
// retry_on_failure.max_elapsed_time. exporterhelper used to drop the data at once ("no more
// retries left"); now it waits and the report is delivered.
func TestRetryAfterLongerThanTheBudgetIsWaitedFor(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]() // ConsumeTraces waits for the outcome
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 300 * time.Millisecond
	pcm.setAnswer(func(call int, _ *received) (int, http.Header, any) {
		if call == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": []string{"1"}}, map[string]string{"message": "Too Many Requests"}
		}
		return http.StatusOK, nil, nil
	})
	_, shutdown, consume := createFromFactory(t, cfg)
	defer func() { require.NoError(t, shutdown(context.Background())) }()
	call := clientCall("GET", accountsURL, 200)
	require.NoError(t, consume(context.Background(), call))
	items := pcm.delivered()[privatePath]
	require.Len(t, items, 1)
	assert.Equal(t, call.interactionID, items[0]["fapiInteractionId"])
}

// TestRetryBudgetRunsOutIntoTheDeadLetter: a report failing for longer than
// retry_on_failure.max_elapsed_time is dead-lettered with its stage and counted, never dropped.
func TestRetryBudgetRunsOutIntoTheDeadLetter(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.RetryConfig.MaxElapsedTime = time.Hour
	exp, tt := startExporter(t, cfg)
	pcm.setAnswer(unavailable)
	start := time.Now()
	exp.now = func() time.Time { return start }
	call := clientCall("GET", accountsURL, 200)
	td := traces(call)
	err := exp.pushTraces(context.Background(), td)
	var failed *heldError
	require.ErrorAs(t, err, &failed)

	exp.now = func() time.Time { return start.Add(59 * time.Minute) }
	require.ErrorAs(t, exp.push(context.Background(), failed.left), &failed, "inside the budget: retried")

	exp.now = func() time.Time { return start.Add(61 * time.Minute) }
	err = exp.push(context.Background(), failed.left)
	require.True(t, consumererror.IsPermanent(err), "given up: %v", err)

	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, deadletter.StageRetryExhausted, dead[0].Stage)
	assert.Contains(t, dead[0].Reason, "max_elapsed_time (1h0m0s)")
	assert.Contains(t, dead[0].Reason, "503")
	assert.Contains(t, string(dead[0].Report), call.interactionID)
	metadatatest.AssertEqualExporterPcmDeadLetters(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("stage", "retry_exhausted")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPcmReports(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: reportAttrs("private", "CLIENT", "failed"), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	oldest, _ := exp.backlog.Stats(time.Now(), atRiskAge)
	assert.True(t, oldest.IsZero(), "given up: no longer in the backlog")
}

// TestRetryDisabledDeadLettersAtTheFirstFailure: without retries exporterhelper drops what
// fails; the exporter dead-letters it instead.
func TestRetryDisabledDeadLettersAtTheFirstFailure(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.RetryConfig.Enabled = false
	exp, _ := startExporter(t, cfg)
	pcm.setAnswer(unavailable)
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	require.True(t, consumererror.IsPermanent(err), "%v", err)
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, deadletter.StageRetryExhausted, dead[0].Stage)
	assert.Contains(t, dead[0].Reason, "retry_on_failure is disabled")
}

// TestShutdownWhileRetryingFromAnInMemoryQueueDeadLetters: the collector stops while a report
// waits for its next retry in the in-memory queue. exporterhelper drops it without calling the
// exporter again; the exporter dead-letters it with stage "shutdown".
func TestShutdownWhileRetryingFromAnInMemoryQueueDeadLetters(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	q := cfg.QueueConfig.Get()
	q.Batch.Get().FlushTimeout = 10 * time.Millisecond
	cfg.RetryConfig.InitialInterval = time.Hour // the report sits in the backoff wait at shutdown
	cfg.RetryConfig.MaxInterval = time.Hour
	pcm.setAnswer(unavailable)
	tt, shutdown, consume := createFromFactory(t, cfg)
	specs := []spanSpec{clientCall("GET", accountsURL, 200), serverCall("GET", "/open-banking/consents/v3/consents/c-1", 200)}
	require.NoError(t, consume(context.Background(), specs...), "queued")
	require.Eventually(t, func() bool {
		pcm.mu.Lock()
		defer pcm.mu.Unlock()
		return pcm.calls >= 1
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, shutdown(context.Background()))

	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	for i, d := range dead {
		assert.Equal(t, deadletter.StageShutdown, d.Stage)
		assert.Contains(t, string(d.Report), specs[i].interactionID)
	}
	metadatatest.AssertEqualExporterPcmDeadLetters(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("stage", "shutdown")), Value: 2},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestDeliveredReportsAreNotDeadLetteredAtShutdown: what a retry delivered is forgotten.
func TestDeliveredReportsAreNotDeadLetteredAtShutdown(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	q := cfg.QueueConfig.Get()
	q.Batch.Get().FlushTimeout = 10 * time.Millisecond
	cfg.RetryConfig.InitialInterval = 20 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 20 * time.Millisecond
	pcm.setAnswer(func(call int, _ *received) (int, http.Header, any) {
		if call == 1 {
			return unavailable(call, nil)
		}
		return http.StatusOK, nil, nil
	})
	_, shutdown, consume := createFromFactory(t, cfg)
	require.NoError(t, consume(context.Background(), clientCall("GET", accountsURL, 200)))
	require.Eventually(t, func() bool { return len(pcm.delivered()[privatePath]) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, shutdown(context.Background()))
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

// TestAnswersThatAreNotPCMsConfirmNothing: a 2xx whose body is not PCM's per-item answer, or an
// item whose status PCM does not document, delivers nothing (docs/pcm-rules.md §15.1): the
// reports go back for retry, counted as unconfirmed, never as accepted, and the retry delivers
// exactly the unconfirmed ones.
func TestAnswersThatAreNotPCMsConfirmNothing(t *testing.T) {
	tests := []struct {
		name   string
		answer answer
		retry  []int // indexes of the reports handed back
	}{
		{"a proxy's page", func(int, *received) (int, http.Header, any) {
			return http.StatusOK, nil, "<html><body>Request blocked</body></html>"
		}, []int{0, 1, 2}},
		{"an array shorter than the request", func(_ int, r *received) (int, http.Header, any) {
			return http.StatusOK, nil, accepted(r)[:2]
		}, []int{0, 1, 2}},
		{"items without a status or with an undocumented one", func(_ int, r *received) (int, http.Header, any) {
			body := accepted(r)
			delete(body[0], "status")
			body[2]["status"] = "QUEUED"
			return http.StatusOK, nil, body
		}, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm := newFakePCM(t)
			cfg := pcm.config()
			exp, tel := startExporter(t, cfg)
			pcm.setAnswer(tt.answer)
			specs := []spanSpec{clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200)}
			err := exp.pushTraces(context.Background(), traces(specs...))
			var failed *heldError
			require.ErrorAs(t, err, &failed)
			require.False(t, consumererror.IsPermanent(err))
			require.Equal(t, len(tt.retry), failed.left.ItemsCount())

			pcm.setAnswer(nil)
			before := len(pcm.delivered()[privatePath])
			require.NoError(t, exp.push(context.Background(), failed.left))
			resent := pcm.delivered()[privatePath][before:]
			require.Len(t, resent, len(tt.retry))
			for i, idx := range tt.retry {
				assert.Equal(t, specs[idx].interactionID, resent[i]["fapiInteractionId"])
			}
			confirmedFirst := int64(3 - len(tt.retry))
			want := []metricdata.DataPoint[int64]{
				{Attributes: reportAttrs("private", "CLIENT", "unconfirmed"), Value: int64(len(tt.retry))},
				{Attributes: reportAttrs("private", "CLIENT", "accepted"), Value: confirmedFirst + int64(len(tt.retry))},
			}
			metadatatest.AssertEqualExporterPcmReports(t, tel, want, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
			dead, err := deadletter.Read(cfg.DeadLetter.Path)
			require.NoError(t, err)
			assert.Empty(t, dead)
		})
	}
}

// TestFreshTokenURLThatFailsFallsBackToTheTokenURL: token.fresh_url (docs/pcm-rules.md §15.9)
// that is not implemented never leaves the exporter without a token.
func TestFreshTokenURLThatFailsFallsBackToTheTokenURL(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.Token.FreshURL = pcm.token.URL + "/token-fresh/" // the fake answers 404 there
	exp, tel := startExporter(t, cfg)
	pcm.setAnswer(func(call int, r *received) (int, http.Header, any) {
		if call == 1 {
			pcm.revokeAll() // the next POST's token is refused: 401 → new token, from fresh_url first
			return http.StatusUnauthorized, nil, map[string]string{"message": "Unauthorized"}
		}
		return http.StatusOK, nil, nil
	})
	require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))))
	assert.Len(t, pcm.delivered()[privatePath], 1)
	m, err := tel.GetMetric("otelcol_exporter_pcm_token_requests")
	require.NoError(t, err)
	outcomes := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		o, _ := dp.Attributes.Value("outcome")
		outcomes[o.AsString()] += dp.Value
	}
	assert.Equal(t, int64(1), outcomes["fresh_fallback"], "%v", outcomes)
	assert.Zero(t, outcomes["failure"], "%v", outcomes)
}

// TestDeadLetterWriteFailureIsCountedAndLosesNothing: while the dead-letter path cannot be
// written (here a directory sits where the file was), entries wait in memory, are counted, and
// reach the file, in order, once it can be written again.
func TestDeadLetterWriteFailureIsCountedAndLosesNothing(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, tt := startExporter(t, cfg)
	unlisted := func() spanSpec {
		return clientCall("GET", "https://api.banco-b.example/open-banking/accounts/v1/accounts", 200)
	}
	first, second := unlisted(), unlisted()
	require.NoError(t, os.RemoveAll(cfg.DeadLetter.Path))
	require.NoError(t, os.Mkdir(cfg.DeadLetter.Path, 0o700))
	_ = exp.pushTraces(context.Background(), traces(first))
	metadatatest.AssertEqualExporterPcmDeadLetterWriteFailures(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("outcome", "buffered")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	require.NoError(t, os.Remove(cfg.DeadLetter.Path))
	_ = exp.pushTraces(context.Background(), traces(second))
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	assert.Contains(t, string(dead[0].Report), first.interactionID)
	assert.Contains(t, string(dead[1].Report), second.interactionID)
	info, err := os.Stat(cfg.DeadLetter.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "it holds client IPs")
}

// TestCorrectedReportsAreSentAndCounted: values PCM's schema cannot take do not sink the report
// (docs/pcm-rules.md §15.6, §15.7): the report is sent corrected and each fix is counted.
func TestCorrectedReportsAreSentAndCounted(t *testing.T) {
	pcm := newFakePCM(t)
	exp, tt := startExporter(t, pcm.config())
	td := traces(clientCall("GET", accountsURL, 200))
	attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	attrs.PutBool("pcm.additional_info.webhookEnable", true)                 // converted to "TRUE"
	attrs.PutEmptyMap("pcm.additional_info.consentId").PutStr("nested", "x") // cannot be a string: left out
	attrs.PutStr("pcm.correlation_id", "not allowed: <script>")              // breaks PCM's pattern
	require.NoError(t, exp.pushTraces(context.Background(), td))

	items := pcm.delivered()[privatePath]
	require.Len(t, items, 1)
	assert.Equal(t, map[string]any{"webhookEnable": "TRUE"}, items[0]["additionalInfo"])
	assert.Equal(t, td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID().String(), items[0]["correlationId"])
	metadatatest.AssertEqualExporterPcmReportFixes(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("fix", "additional_info_converted")), Value: 1},
		{Attributes: exporterSet(attribute.String("fix", "additional_info_dropped")), Value: 1},
		{Attributes: exporterSet(attribute.String("fix", "correlation_id_replaced")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestReportsWithoutAnObligedKeyAreCounted: an accepted report that lacks an additionalInfo key
// PCM obliges (mapping/obligations.json, docs/pcm-rules.md §6) is counted per endpoint and key,
// so that an operator sees what the instrumentation does not fill.
func TestReportsWithoutAnObligedKeyAreCounted(t *testing.T) {
	pcm := newFakePCM(t)
	exp, tt := startExporter(t, pcm.config())
	filled := traces(clientCall("GET", accountsURL, 200))
	attrs := filled.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	attrs.PutStr("pcm.additional_info.consentId", "urn:bancob:C1")
	attrs.PutStr("pcm.additional_info.tokenId", "c9ng8aKzxNXm")
	require.NoError(t, exp.pushTraces(context.Background(), filled))
	require.NoError(t, exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200), clientCall("GET", accountsURL, 200))))
	const balances = "/open-banking/accounts/v2/accounts/{accountId}/balances"
	metadatatest.AssertEqualExporterPcmReportsMissingAdditionalInfo(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: exporterSet(attribute.String("endpoint", balances), attribute.String("key", "consentId")), Value: 2},
		{Attributes: exporterSet(attribute.String("endpoint", balances), attribute.String("key", "tokenId")), Value: 2},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
