package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/directory"
	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/internal/watch"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// pcmExporter wires the pure mapping to the PCM client: span → report → local validation →
// batches per API → POST → per-item accounting. Whatever will never be accepted as it is
// goes to the dead letter; whatever was not delivered goes back to exporterhelper for retry.
type pcmExporter struct {
	cfg       *Config
	settings  exporter.Settings
	logger    *zap.Logger
	sampled   *zap.Logger // per-report warnings, rate-limited
	mapper    *mapping.Mapper
	validator mapping.Validator
	// obligations are the additionalInfo keys PCM obliges: accepted reports without one are
	// counted, so that an operator sees which keys the instrumentation does not fill.
	obligations *mapping.Obligations
	telemetry   *metadata.TelemetryBuilder
	backlog     *sla.Backlog // reports tried and not yet accepted
	resolver    *directoryResolver
	inRetry     *retryRegistry // spans waiting for a retry in an in-memory queue
	now         func() time.Time

	// set in start
	clients    *pcmconfig.PCMClients
	deadLetter *deadletter.Writer
	watcher    *watch.Watcher    // nil unless reconciliation_watch.enabled
	directory  *directory.Source // nil unless counterparts.directory is set
	record     *deliveryRecord   // nil unless sending_queue.storage is set
}

func newExporter(cfg *Config, set exporter.Settings) (*pcmExporter, error) {
	resolver := &directoryResolver{}
	mapper, validator, err := pcmconfig.Mapping(cfg, resolver)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	logger := set.Logger
	e := &pcmExporter{
		cfg:         cfg,
		settings:    set,
		logger:      logger,
		sampled:     logger.WithOptions(zap.WrapCore(rateLimited)),
		mapper:      mapper,
		validator:   validator,
		obligations: mapping.DefaultObligations(),
		telemetry:   tb,
		backlog:     sla.NewBacklog(backlogLimit),
		resolver:    resolver,
		inRetry:     newRetryRegistry(cfg.QueueConfig.HasValue() && cfg.QueueConfig.Get().StorageID == nil),
		now:         time.Now,
	}
	if err := e.registerSLAGauges(); err != nil {
		return nil, err
	}
	return e, nil
}

// backlogLimit bounds the memory the SLA backlog may take (about 100 bytes a report).
const backlogLimit = 1_000_000

// atRiskAge is when an undelivered report counts as at risk of PCM's 7-day limit.
const atRiskAge = 6 * 24 * time.Hour

func (e *pcmExporter) registerSLAGauges() error {
	if err := e.telemetry.RegisterExporterPcmSLAOldestUndeliveredAgeCallback(func(_ context.Context, o metric.Float64Observer) error {
		now := e.now()
		oldest, _ := e.backlog.Stats(now, atRiskAge)
		age := 0.0
		if !oldest.IsZero() {
			age = now.Sub(oldest).Seconds()
		}
		o.Observe(age, e.attrs())
		return nil
	}); err != nil {
		return err
	}
	return e.telemetry.RegisterExporterPcmSLAReportsAtRiskCallback(func(_ context.Context, o metric.Int64Observer) error {
		_, risky := e.backlog.Stats(e.now(), atRiskAge)
		o.Observe(int64(risky), e.attrs())
		return nil
	})
}

// rateLimited lets the first 5 entries with the same message through per minute, then every
// 1000th: a misconfigured counterpart map must not flood the collector's log.
func rateLimited(core zapcore.Core) zapcore.Core {
	return zapcore.NewSamplerWithOptions(core, time.Minute, 5, 1000)
}

func (e *pcmExporter) start(ctx context.Context, host component.Host) error {
	if e.cfg.ClientConfig.TLS.InsecureSkipVerify {
		e.logger.Warn("tls.insecure_skip_verify is set: the PCM API server certificate is not verified; never use this in production")
	}
	if e.cfg.Token.TLS.InsecureSkipVerify {
		e.logger.Warn("token.tls.insecure_skip_verify is set: the PCM token server certificate is not verified; never use this in production")
	}
	clients, err := pcmconfig.NewPCMClients(ctx, e.cfg, host, e.settings.TelemetrySettings, pcmconfig.ClientHooks{
		OnTokenRequest: e.onTokenRequest,
		OnResponse:     e.onResponse,
		UserAgent:      userAgent(e.settings.BuildInfo),
		Logger:         e.logger,
	})
	if err != nil {
		return err
	}
	e.clients = clients
	if e.record, err = openDeliveryRecord(ctx, host, e.cfg, e.settings.ID); errors.Is(err, errDamagedRecord) {
		e.logger.Error("sending_queue.storage: delivery record", zap.Error(err))
	} else if err != nil {
		return err
	}
	if e.cfg.DeadLetter.Path != "" {
		if e.deadLetter, err = deadletter.OpenWithOptions(e.cfg.DeadLetter.Path, e.cfg.DeadLetter.WriterOptions(e.logger)); err != nil {
			return fmt.Errorf("dead_letter.path: %w", err)
		}
	}
	if err := e.startDirectory(ctx, host); err != nil {
		return err
	}
	if w := e.cfg.ReconciliationWatch; w.Enabled {
		e.watcher = watch.New(pcmconfig.WatchSettings(w), e.lookupReport, e.onReconciliation)
		e.watcher.Start()
	}
	return nil
}

func (e *pcmExporter) lookupReport(ctx context.Context, interactionID string) (string, bool, error) {
	model, err := e.clients.API.GetReport(ctx, e.cfg.PrivateReportPath, interactionID)
	if pcmapi.IsNotFound(err) {
		return "", true, nil
	}
	if err != nil {
		e.sampled.Warn("Reconciliation watch could not look a report up", zap.Error(err))
		return "", false, err
	}
	return model.Status, false, nil
}

func (e *pcmExporter) onReconciliation(r watch.Report, status string) {
	e.telemetry.ExporterPcmReconciliation.Add(context.Background(), 1, e.attrs(
		attribute.String("endpoint", r.Endpoint), attribute.String("method", r.Method), attribute.String("status", reconciliationStatus(status))))
}

func (e *pcmExporter) shutdown(ctx context.Context) error {
	// exporterhelper has stopped its retries and drained its queue before calling this.
	e.deadLetterUnsent()
	if e.watcher != nil {
		e.watcher.Stop()
	}
	if e.directory != nil {
		_ = e.directory.Shutdown(ctx)
	}
	if e.clients != nil {
		e.clients.Close()
	}
	var err error
	if e.record != nil {
		err = e.record.close(ctx)
	}
	if e.deadLetter != nil {
		dErr := e.deadLetter.Close()
		e.onDeadLetterError(dErr)
		err = errors.Join(err, dErr)
	}
	e.telemetry.Shutdown()
	return err
}

// deadLetterUnsent dead-letters the reports that were waiting for a retry in the in-memory
// queue when the collector stopped: exporterhelper drops them without a word.
func (e *pcmExporter) deadLetterUnsent() {
	f := e.newFates()
	n := 0
	for _, b := range e.inRetry.drain() {
		for _, rec := range b.records {
			f.deadLettered(rec, deadletter.StageShutdown,
				"the collector stopped while the report waited for a retry in the in-memory sending queue")
		}
		n += len(b.records)
	}
	if n > 0 {
		e.logger.Error("The collector stopped while reports waited for a retry in the in-memory sending queue; they are dead-lettered. "+
			"Configure sending_queue.storage (file_storage) to keep them across restarts.", zap.Int("reports", n))
	}
	f.flush()
}

func userAgent(info component.BuildInfo) string {
	return fmt.Sprintf("%s/%s pcmexporter", info.Command, info.Version)
}

// attrs adds the exporter's component id, as exporterhelper does, so that the instances of
// a conglomerate (pcm/bank_a, pcm/bank_b) have their own series.
func (e *pcmExporter) attrs(kvs ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(append(kvs, attribute.String("exporter", e.settings.ID.String()))...))
}

func (e *pcmExporter) onTokenRequest(outcome string, err error) {
	e.telemetry.ExporterPcmTokenRequests.Add(context.Background(), 1,
		e.attrs(attribute.String("outcome", outcome)))
	switch {
	case outcome == pcmapi.OutcomeFreshFallback:
		e.sampled.Warn("token.fresh_url failed; the token is fetched from token.url instead",
			zap.String("fresh_url", e.cfg.Token.FreshURL), zap.Error(err))
	case err != nil:
		// The cause is part of the message so that the rate limit (per message) still lets a
		// change of cause through during a long outage.
		e.sampled.Error("Could not obtain a PCM token ("+tokenFailureKind(err)+"); reports stay queued and are retried",
			zap.String("token_url", pcmconfig.TokenURL(e.cfg)), zap.Error(err))
	}
}

// tokenFailureKind is a short, bounded description of why a token request failed.
func tokenFailureKind(err error) string {
	var te *pcmapi.TokenError
	if !errors.As(err, &te) {
		return pcmapi.TokenKindOther
	}
	switch te.Kind {
	case pcmapi.TokenKindCertificate:
		return "client certificate refused"
	case pcmapi.TokenKindHTTP:
		return fmt.Sprintf("HTTP %d", te.StatusCode)
	case pcmapi.TokenKindRedirect:
		return "redirect, not followed"
	case pcmapi.TokenKindUnreachable:
		return "token endpoint unreachable"
	case pcmapi.TokenKindAnswer:
		return "unusable token answer"
	}
	return te.Kind
}

func (e *pcmExporter) onResponse(path string, status int, d time.Duration) {
	e.telemetry.ExporterPcmRequestDuration.Record(context.Background(), d.Seconds(),
		e.attrs(attribute.String("api", e.apiOfPath(path).String()), attribute.Int("status_code", status)))
}

func (e *pcmExporter) flushCounts(c *outcomeCounts) {
	ctx := context.Background()
	for api := range c.reports {
		for role := range c.reports[api] {
			for outcome, n := range c.reports[api][role] {
				if n == 0 {
					continue
				}
				e.telemetry.ExporterPcmReports.Add(ctx, n, e.attrs(
					attribute.String("api", mapping.API(api).String()),
					attribute.String("role", mapping.Role(role).String()),
					attribute.String("outcome", outcomeNames[outcome])))
			}
		}
	}
	for reason, n := range c.skipped {
		e.telemetry.ExporterPcmSpansSkipped.Add(ctx, n, e.attrs(attribute.String("reason", string(reason))))
	}
	for r, n := range c.rejected {
		e.telemetry.ExporterPcmRejectedReports.Add(ctx, n, e.attrs(
			attribute.String("source", r.source), attribute.String("reason", r.reason)))
	}
	for f, n := range c.fixes {
		e.telemetry.ExporterPcmReportFixes.Add(ctx, n, e.attrs(attribute.String("fix", f.String())))
	}
	for g, n := range c.missingInfo {
		e.telemetry.ExporterPcmReportsMissingAdditionalInfo.Add(ctx, n, e.attrs(
			attribute.String("endpoint", g.endpoint), attribute.String("key", g.key)))
	}
	for class, n := range c.accepted {
		e.telemetry.ExporterPcmSLAAccepted.Add(ctx, n, e.attrs(
			attribute.String("transaction_day", class.day), attribute.String("deadline", class.deadline),
			attribute.String("deadline_strict", class.strict)))
	}
	*c = outcomeCounts{}
}
