package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/internal/watch"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// fates records what became of each report with one call per fate — the report metrics, the
// dead letter, the SLA backlog and the reconciliation watch all follow from that call — and
// applies them in flush, so that each metric is updated once per attribute set, not once per
// report.
type fates struct {
	e       *pcmExporter
	now     time.Time
	counts  outcomeCounts
	dead    []deadletter.Entry
	done    []sla.Key // accepted, discarded or dead-lettered: out of the SLA backlog
	watched []watch.Report
	// inBacklog says whether reports of this push may be in the SLA backlog: only a retry
	// puts them there, and nearly always it is empty.
	inBacklog bool
	missing   []string // scratch for the obliged keys an accepted report lacks
}

func (e *pcmExporter) newFates() *fates {
	return &fates{e: e, now: e.now(), inBacklog: e.backlog.Len() > 0}
}

// settled takes a report out of the SLA backlog.
func (f *fates) settled(rec *record) {
	if f.inBacklog {
		f.done = append(f.done, rec.key())
	}
}

// retryCause says why a report goes back to the queue.
type retryCause uint8

const (
	retryTransient   retryCause = iota // the POST failed (network, 429, 5xx, token…)
	retryUnconfirmed                   // PCM's answer did not confirm it
	retryWaiting                       // its counterpart is unknown until the Directory loads
)

// skipped: a span that is not a report, dropped at the door.
func (f *fates) skipped(reason mapping.SkipReason) { f.counts.skip(reason) }

// fixed counts the corrections Map made to a report's optional values.
func (f *fates) fixed(result *mapping.Result, endpoint string) {
	if result.Fixes == 0 {
		return
	}
	f.counts.fix(result.Fixes)
	if result.DroppedInfoKey != "" {
		f.e.sampled.Warn("An additionalInfo value PCM's schema cannot take was left out of the report; the report is sent without it",
			zap.String("key", result.DroppedInfoKey), zap.String("endpoint", endpoint))
	}
}

// accepted: PCM took the report.
func (f *fates) accepted(rec *record) {
	api := rec.api()
	f.counts.add(api, rec.role(), outcomeAccepted, 1)
	f.counts.accept(rec.report.Timestamp, f.now)
	f.missing = f.e.obligations.Missing(&rec.report, f.missing[:0])
	f.counts.lacked(rec.report.Endpoint, f.missing)
	f.settled(rec)
	if f.e.watcher != nil && api == mapping.APIPrivate {
		f.watched = append(f.watched, watch.Report{InteractionID: rec.report.FapiInteractionID, Endpoint: rec.report.Endpoint, Method: rec.report.HTTPMethod})
	}
}

// alreadyDelivered: the persistent queue replayed a report PCM already has (the delivery
// record says so, or PCM's lookup); it is not sent again.
func (f *fates) alreadyDelivered(rec *record) {
	f.counts.add(rec.api(), rec.role(), outcomeAlreadyDelivered, 1)
	f.settled(rec)
}

// discarded: PCM refused the report; it is kept in the dead letter, never resent as it is.
func (f *fates) discarded(rec *record, r pcmapi.ItemResult) {
	api := rec.api()
	f.counts.add(api, rec.role(), outcomeDiscarded, 1)
	f.counts.reject(sourcePCM, r.Message)
	f.settled(rec)
	f.e.sampled.Warn("PCM discarded a report; it is kept in the dead letter and will not be resent as it is",
		zap.String("api", api.String()), zap.String("message", r.Message), zap.String("endpoint", rec.report.Endpoint))
	f.dead = append(f.dead, f.entry(rec, deadletter.StageDiscarded, r.Message, r.ReportID))
}

// deadLettered: the exporter gives up on the report; stage says where. Locally invalid
// reports (invalid, unlisted_endpoint) count as invalid, the others as failed.
func (f *fates) deadLettered(rec *record, stage deadletter.Stage, reason string) {
	api := rec.api()
	switch stage {
	case deadletter.StageInvalid, deadletter.StageUnlisted:
		f.counts.add(api, rec.role(), outcomeInvalid, 1)
		f.counts.reject(sourceLocal, reason)
		f.e.sampled.Warn("Span maps to a report PCM would discard; it is not sent and is kept in the dead letter",
			zap.String("stage", string(stage)), zap.String("reason", reason), zap.String("endpoint", rec.report.Endpoint),
			zap.String("trace_id", rec.trace.String()), zap.String("span_id", rec.span.String()))
	default:
		f.counts.add(api, rec.role(), outcomeFailed, 1)
	}
	f.settled(rec)
	f.dead = append(f.dead, f.entry(rec, stage, reason, ""))
}

// retried: the report goes back to the sending queue. It enters the SLA backlog at once: the
// retry budget counts from its first failure.
func (f *fates) retried(rec *record, cause retryCause) {
	switch cause {
	case retryUnconfirmed:
		f.counts.add(rec.api(), rec.role(), outcomeUnconfirmed, 1)
	case retryWaiting:
		f.counts.add(rec.api(), rec.role(), outcomeWaiting, 1)
	}
	f.e.backlog.Pending([]sla.Key{rec.key()}, []time.Time{rec.report.Timestamp}, f.now)
	f.inBacklog = true
}

// undecodable: a persistent-queue entry the exporter cannot read. Its bytes go to the dead
// letter (base64), so that nothing leaves the queue without a trace.
func (f *fates) undecodable(u undecodable) {
	reason := "the persistent sending queue entry could not be read: " + u.err.Error()
	f.e.logger.Error("A sending queue entry could not be read (written by another version of the exporter, or damaged); it is dead-lettered as it is",
		zap.Int("bytes", len(u.data)), zap.Error(u.err))
	f.dead = append(f.dead, deadletter.Entry{
		Time: f.now.UTC(), Stage: deadletter.StageUndecodable, Reason: reason,
		Report: json.RawMessage(strconv.Quote(base64.StdEncoding.EncodeToString(u.data))),
	})
}

func (f *fates) entry(rec *record, stage deadletter.Stage, reason, reportID string) deadletter.Entry {
	return deadletter.Entry{
		Time: f.now.UTC(), Stage: stage, Reason: reason, API: rec.api().String(), ReportID: reportID,
		TraceID: rec.trace.String(), SpanID: rec.span.String(),
		Report: json.RawMessage(mapping.AppendJSON(nil, &rec.report)),
	}
}

// flush applies what was recorded and starts over.
func (f *fates) flush() {
	f.e.flushCounts(&f.counts)
	if len(f.done) > 0 {
		f.e.backlog.Done(f.done...)
		f.done = f.done[:0]
	}
	f.e.writeDeadLetters(f.dead)
	f.dead = nil
	if len(f.watched) > 0 {
		f.e.watcher.Add(f.watched...)
		f.watched = nil
	}
}
