package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// errWaitingForDirectory is the retry cause of reports whose counterpart only the Directory
// can name while its participants are not loaded yet.
var errWaitingForDirectory = errors.New("counterpart unknown until the Directory participants are loaded")

// errUnconfirmed is the retry cause of reports PCM's answer did not confirm (docs/pcm-rules.md §15.1).
var errUnconfirmed = errors.New("PCM's answer confirmed neither acceptance nor discard")

// push sends a batch of reports and records each one's fate: delivered (accepted or
// discarded, by PCM's word), dead-lettered, or handed back for retry. Only PCM's answer
// confirms a report; what the exporter gives up on goes to the dead letter
// (docs/pcm-rules.md §15.3). Only the reports not delivered go back (see reportBatch.OnError).
func (e *pcmExporter) push(ctx context.Context, req xexporterhelper.Request) error {
	b, ok := req.(*reportBatch)
	if !ok {
		return consumererror.NewPermanent(errUnknownRequest)
	}
	e.inRetry.forget(b)
	f := e.newFates()
	defer f.flush()
	for _, u := range b.undecodable {
		f.undecodable(u)
	}
	var permanentErr error
	if len(b.undecodable) > 0 {
		permanentErr = fmt.Errorf("%d sending queue entries could not be read", len(b.undecodable))
	}

	ready, waiting := e.readyToSend(b, f)
	var held []*record
	var sendErr error
	for rt := range ready {
		var unresolved []*record
		ready[rt], unresolved = e.notDelivered(ctx, ready[rt], f)
		if len(unresolved) > 0 {
			held = e.hold(f, held, unresolved, retryTransient)
			sendErr = errLookupFailed
		}
	}
	for rt, recs := range ready {
		if len(recs) == 0 {
			continue
		}
		if sendErr != nil && !errors.Is(sendErr, errLookupFailed) {
			held = e.hold(f, held, recs, retryTransient)
			continue
		}
		h, rErr, pErr := e.send(ctx, route(rt), recs, f)
		held = append(held, h...)
		if rErr != nil {
			sendErr = rErr
		}
		permanentErr = errors.Join(permanentErr, pErr)
	}
	retryErr := sendErr
	if len(waiting) > 0 {
		held = e.hold(f, held, waiting, retryWaiting)
		if retryErr == nil {
			retryErr = errWaitingForDirectory
		}
	}
	if len(held) > 0 && retryErr == nil {
		retryErr = errUnconfirmed
	}
	if len(held) > 0 {
		var exhausted error
		if held, exhausted = e.giveUpExhausted(f, held, retryErr); exhausted != nil {
			permanentErr = errors.Join(permanentErr, exhausted)
		}
	}
	if len(held) > 0 {
		left := &reportBatch{records: held}
		e.inRetry.remember(left)
		var err error = &heldError{cause: retryErr, left: left}
		if ra, ok := pcmapi.RetryAfter(retryErr); ok {
			err = exporterhelper.NewThrottleRetry(err, ra)
		}
		return err
	}
	if permanentErr != nil {
		// Already dead-lettered; permanent so that exporterhelper counts them as failed and does not retry.
		return consumererror.NewPermanent(permanentErr)
	}
	return nil
}

// readyToSend sorts the batch by route (API, and role for credit portability), after the checks that depend on the time of sending and
// a new Directory lookup for the reports that waited for it. waiting are those whose
// Directory is still not loaded.
func (e *pcmExporter) readyToSend(b *reportBatch, f *fates) (ready [numRoutes][]*record, waiting []*record) {
	for i, rec := range b.records {
		problems := mapping.CheckReportTime(nil, &rec.report, f.now)
		if len(problems) == 0 && rec.waiting() {
			if !e.resolveWaiting(rec) {
				waiting = append(waiting, rec)
				continue
			}
			problems = e.validator.Validate(&rec.report, f.now)
		}
		if len(problems) > 0 {
			f.deadLettered(rec, deadletter.StageInvalid, mapping.JoinProblems(problems))
			continue
		}
		rt := routeOf(&rec.report)
		if ready[rt] == nil {
			ready[rt] = make([]*record, 0, len(b.records)-i)
		}
		ready[rt] = append(ready[rt], rec)
	}
	return ready, waiting
}

func (e *pcmExporter) hold(f *fates, held, recs []*record, cause retryCause) []*record {
	for _, rec := range recs {
		f.retried(rec, cause)
	}
	return append(held, recs...)
}

// send delivers one route's reports in POSTs of at most max_batch_size items. A permanent
// refusal dead-letters what it concerns and goes on with the rest; a retryable failure stops
// and returns the reports not yet delivered. Items PCM's answer did not confirm are returned
// too, without stopping.
func (e *pcmExporter) send(ctx context.Context, rt route, recs []*record, f *fates) (held []*record, retryErr, permanentErr error) {
	arr := encodeReports(recs)
	defer arr.Release()
	api, path := rt.api(), e.pathOf(rt)
	for start := 0; start < len(recs); {
		end := min(start+e.cfg.MaxBatchSize, len(recs))
		seq, marked := e.markSending(ctx, recs[start:end], f.now)
		results, err := e.clients.API.SendArray(ctx, path, arr, start, end)
		if marked {
			e.settleMarks(ctx, seq, recs[start:end], results)
		}
		held = e.account(f, held, api, recs[start:], results)
		rest := start + len(results)
		if err == nil {
			start = end
			continue
		}
		if !pcmapi.IsPermanent(err) {
			cause := retryTransient
			if pcmapi.IsUnconfirmed(err) {
				cause = retryUnconfirmed
			}
			e.logRetryCause(api, err)
			held = e.hold(f, held, recs[rest:end], cause)
			held = e.hold(f, held, recs[end:], retryTransient)
			return held, fmt.Errorf("sending %s reports to PCM: %w", api, err), permanentErr
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
		for _, rec := range recs[rest:refused] {
			f.deadLettered(rec, deadletter.StageRejected, err.Error())
		}
		permanentErr = errors.Join(permanentErr, fmt.Errorf("sending %s reports to PCM: %w", api, err))
		start = refused
	}
	return held, nil, permanentErr
}

// encodeReports encodes the reports once, into the array pcmapi posts.
func encodeReports(recs []*record) *pcmapi.Array {
	arr := pcmapi.NewArray()
	for _, rec := range recs {
		arr.Add(mapping.AppendJSON(arr.Item(), &rec.report))
	}
	return arr
}

// logRetryCause logs what an operator must fix for retries to succeed; transient causes are
// left to exporterhelper's own retry log.
func (e *pcmExporter) logRetryCause(api mapping.API, err error) {
	if pcmapi.IsUnconfirmed(err) {
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

// giveUpExhausted dead-letters the held reports that have been failing for longer than the
// retry budget (retry_on_failure.max_elapsed_time; unlimited by default, so that reports wait
// for PCM's own 7-day limit) and returns the others. exporterhelper itself is never given a
// budget: it would drop the data without a trace.
func (e *pcmExporter) giveUpExhausted(f *fates, held []*record, cause error) ([]*record, error) {
	budget, limited := e.retryBudget()
	if !limited {
		return held, nil
	}
	keep := held[:0]
	var given []*record
	for _, rec := range held {
		since, ok := e.backlog.FailingSince(rec.key())
		if ok && f.now.Sub(since) < budget {
			keep = append(keep, rec)
			continue
		}
		given = append(given, rec)
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
	for _, rec := range given {
		f.deadLettered(rec, deadletter.StageRetryExhausted, reason)
	}
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

// account records PCM's per-item answers. Items whose answer confirms nothing are added to
// held, to be retried.
func (e *pcmExporter) account(f *fates, held []*record, api mapping.API, recs []*record, results []pcmapi.ItemResult) []*record {
	unconfirmed := 0
	for i, r := range results {
		rec := recs[i]
		switch {
		case !r.Confirmed():
			unconfirmed++
			f.retried(rec, retryUnconfirmed)
			held = append(held, rec)
		case r.Accepted():
			f.accepted(rec)
		default:
			f.discarded(rec, r)
		}
	}
	if unconfirmed > 0 {
		e.sampled.Warn("PCM's answer did not confirm some reports (no status, or one PCM does not document); they are retried",
			zap.String("api", api.String()), zap.Int("reports", unconfirmed))
	}
	return held
}
