package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"

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
	if err := e.deadLetter.Write(entries); err != nil {
		e.sampled.Error("Could not write the dead-letter file; the reports are only in this log",
			zap.Error(err), zap.Int("reports", len(entries)), zap.Any("entries", entries))
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
