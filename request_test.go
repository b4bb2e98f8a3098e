package pcmexporter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

func batchOf(n int) *reportBatch {
	b := &reportBatch{records: pointTo(make([]record, n))}
	for i := range b.records {
		b.records[i].report.StatusCode = 200 + i
	}
	return b
}

func statuses(reqs []*reportBatch) [][]int {
	var out [][]int
	for _, r := range reqs {
		var s []int
		for _, rec := range r.records {
			s = append(s, rec.report.StatusCode)
		}
		out = append(out, s)
	}
	return out
}

func TestMergeSplitKeepsEveryReportInOrderWithinTheLimit(t *testing.T) {
	a, b := batchOf(3), batchOf(2)
	b.records[0].report.StatusCode, b.records[1].report.StatusCode = 300, 301
	reqs, err := a.MergeSplit(context.Background(), 2, exporterhelper.RequestSizerTypeItems, b)
	require.NoError(t, err)
	var got []*reportBatch
	for _, r := range reqs {
		got = append(got, r.(*reportBatch))
	}
	assert.Equal(t, [][]int{{200, 201}, {202, 300}, {301}}, statuses(got))

	// The last batch keeps filling up without touching the earlier ones.
	more, err := got[2].MergeSplit(context.Background(), 2, exporterhelper.RequestSizerTypeItems, batchOf(1))
	require.NoError(t, err)
	require.Len(t, more, 1)
	assert.Equal(t, [][]int{{200, 201}, {202, 300}}, statuses(got[:2]))
	assert.Equal(t, [][]int{{301, 200}}, statuses([]*reportBatch{more[0].(*reportBatch)}))
}

func TestMergeSplitByBytesAndUnlimited(t *testing.T) {
	one := recordSizeEstimate(&record{})
	reqs, err := batchOf(5).MergeSplit(context.Background(), 2*one, exporterhelper.RequestSizerTypeBytes, nil)
	require.NoError(t, err)
	assert.Len(t, reqs, 3)
	reqs, err = batchOf(5).MergeSplit(context.Background(), 0, exporterhelper.RequestSizerTypeItems, batchOf(5))
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	assert.Equal(t, 10, reqs[0].ItemsCount())
	_, err = batchOf(1).MergeSplit(context.Background(), 1, exporterhelper.RequestSizerTypeRequests, nil)
	assert.Error(t, err)
}

func TestOnErrorHandsBackOnlyTheReportsNotDelivered(t *testing.T) {
	b := batchOf(3)
	left := batchOf(1)
	err := exporterhelper.NewThrottleRetry(&heldError{cause: errors.New("503"), left: left}, time.Second)
	assert.Same(t, left, b.OnError(err))
	assert.Same(t, b, b.OnError(errors.New("anything else")), "a failure that says nothing keeps the batch")
}

// TestTheDoorDropsWhatIsNotAReport: spans that are not reports never reach the queue.
func TestTheDoorDropsWhatIsNotAReport(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	internal := spanSpec{kind: ptrace.SpanKindInternal, method: "GET"}
	db := spanSpec{kind: ptrace.SpanKindClient}
	health := spanSpec{kind: ptrace.SpanKindServer, method: "GET", path: "/health", status: 200}
	req, err := exp.convert(context.Background(), traces(internal, db, health, clientCall("GET", accountsURL, 200)))
	require.NoError(t, err)
	assert.Equal(t, 1, req.ItemsCount())
}

// TestTimeChecksRunWhenSending: a report valid at the door but past PCM's 7-day limit when it
// is finally sent is dead-lettered then, not sent.
func TestTimeChecksRunWhenSending(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, _ := startExporter(t, cfg)
	start := time.Now()
	req, err := exp.convert(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	require.NoError(t, err)
	require.Equal(t, 1, req.ItemsCount(), "valid at the door")

	exp.now = func() time.Time { return start.Add(7 * 24 * time.Hour) }
	require.NoError(t, exp.push(context.Background(), req), "dead-lettered, as at the door: nothing to retry")
	assert.Empty(t, pcm.delivered())
	dead, err := deadletter.Read(cfg.DeadLetter.Path)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, deadletter.StageInvalid, dead[0].Stage)
	assert.Equal(t, "Report is too old: timestamp", dead[0].Reason)
}

// TestTheDoorLeavesTimeChecksToSending: a span from a clock far ahead is queued, not
// dead-lettered at the door; it is sent once its time has come.
func TestTheDoorLeavesTimeChecksToSending(t *testing.T) {
	pcm := newFakePCM(t)
	exp, _ := startExporter(t, pcm.config())
	ahead := clientCall("GET", accountsURL, 200)
	ahead.age = -time.Hour
	req, err := exp.convert(context.Background(), traces(ahead))
	require.NoError(t, err)
	require.Equal(t, 1, req.ItemsCount())
	exp.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	require.NoError(t, exp.push(context.Background(), req))
	assert.Len(t, pcm.delivered()[privatePath], 1)
}

// TestMergingMovesPointersNotReports: the batcher's merges up to maxSize grow the batch once and
// keep pointing at the reports the door made; no report is copied.
func TestMergingMovesPointersNotReports(t *testing.T) {
	a, b, c := batchOf(2), batchOf(2), batchOf(2)
	originals := append(append(append([]*record(nil), a.records...), b.records...), c.records...)
	reqs, err := a.MergeSplit(context.Background(), 10, exporterhelper.RequestSizerTypeItems, b)
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	merged := reqs[0].(*reportBatch)
	assert.Equal(t, 10, cap(merged.records), "grown once, to maxSize")
	reqs, err = merged.MergeSplit(context.Background(), 10, exporterhelper.RequestSizerTypeItems, c)
	require.NoError(t, err)
	merged = reqs[0].(*reportBatch)
	require.Len(t, merged.records, 6)
	for i, rec := range merged.records {
		assert.Same(t, originals[i], rec, "report %d", i)
	}
}

// TestTheDoorKeepsNoRoomForSpansThatAreNotReports: a request with a few reports among many
// other spans queues a slab the size of its reports.
func TestTheDoorKeepsNoRoomForSpansThatAreNotReports(t *testing.T) {
	mostlyOther := make([]record, 2, 100)
	assert.Equal(t, 2, cap(fitted(mostlyOther)))
	allReports := make([]record, 90, 100)
	assert.Equal(t, 100, cap(fitted(allReports)), "no copy when nearly every span was a report")
}
