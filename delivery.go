package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/internal/watch"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// heldReport is a report PCM has not confirmed yet: it goes back to exporterhelper for retry,
// or to the dead letter when the exporter gives up on it.
type heldReport struct {
	api mapping.API
	p   *pendingReports
	idx int
}

func (h heldReport) ref() spanRef { return h.p.refs[h.idx] }

// errWaitingForDirectory is the retry cause of reports whose counterpart only the Directory
// can name while its participants are not loaded yet.
var errWaitingForDirectory = errors.New("counterpart unknown until the Directory participants are loaded")

// errUnconfirmed is the retry cause of reports PCM's answer did not confirm (docs/pcm-rules.md §15.1).
var errUnconfirmed = errors.New("PCM's answer confirmed neither acceptance nor discard")

// pushTraces maps the spans, sends the reports and accounts for each one's fate: delivered
// (accepted or discarded, by PCM's word), dead-lettered, or handed back for retry. Only PCM's
// answer confirms a report; what the exporter gives up on goes to the dead letter
// (docs/pcm-rules.md §15.3).
func (e *pcmExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	e.inRetry.forget(td)
	b := e.buildBatches(td)
	e.flushCounts(&b.counts)
	e.writeDeadLetters(b.dead)

	var held []heldReport
	var sendErr, permanentErr error
	for _, api := range []mapping.API{mapping.APIPrivate, mapping.APIOpendata} {
		pending := b.pending[api]
		if pending == nil {
			continue
		}
		if sendErr != nil {
			held = appendHeld(held, api, pending, 0)
			continue
		}
		h, rErr, pErr := e.send(ctx, api, pending)
		held = append(held, h...)
		sendErr = rErr
		permanentErr = errors.Join(permanentErr, pErr)
	}
	retryErr := sendErr
	if b.waiting != nil {
		held = appendHeld(held, mapping.APIPrivate, b.waiting, 0)
		if retryErr == nil {
			retryErr = errWaitingForDirectory
		}
	}
	if len(held) > 0 && retryErr == nil {
		retryErr = errUnconfirmed
	}
	if len(held) > 0 {
		e.remember(held)
		var exhausted error
		if held, exhausted = e.giveUpExhausted(held, retryErr); exhausted != nil {
			permanentErr = errors.Join(permanentErr, exhausted)
		}
	}
	if len(held) > 0 {
		if ra, ok := pcmapi.RetryAfter(retryErr); ok {
			retryErr = exporterhelper.NewThrottleRetry(retryErr, ra)
		}
		// Only the spans whose reports were not confirmed go back for retry: no blind resends.
		failed := subset(td, heldRefs(held))
		e.inRetry.remember(failed)
		return consumererror.NewTraces(retryErr, failed)
	}
	if permanentErr != nil {
		// Already dead-lettered; permanent so that exporterhelper counts them as failed and does not retry.
		return consumererror.NewPermanent(permanentErr)
	}
	return nil
}

func appendHeld(held []heldReport, api mapping.API, p *pendingReports, from int) []heldReport {
	for idx := from; idx < len(p.items); idx++ {
		held = append(held, heldReport{api: api, p: p, idx: idx})
	}
	return held
}

func heldRefs(held []heldReport) []spanRef {
	refs := make([]spanRef, len(held))
	for i, h := range held {
		refs[i] = h.ref()
	}
	return refs
}

// send delivers one API's reports in POSTs of at most max_batch_size items. A permanent
// refusal dead-letters what it concerns and goes on with the rest; a retryable failure stops
// and returns the reports not yet delivered. Items PCM's answer did not confirm are returned
// too, without stopping.
func (e *pcmExporter) send(ctx context.Context, api mapping.API, p *pendingReports) (held []heldReport, retryErr, permanentErr error) {
	path := e.pathOf(api)
	for start := 0; start < len(p.items); {
		end := min(start+e.cfg.MaxBatchSize, len(p.items))
		results, err := e.clients.API.Send(ctx, path, p.items[start:end])
		held = append(held, e.account(api, p, start, results)...)
		rest := start + len(results)
		if err == nil {
			start = end
			continue
		}
		if !pcmapi.IsPermanent(err) {
			e.logRetryCause(api, err, p, rest, end)
			return appendHeld(held, api, p, rest), fmt.Errorf("sending %s reports to PCM: %w", api, err), permanentErr
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
		e.reject(api, p, rest, refused, deadletter.StageRejected, err.Error())
		permanentErr = errors.Join(permanentErr, fmt.Errorf("sending %s reports to PCM: %w", api, err))
		start = refused
	}
	return held, nil, permanentErr
}

// logRetryCause counts answers that confirmed nothing and logs what an operator must fix for
// retries to succeed; transient causes are left to exporterhelper's own retry log.
func (e *pcmExporter) logRetryCause(api mapping.API, err error, p *pendingReports, from, to int) {
	if pcmapi.IsUnconfirmed(err) {
		var counts outcomeCounts
		for idx := from; idx < to; idx++ {
			counts.add(api, p.roles[idx], outcomeUnconfirmed, 1)
		}
		e.flushCounts(&counts)
		e.sampled.Warn("PCM's answer confirmed none of the reports of a POST (not PCM's per-report results: a proxy or WAF page?); they are retried",
			zap.String("api", api.String()), zap.Error(err))
		return
	}
	var se *pcmapi.StatusError
	if errors.As(err, &se) && se.Redirect() {
		e.sampled.Error("PCM's endpoint answered with a redirect, which is never followed (the token must not leave the configured endpoint). "+
			"Check endpoint, the report paths and any proxy in front of PCM; the reports stay queued and are retried.",
			zap.String("api", api.String()), zap.Int("status", se.StatusCode), zap.String("location", se.Location))
	}
}

// remember puts the held reports in the SLA backlog: tried, not yet accepted.
func (e *pcmExporter) remember(held []heldReport) {
	keys := make([]sla.Key, len(held))
	times := make([]time.Time, len(held))
	for i, h := range held {
		keys[i] = h.ref().key()
		times[i] = h.p.times[h.idx]
	}
	e.backlog.Pending(keys, times, e.now())
}

// giveUpExhausted dead-letters the held reports that have been failing for longer than the
// retry budget (retry_on_failure.max_elapsed_time; unlimited by default, so that reports wait
// for PCM's own 7-day limit) and returns the others. exporterhelper itself is never given a
// budget: it would drop the data without a trace.
func (e *pcmExporter) giveUpExhausted(held []heldReport, cause error) ([]heldReport, error) {
	budget, limited := e.retryBudget()
	if !limited {
		return held, nil
	}
	now := e.now()
	keep := held[:0]
	var given []heldReport
	for _, h := range held {
		since, ok := e.backlog.FailingSince(h.ref().key())
		if ok && now.Sub(since) < budget {
			keep = append(keep, h)
			continue
		}
		given = append(given, h)
	}
	if len(given) == 0 {
		return keep, nil
	}
	reason := fmt.Sprintf("gave up after retry_on_failure.max_elapsed_time (%s): %v", budget, cause)
	if !e.cfg.RetryConfig.Enabled {
		reason = fmt.Sprintf("retry_on_failure is disabled: %v", cause)
	}
	e.logger.Error("Reports could not be delivered within the retry budget; they are dead-lettered",
		zap.Int("reports", len(given)), zap.Duration("max_elapsed_time", budget), zap.Error(cause))
	e.deadLetterHeld(given, deadletter.StageRetryExhausted, reason)
	return keep, errors.New(reason)
}

// retryBudget is how long a report may keep failing before the exporter gives up on it.
func (e *pcmExporter) retryBudget() (time.Duration, bool) {
	r := e.cfg.RetryConfig
	if !r.Enabled {
		return 0, true
	}
	return r.MaxElapsedTime, r.MaxElapsedTime > 0
}

// deadLetterHeld dead-letters held reports the exporter gives up on, counted as failed.
func (e *pcmExporter) deadLetterHeld(held []heldReport, stage deadletter.Stage, reason string) {
	var counts outcomeCounts
	dead := make([]deadletter.Entry, 0, len(held))
	for _, h := range held {
		ref := h.ref()
		e.backlog.Done(ref.key())
		counts.add(h.api, h.p.roles[h.idx], outcomeFailed, 1)
		dead = append(dead, deadletter.Entry{
			Time: e.now().UTC(), Stage: stage, Reason: reason, API: h.api.String(),
			TraceID: ref.traceID(), SpanID: ref.spanID(), Report: json.RawMessage(h.p.items[h.idx]),
		})
	}
	e.flushCounts(&counts)
	e.writeDeadLetters(dead)
}

// account counts PCM's per-item answers and dead-letters the DISCARDED items. Items whose
// answer confirms nothing are returned, to be retried.
func (e *pcmExporter) account(api mapping.API, p *pendingReports, offset int, results []pcmapi.ItemResult) (unconfirmed []heldReport) {
	var counts outcomeCounts
	now := e.now()
	var dead []deadletter.Entry
	var watched []watch.Report
	for i, r := range results {
		idx := offset + i
		role := p.roles[idx]
		if !r.Confirmed() {
			counts.add(api, role, outcomeUnconfirmed, 1)
			unconfirmed = append(unconfirmed, heldReport{api: api, p: p, idx: idx})
			continue
		}
		e.backlog.Done(p.refs[idx].key())
		if r.Accepted() {
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
			Time: now.UTC(), Stage: deadletter.StageDiscarded, Reason: r.Message, API: api.String(),
			ReportID: r.ReportID, TraceID: p.refs[idx].traceID(), SpanID: p.refs[idx].spanID(),
			Report: json.RawMessage(p.items[idx]),
		})
	}
	if len(unconfirmed) > 0 {
		e.sampled.Warn("PCM's answer did not confirm some reports (no status, or one PCM does not document); they are retried",
			zap.String("api", api.String()), zap.Int("reports", len(unconfirmed)))
	}
	e.flushCounts(&counts)
	e.writeDeadLetters(dead)
	if len(watched) > 0 {
		e.watcher.Add(watched...)
	}
	return unconfirmed
}

// reject dead-letters items [from, to) after a permanent whole-request error.
func (e *pcmExporter) reject(api mapping.API, p *pendingReports, from, to int, stage deadletter.Stage, reason string) {
	e.deadLetterHeld(appendHeld(nil, api, p, from)[:to-from], stage, reason)
}
