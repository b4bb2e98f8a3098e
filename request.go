package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
)

// reportBatch is the exporterhelper request of this exporter: the reports made of the spans
// of one ConsumeTraces call (and, batched, of several). The sending queue, its persistence,
// the batcher and the retries all work on reports, never on spans.
type reportBatch struct {
	// records point into the slabs the door allocates, one per ConsumeTraces call: merging
	// batches moves pointers, not reports.
	records []*record
	// undecodable are persistent-queue entries the encoding could not read: each one counts
	// as one item and is dead-lettered when the batch is sent.
	undecodable []undecodable
}

var (
	_ xexporterhelper.Request             = (*reportBatch)(nil)
	_ xexporterhelper.RequestErrorHandler = (*reportBatch)(nil)
)

func (b *reportBatch) ItemsCount() int { return len(b.records) + len(b.undecodable) }

// BytesSize is the size of the batch in the persistent queue's encoding, near enough for the
// bytes sizer.
func (b *reportBatch) BytesSize() int {
	n := 0
	for _, rec := range b.records {
		n += recordSizeEstimate(rec)
	}
	for _, u := range b.undecodable {
		n += len(u.data)
	}
	return n
}

var errNotReports = errors.New("pcm: cannot merge a request that is not a batch of reports")

// MergeSplit appends other's reports to b and cuts the result into batches of at most
// maxSize items (or bytes). The earlier batches are full, so the last one is the smallest.
func (b *reportBatch) MergeSplit(_ context.Context, maxSize int, szt exporterhelper.RequestSizerType, other xexporterhelper.Request) ([]xexporterhelper.Request, error) {
	size := func(*record) int { return 1 }
	switch szt {
	case exporterhelper.RequestSizerTypeItems:
	case exporterhelper.RequestSizerTypeBytes:
		size = recordSizeEstimate
	default:
		return nil, fmt.Errorf("pcm: batching by %v is not supported", szt)
	}
	if other != nil {
		o, ok := other.(*reportBatch)
		if !ok {
			return nil, errNotReports
		}
		if szt == exporterhelper.RequestSizerTypeItems && maxSize > 0 && cap(b.records) < len(b.records)+len(o.records) {
			// The batcher merges request after request up to maxSize: grow once.
			grown := make([]*record, len(b.records), max(maxSize, len(b.records)+len(o.records)))
			copy(grown, b.records)
			b.records = grown
		}
		b.records = append(b.records, o.records...)
		b.undecodable = append(b.undecodable, o.undecodable...)
	}
	if maxSize <= 0 {
		return []xexporterhelper.Request{b}, nil
	}
	var out []xexporterhelper.Request
	cur := &reportBatch{undecodable: b.undecodable}
	used := len(b.undecodable)
	if szt == exporterhelper.RequestSizerTypeBytes {
		used = 0
		for _, u := range b.undecodable {
			used += len(u.data)
		}
	}
	start := 0
	for i, rec := range b.records {
		s := size(rec)
		if used+s > maxSize && (i > start || len(cur.undecodable) > 0) {
			cur.records = b.records[start:i:i]
			out = append(out, cur)
			cur, used, start = &reportBatch{}, 0, i
		}
		used += s
	}
	// The last batch keeps the room left for the batcher's next merges; the full ones before
	// it are capped, so filling it up never touches them.
	cur.records = b.records[start:]
	if cur.ItemsCount() > 0 || len(out) == 0 {
		out = append(out, cur)
	}
	return out, nil
}

// OnError returns what is left to send after a failed push: only the reports PCM has not
// confirmed go back for retry (see heldError).
func (b *reportBatch) OnError(err error) xexporterhelper.Request {
	var held *heldError
	if errors.As(err, &held) {
		return held.left
	}
	return b
}

// heldError is the retryable outcome of a push: left are the reports not delivered yet.
type heldError struct {
	cause error
	left  *reportBatch
}

func (e *heldError) Error() string { return e.cause.Error() }
func (e *heldError) Unwrap() error { return e.cause }
