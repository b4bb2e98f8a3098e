package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// errLookupFailed is the retry cause of reports that a crash left between their POST and
// PCM's answer, while PCM could not be asked whether it stored them.
var errLookupFailed = errors.New("could not ask PCM whether it stored reports sent before a crash")

// lookupConcurrency bounds the GETs in flight per push. Only reports a crash caught between
// their POST and PCM's answer are looked up: at most num_consumers POSTs' worth.
const lookupConcurrency = 4

// notDelivered drops from recs the reports the delivery record says PCM already has, and
// those a crash caught in flight that PCM confirms it stored (GET by fapiInteractionId). It
// returns what to send and what to retry later because PCM could not be asked.
func (e *pcmExporter) notDelivered(ctx context.Context, recs []*record, f *fates) (send, unresolved []*record) {
	if e.record == nil || len(recs) == 0 {
		return recs, nil
	}
	marks := e.record.lookup(spanKeys(recs))
	send = recs[:0:0]
	var inFlight []*record
	skipped := 0
	for i, rec := range recs {
		switch {
		case marks[i] == markDelivered:
			f.alreadyDelivered(rec)
			skipped++
		case marks[i] == markSending && lookable(rec):
			inFlight = append(inFlight, rec)
		default:
			// No mark, or in flight at a crash without a way to ask PCM (opendata, no
			// interaction id): sent, at the risk of a duplicate.
			send = append(send, rec)
		}
	}
	var stored []*record
	if len(inFlight) > 0 {
		var notStored []*record
		stored, notStored, unresolved = e.askPCM(ctx, inFlight)
		send = append(send, notStored...)
		if _, err := e.record.write(context.WithoutCancel(ctx), spanKeys(stored), markDelivered, f.now); err != nil {
			e.sampled.Warn("Could not write the delivery record", zap.Error(err))
		}
		for _, rec := range stored {
			f.alreadyDelivered(rec)
		}
		e.logger.Info("Reports sent when the collector stopped were looked up in PCM",
			zap.Int("stored_not_resent", len(stored)), zap.Int("not_stored_resent", len(notStored)), zap.Int("lookup_failed", len(unresolved)))
	}
	if skipped > 0 {
		e.sampled.Info("Reports replayed by the persistent queue were already delivered; they are not sent again",
			zap.Int("reports", skipped))
	}
	return send, unresolved
}

// lookable says whether PCM can be asked for the report: GET exists for private reports by
// their fapiInteractionId.
func lookable(rec *record) bool {
	return rec.api() == mapping.APIPrivate && rec.report.FapiInteractionID != ""
}

// askPCM looks the reports up in PCM, lookupConcurrency at a time.
func (e *pcmExporter) askPCM(ctx context.Context, recs []*record) (stored, notStored, failed []*record) {
	type answer uint8
	const (
		answerStored answer = iota
		answerNotStored
		answerFailed
	)
	answers := make([]answer, len(recs))
	sem := make(chan struct{}, lookupConcurrency)
	var wg sync.WaitGroup
	for i, rec := range recs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			model, err := e.clients.API.GetReport(ctx, e.cfg.PrivateReportPath, rec.report.FapiInteractionID)
			switch {
			case pcmapi.IsNotFound(err):
				answers[i] = answerNotStored
			case err != nil:
				e.sampled.Warn("Could not ask PCM whether it stored a report sent before a crash; it is retried", zap.Error(err))
				answers[i] = answerFailed
			case sameReport(&model, &rec.report):
				answers[i] = answerStored
			default:
				answers[i] = answerNotStored
			}
		})
	}
	wg.Wait()
	for i, a := range answers {
		switch a {
		case answerStored:
			stored = append(stored, recs[i])
		case answerNotStored:
			notStored = append(notStored, recs[i])
		default:
			failed = append(failed, recs[i])
		}
	}
	return stored, notStored, failed
}

// sameReport says whether PCM's answer is our report and not the counterpart's, which shares
// the fapiInteractionId: same role, endpoint and method. An answer that does not say is taken
// as not ours — a duplicate is better than a lost report.
func sameReport(m *pcmapi.ReportModel, r *mapping.Report) bool {
	return m.Fields["role"] == r.Role.String() && m.Fields["endpoint"] == r.Endpoint && m.Fields["httpMethod"] == r.HTTPMethod
}

// markSending writes the reports of a POST as sending, before it goes out. A failure to
// write is logged and does not stop the POST: the record avoids duplicates, it never delays
// delivery.
func (e *pcmExporter) markSending(ctx context.Context, recs []*record, now time.Time) (uint64, bool) {
	if e.record == nil {
		return 0, false
	}
	seq, err := e.record.write(context.WithoutCancel(ctx), spanKeys(recs), markSending, now)
	if err != nil {
		e.sampled.Warn("Could not write the delivery record", zap.Error(err))
		return 0, false
	}
	return seq, true
}

// settleMarks records PCM's answer to the POST of recs: confirmed reports (accepted or
// discarded) are delivered, the others lose their sending mark.
func (e *pcmExporter) settleMarks(ctx context.Context, seq uint64, recs []*record, results []pcmapi.ItemResult) {
	var delivered, dropped []sla.Key
	for i, rec := range recs {
		if i < len(results) && results[i].Confirmed() {
			delivered = append(delivered, rec.key())
		} else {
			dropped = append(dropped, rec.key())
		}
	}
	if err := e.record.settle(context.WithoutCancel(ctx), seq, delivered, dropped); err != nil {
		e.sampled.Warn("Could not write the delivery record", zap.Error(err))
	}
}

func spanKeys(recs []*record) []sla.Key {
	keys := make([]sla.Key, len(recs))
	for i, rec := range recs {
		keys[i] = rec.key()
	}
	return keys
}
