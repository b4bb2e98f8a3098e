package pcmexporter

import (
	"context"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/pcm-otel/pcmexporter/internal/sla"
)

func openTestRecord(t *testing.T, store *memStorage, maxEntries int, maxAge time.Duration) *deliveryRecord {
	t.Helper()
	client, err := store.GetClient(context.Background(), component.KindExporter, component.MustNewID("pcm"), deliveryRecordClientName)
	require.NoError(t, err)
	r, err := newDeliveryRecord(context.Background(), client, maxEntries, maxAge)
	require.NoError(t, err)
	return r
}

// testKeys returns n distinct span keys, numbered from first.
func testKeys(first, n int) []sla.Key {
	keys := make([]sla.Key, n)
	for i := range keys {
		binary.BigEndian.PutUint64(keys[i].Trace[:], uint64(first+i))
		binary.BigEndian.PutUint64(keys[i].Span[:], uint64(first+i))
	}
	return keys
}

func marksOf(t *testing.T, r *deliveryRecord, keys []sla.Key) []mark {
	t.Helper()
	return r.lookup(keys)
}

// stored counts the record's journal entries and stored bytes.
func (m *memStorage) stored() (journal, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.data {
		name, ok := strings.CutPrefix(k, deliveryRecordClientName+"/")
		if !ok {
			continue
		}
		bytes += len(name) + len(v)
		if name[0] == journalTag {
			journal++
		}
	}
	return journal, bytes
}

func TestDeliveryRecordMarksSurviveARestart(t *testing.T) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{}}
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	r := openTestRecord(t, store, 100, time.Hour)
	keys := testKeys(0, 3)
	seq, err := r.write(ctx, keys[:2], markSending, now)
	require.NoError(t, err)
	assert.Equal(t, []mark{markSending, markSending, markNone}, marksOf(t, r, keys))
	require.NoError(t, r.settle(ctx, seq, keys[:1], keys[1:2]))
	_, err = r.write(ctx, keys[2:], markSending, now)
	require.NoError(t, err) // and the collector crashed before PCM's answer to this POST

	r = openTestRecord(t, store, 100, time.Hour)
	assert.Equal(t, []mark{markDelivered, markNone, markSending}, marksOf(t, r, keys))
	assert.Equal(t, 2, r.entries, "keys[1] lost its mark")
	assert.Equal(t, []mark{markNone}, marksOf(t, r, testKeys(10, 1)), "never written")
}

func TestDeliveryRecordExpiresEntriesAfterMaxAge(t *testing.T) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{}}
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	r := openTestRecord(t, store, 100, time.Hour)
	old, recent, fresh := testKeys(0, 2), testKeys(10, 2), testKeys(20, 2)
	seq, err := r.write(ctx, old, markSending, now)
	require.NoError(t, err)
	require.NoError(t, r.settle(ctx, seq, old, nil))
	_, err = r.write(ctx, recent, markDelivered, now.Add(30*time.Minute))
	require.NoError(t, err)

	r = openTestRecord(t, store, 100, time.Hour) // the age of the oldest entry is read back from storage
	_, err = r.write(ctx, fresh, markDelivered, now.Add(time.Hour+time.Second))
	require.NoError(t, err)
	assert.Equal(t, []mark{markNone, markNone}, marksOf(t, r, old), "older than maxAge")
	assert.Equal(t, []mark{markDelivered, markDelivered}, marksOf(t, r, recent))
	assert.Equal(t, []mark{markDelivered, markDelivered}, marksOf(t, r, fresh))
	journal, _ := store.stored()
	assert.Len(t, r.index, 4)
	assert.Equal(t, 2, journal)
}

func TestDeliveryRecordEvictsTheOldestBeyondMaxEntries(t *testing.T) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{}}
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	r := openTestRecord(t, store, 10, 24*time.Hour)
	for i := range 5 {
		_, err := r.write(ctx, testKeys(4*i, 4), markDelivered, now)
		require.NoError(t, err)
	}
	assert.Equal(t, []mark{markNone, markNone, markNone, markNone}, marksOf(t, r, testKeys(0, 4)), "oldest batch evicted")
	assert.Equal(t, []mark{markNone, markNone, markNone, markNone}, marksOf(t, r, testKeys(4, 4)), "second oldest evicted")
	assert.Equal(t, []mark{markNone, markNone, markNone, markNone}, marksOf(t, r, testKeys(8, 4)), "third oldest evicted")
	assert.Equal(t, []mark{markDelivered, markDelivered, markDelivered, markDelivered}, marksOf(t, r, testKeys(16, 4)))
	assert.Len(t, r.index, 8)
	assert.Equal(t, [3]uint64{3, 5, 8}, [3]uint64{r.head, r.next, uint64(r.entries)})

	r = openTestRecord(t, store, 10, 24*time.Hour)
	assert.Len(t, r.index, 8, "the same after a restart")
	assert.Equal(t, []mark{markDelivered, markDelivered, markDelivered, markDelivered}, marksOf(t, r, testKeys(16, 4)))
}

// A report whose first POST failed is written again by its next POST: evicting the first
// journal entry must not remove the newer mark.
func TestDeliveryRecordEvictionKeepsAMarkWrittenAgain(t *testing.T) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{}}
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	r := openTestRecord(t, store, 100, time.Hour)
	k := testKeys(0, 1)
	seq, err := r.write(ctx, k, markSending, now)
	require.NoError(t, err)
	require.NoError(t, r.settle(ctx, seq, nil, k)) // PCM's answer confirmed nothing
	_, err = r.write(ctx, k, markSending, now.Add(59*time.Minute))
	require.NoError(t, err) // and the collector crashed during the retry

	_, err = r.write(ctx, testKeys(5, 1), markDelivered, now.Add(61*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), r.head, "the first entry expired")
	assert.Equal(t, []mark{markSending}, marksOf(t, r, k))
}

// TestDeliveryRecordStaysBoundedUnderSustainedLoad: a million reports through a record of
// 20,000 entries leave at most 20,000 marks and the journal entries that list them.
func TestDeliveryRecordStaysBoundedUnderSustainedLoad(t *testing.T) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{}}
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	const maxEntries, perPOST = 20_000, 100
	r := openTestRecord(t, store, maxEntries, 8*24*time.Hour)
	maxMarks, maxBytes := 0, 0
	for i := range 10_000 {
		keys := testKeys(i*perPOST, perPOST)
		seq, err := r.write(ctx, keys, markSending, now)
		require.NoError(t, err)
		// most accepted, some unconfirmed (retried and written again later)
		require.NoError(t, r.settle(ctx, seq, keys[:perPOST-3], keys[perPOST-3:]))
		now = now.Add(10 * time.Millisecond) // 10,000 reports/s: the count bound decides, not the age
		if i%100 == 0 {
			_, b := store.stored()
			maxMarks, maxBytes = max(maxMarks, len(r.index)), max(maxBytes, b)
		}
	}
	journal, bytes := store.stored()
	maxMarks, maxBytes = max(maxMarks, len(r.index)), max(maxBytes, bytes)
	assert.LessOrEqual(t, maxMarks, maxEntries)
	assert.LessOrEqual(t, journal, maxEntries/(perPOST-3)+1)
	assert.LessOrEqual(t, maxBytes, maxEntries*deliveryRecordBytesPerReport+(maxEntries/(perPOST-3)+1)*(9+8)+100)
	assert.LessOrEqual(t, r.entries, maxEntries)
	assert.LessOrEqual(t, len(r.journal), maxEntries/(perPOST-3)+1)
	t.Logf("1,000,000 reports: at most %d marks, %d bytes stored (%.1f bytes a report)", maxMarks, maxBytes, float64(maxBytes)/float64(maxMarks))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r = openTestRecord(t, store, maxEntries, 8*24*time.Hour)
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("index after a restart: %d marks, %.0f bytes of heap a mark", len(r.index), float64(after.HeapAlloc-before.HeapAlloc)/float64(len(r.index)))
}

// BenchmarkDeliveryRecordPOST is the record's work for one POST of 5,000 reports, in memory:
// the lookup before sending, the write-ahead mark and the settling after PCM's answer, with
// eviction at the bound. ns/report excludes the storage's own disk writes (two transactions
// per POST with file_storage).
func BenchmarkDeliveryRecordPOST(b *testing.B) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{}}
	client, err := store.GetClient(ctx, component.KindExporter, component.MustNewID("pcm"), deliveryRecordClientName)
	require.NoError(b, err)
	r, err := newDeliveryRecord(ctx, client, 50_000, deliveryRecordMaxAge)
	require.NoError(b, err)
	const perPOST = 5000
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	first := 0
	b.ReportAllocs()
	for b.Loop() {
		keys := testKeys(first, perPOST)
		first += perPOST
		r.lookup(keys)
		seq, err := r.write(ctx, keys, markSending, now)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.settle(ctx, seq, keys, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/perPOST, "ns/report")
}

// A damaged record does not stop the exporter: it starts empty (a restart may then duplicate,
// never lose) and is written afresh.
func TestDamagedDeliveryRecordStartsEmpty(t *testing.T) {
	ctx := context.Background()
	store := &memStorage{data: map[string][]byte{deliveryRecordClientName + "/" + metaKey: []byte("garbage")}}
	client, err := store.GetClient(ctx, component.KindExporter, component.MustNewID("pcm"), deliveryRecordClientName)
	require.NoError(t, err)
	r, err := newDeliveryRecord(ctx, client, 100, time.Hour)
	require.ErrorIs(t, err, errDamagedRecord)
	require.NotNil(t, r)
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	_, err = r.write(ctx, testKeys(0, 2), markDelivered, now)
	require.NoError(t, err)

	r = openTestRecord(t, store, 100, time.Hour)
	assert.Equal(t, []mark{markDelivered, markDelivered}, marksOf(t, r, testKeys(0, 2)))
}
