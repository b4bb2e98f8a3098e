package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

// writeDeadLetters counts the reports the exporter gives up on and appends them to the dead
// letter when one is configured.
func (e *pcmExporter) writeDeadLetters(entries []deadletter.Entry) {
	if len(entries) == 0 {
		return
	}
	e.countDeadLetters(entries)
	if e.deadLetter == nil {
		return
	}
	e.onDeadLetterError(e.deadLetter.Write(entries))
}

// onDeadLetterError counts a failed dead-letter write. The writer keeps what it could not write
// in a bounded buffer and writes it later; what does not fit there is logged here in full,
// unsampled — the log is then its only copy — and counted as lost.
func (e *pcmExporter) onDeadLetterError(err error) {
	if err == nil {
		return
	}
	var lost int
	var oe *deadletter.OverflowError
	if errors.As(err, &oe) {
		lost = len(oe.Entries)
		e.logger.Error("Dead-letter entries could not be written nor kept for a later write; this log line is their only copy",
			zap.Error(err), zap.Int("reports", lost), zap.Any("entries", oe.Entries))
		e.telemetry.ExporterPcmDeadLetterWriteFailures.Add(context.Background(), int64(lost), e.attrs(attribute.String("outcome", "lost")))
	}
	var we *deadletter.WriteError
	if errors.As(err, &we) {
		if buffered := we.Failed - lost; buffered > 0 {
			e.telemetry.ExporterPcmDeadLetterWriteFailures.Add(context.Background(), int64(buffered), e.attrs(attribute.String("outcome", "buffered")))
		}
		e.sampled.Warn("Could not write the dead-letter file; the entries are kept in memory and written when it works again",
			zap.String("path", e.cfg.DeadLetter.Path), zap.Int("buffered", we.Buffered), zap.Error(err))
	}
	if oe == nil && we == nil {
		e.sampled.Error("Dead-letter file error", zap.String("path", e.cfg.DeadLetter.Path), zap.Error(err))
	}
}

// countDeadLetters counts the reports given up on, by stage, whether or not a file is configured.
func (e *pcmExporter) countDeadLetters(entries []deadletter.Entry) {
	var last deadletter.Stage
	var n int64
	flush := func() {
		if n > 0 {
			e.telemetry.ExporterPcmDeadLetters.Add(context.Background(), n, e.attrs(attribute.String("stage", string(last))))
		}
	}
	for _, en := range entries {
		if en.Stage != last {
			flush()
			last, n = en.Stage, 0
		}
		n++
	}
	flush()
}
