package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/directory"
	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
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
	telemetry *metadata.TelemetryBuilder
	backlog   *sla.Backlog // reports tried and not yet accepted
	resolver  *directoryResolver
	now       func() time.Time

	// set in start
	clients    *PCMClients
	deadLetter *deadletter.Writer
	watcher    *watch.Watcher    // nil unless reconciliation_watch.enabled
	directory  *directory.Source // nil unless counterparts.directory is set
}

func newExporter(cfg *Config, set exporter.Settings) (*pcmExporter, error) {
	resolver := &directoryResolver{}
	mapper, validator, err := cfg.Mapping(resolver)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	logger := set.Logger
	e := &pcmExporter{
		cfg:       cfg,
		settings:  set,
		logger:    logger,
		sampled:   logger.WithOptions(zap.WrapCore(rateLimited)),
		mapper:    mapper,
		validator: validator,
		telemetry: tb,
		backlog:   sla.NewBacklog(backlogLimit),
		resolver:  resolver,
		now:       time.Now,
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
	clients, err := e.cfg.NewPCMClients(ctx, host, e.settings.TelemetrySettings, ClientHooks{
		OnTokenRequest: e.onTokenRequest,
		OnResponse:     e.onResponse,
		UserAgent:      userAgent(e.settings.BuildInfo),
		Logger:         e.logger,
	})
	if err != nil {
		return err
	}
	e.clients = clients
	if e.cfg.DeadLetter.Path != "" {
		if e.deadLetter, err = deadletter.Open(e.cfg.DeadLetter.Path); err != nil {
			return fmt.Errorf("dead_letter.path: %w", err)
		}
	}
	if err := e.startDirectory(ctx, host); err != nil {
		return err
	}
	if w := e.cfg.ReconciliationWatch; w.Enabled {
		e.watcher = watch.New(watch.Config{
			SampleRatio: w.SampleRatio, Delay: w.Delay, Rate: w.RateLimit, MaxPending: w.MaxPending, Attempts: w.Attempts,
		}, e.lookupReport, e.onReconciliation)
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
	if e.deadLetter != nil {
		err = e.deadLetter.Close()
	}
	e.telemetry.Shutdown()
	return err
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
	if err != nil {
		// The cause is part of the message so that the rate limit (per message) still lets a
		// change of cause through during a long outage.
		e.sampled.Error("Could not obtain a PCM token ("+tokenFailureKind(err)+"); reports stay queued and are retried",
			zap.String("token_url", e.cfg.TokenURL()), zap.Error(err))
	}
}

// tokenFailureKind is a short, bounded description of why a token request failed.
func tokenFailureKind(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate"):
		return "client certificate refused"
	case strings.Contains(msg, "answered HTTP "):
		code := msg[strings.Index(msg, "answered HTTP ")+len("answered HTTP "):]
		if i := strings.IndexByte(code, ':'); i >= 0 {
			code = code[:i]
		}
		return "HTTP " + code
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"):
		return "token endpoint unreachable"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline exceeded"):
		return "timeout"
	}
	return "other"
}

func (e *pcmExporter) onResponse(path string, status int, d time.Duration) {
	e.telemetry.ExporterPcmRequestDuration.Record(context.Background(), d.Seconds(),
		e.attrs(attribute.String("api", e.apiOfPath(path).String()), attribute.Int("status_code", status)))
}

func (e *pcmExporter) apiOfPath(path string) mapping.API {
	if path == e.cfg.OpendataReportPath {
		return mapping.APIOpendata
	}
	return mapping.APIPrivate
}

func (e *pcmExporter) pathOf(api mapping.API) string {
	if api == mapping.APIOpendata {
		return e.cfg.OpendataReportPath
	}
	return e.cfg.PrivateReportPath
}

func (e *pcmExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	b := e.buildBatches(td)
	e.flushCounts(&b.counts)
	e.writeDeadLetters(b.dead)

	var undelivered []spanRef
	var retryErr, permanentErr error
	for _, api := range []mapping.API{mapping.APIPrivate, mapping.APIOpendata} {
		pending := b.pending[api]
		if pending == nil {
			continue
		}
		if retryErr != nil {
			e.remember(pending, 0)
			undelivered = append(undelivered, pending.refs...)
			continue
		}
		failed, rErr, pErr := e.send(ctx, api, pending)
		undelivered = append(undelivered, failed...)
		retryErr = rErr
		permanentErr = errors.Join(permanentErr, pErr)
	}
	switch {
	case retryErr != nil:
		if ra, ok := pcmapi.RetryAfter(retryErr); ok {
			retryErr = exporterhelper.NewThrottleRetry(retryErr, ra)
		}
		// Only the spans whose reports were not delivered go back for retry: no blind resends.
		return consumererror.NewTraces(retryErr, subset(td, undelivered))
	case permanentErr != nil:
		// Already dead-lettered; permanent so that exporterhelper counts them as failed and does not retry.
		return consumererror.NewPermanent(permanentErr)
	}
	return nil
}

// send delivers one API's reports in POSTs of at most max_batch_size items. A permanent
// refusal dead-letters what it concerns and goes on with the rest; a retryable failure stops
// and returns the spans not yet delivered.
func (e *pcmExporter) send(ctx context.Context, api mapping.API, p *pendingReports) (undelivered []spanRef, retryErr, permanentErr error) {
	path := e.pathOf(api)
	for start := 0; start < len(p.items); {
		end := min(start+e.cfg.MaxBatchSize, len(p.items))
		results, err := e.clients.API.Send(ctx, path, p.items[start:end])
		e.account(api, p, start, results)
		rest := start + len(results)
		if err == nil {
			start = end
			continue
		}
		if !pcmapi.IsPermanent(err) {
			e.remember(p, rest)
			return p.refs[rest:], fmt.Errorf("sending %s reports to PCM: %w", api, err), permanentErr
		}
		// A 413 that reaches us concerns the one item that is too large on its own: only that
		// item is refused. Any other permanent answer refuses the rest of the POST.
		refused := end
		var se *pcmapi.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusRequestEntityTooLarge {
			refused = rest + 1
		}
		e.logger.Error("PCM refused reports permanently; they are dead-lettered. Check the certificate, organisation and headers.",
			zap.String("api", api.String()), zap.Int("reports", refused-rest), zap.Error(err))
		e.reject(api, p, rest, refused, err)
		permanentErr = errors.Join(permanentErr, fmt.Errorf("sending %s reports to PCM: %w", api, err))
		start = refused
	}
	return nil, nil, permanentErr
}

// remember puts the reports from index from on in the SLA backlog: tried, not yet accepted.
func (e *pcmExporter) remember(p *pendingReports, from int) {
	keys := make([]sla.Key, 0, len(p.refs)-from)
	for _, ref := range p.refs[from:] {
		keys = append(keys, ref.key())
	}
	e.backlog.Pending(keys, p.times[from:])
}

// account counts PCM's per-item answers and dead-letters the DISCARDED items.
func (e *pcmExporter) account(api mapping.API, p *pendingReports, offset int, results []pcmapi.ItemResult) {
	var counts outcomeCounts
	now := e.now()
	var dead []deadletter.Entry
	var watched []watch.Report
	for i, r := range results {
		idx := offset + i
		role := p.roles[idx]
		e.backlog.Done(p.refs[idx].key())
		if !r.Discarded() {
			counts.add(api, role, outcomeAccepted, 1)
			counts.accept(p.times[idx], now)
			if e.watcher != nil && api == mapping.APIPrivate {
				watched = append(watched, watch.Report{InteractionID: p.ids[idx], Endpoint: p.endpoints[idx], Method: p.methods[idx]})
			}
			continue
		}
		counts.add(api, role, outcomeDiscarded, 1)
		counts.reject(sourcePCM, r.Message)
		e.sampled.Warn("PCM discarded a report; it is kept in the dead letter and will not be resent as it is",
			zap.String("api", api.String()), zap.String("message", r.Message), zap.String("endpoint", p.endpoints[idx]))
		dead = append(dead, deadletter.Entry{
			Time: e.now().UTC(), Stage: deadletter.StageDiscarded, Reason: r.Message, API: api.String(),
			ReportID: r.ReportID, TraceID: p.refs[idx].traceID(), SpanID: p.refs[idx].spanID(),
			Report: json.RawMessage(p.items[idx]),
		})
	}
	e.flushCounts(&counts)
	e.writeDeadLetters(dead)
	if len(watched) > 0 {
		e.watcher.Add(watched...)
	}
}

// reject dead-letters items [from, to) after a permanent whole-request error.
func (e *pcmExporter) reject(api mapping.API, p *pendingReports, from, to int, cause error) {
	var counts outcomeCounts
	dead := make([]deadletter.Entry, 0, to-from)
	for idx := from; idx < to; idx++ {
		e.backlog.Done(p.refs[idx].key())
		counts.add(api, p.roles[idx], outcomeFailed, 1)
		dead = append(dead, deadletter.Entry{
			Time: e.now().UTC(), Stage: deadletter.StageRejected, Reason: cause.Error(), API: api.String(),
			TraceID: p.refs[idx].traceID(), SpanID: p.refs[idx].spanID(), Report: json.RawMessage(p.items[idx]),
		})
	}
	e.flushCounts(&counts)
	e.writeDeadLetters(dead)
}

func (e *pcmExporter) writeDeadLetters(entries []deadletter.Entry) {
	if e.deadLetter == nil || len(entries) == 0 {
		return
	}
	if err := e.deadLetter.Write(entries); err != nil {
		e.sampled.Error("Could not write the dead-letter file; the reports are only in this log",
			zap.Error(err), zap.Int("reports", len(entries)), zap.Any("entries", entries))
	}
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
	for class, n := range c.accepted {
		e.telemetry.ExporterPcmSLAAccepted.Add(ctx, n, e.attrs(
			attribute.String("transaction_day", class.day), attribute.String("deadline", class.deadline),
			attribute.String("deadline_strict", class.strict)))
	}
	*c = outcomeCounts{}
}
