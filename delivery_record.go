package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/pcm-otel/pcmexporter/internal/sla"
)

// deliveryRecord remembers, in the sending queue's storage extension, which reports were
// sent to PCM, so that what the persistent queue replays after a crash is not sent twice
// (PCM has no idempotency key). A report is keyed by its span (trace id + span id: unique per
// report, and what the queue entry carries). Its mark is
//
//   - sending: written before the POST that carries it (write-ahead); a crash between the
//     POST and PCM's answer leaves it, and the report is then looked up in PCM before it is
//     sent again;
//   - delivered: PCM's answer confirmed it (accepted or discarded); it is never sent again.
//
// Each POST is one journal entry, written (all sending) in one storage Batch before the POST
// and rewritten (the delivered ones only) after PCM's answer: keys that only grow, one value
// per POST, so that the store appends instead of inserting 5,000 random keys (measured 40 µs a
// report on file_storage). The marks are answered from an index in memory, rebuilt from the
// journal at start. Entries are evicted oldest first once the record holds more than
// maxEntries marks or the entry is older than maxAge.
//
// Layout (one storage client, named "delivered"):
//
//	"m"                  head seq, next seq (2 × uint64): the journal entries kept
//	"j" + seq (8 bytes)  unix nanoseconds (8 bytes) + per report: trace id, span id, mark (25 bytes)
type deliveryRecord struct {
	client     storage.Client
	maxEntries int
	maxAge     time.Duration

	mu      sync.Mutex
	head    uint64 // oldest journal entry kept
	next    uint64 // the next journal entry to write
	entries int    // marks listed in the kept journal entries
	journal []journalInfo
	index   map[sla.Key]indexed
}

// journalInfo is what eviction needs to know of a journal entry without reading it.
type journalInfo struct {
	seq  uint64
	time time.Time
	n    int // reports listed
}

// indexed is a report's mark and the journal entry that holds it, in 8 bytes: the index
// costs about 50 bytes of memory a report.
type indexed uint64

func index(seq uint64, m mark) indexed { return indexed(seq<<8 | uint64(m)) }
func (i indexed) seq() uint64          { return uint64(i) >> 8 }
func (i indexed) mark() mark           { return mark(i & 0xff) }

type mark byte

const (
	markNone mark = iota
	markSending
	markDelivered
)

// Record bounds. Reports can be replayed as long as the queue keeps them: up to PCM's 7-day
// limit (docs/pcm-rules.md §15) — a day more as margin. How many: delivery_record.max_entries.
const (
	deliveryRecordMaxAge = 7*24*time.Hour + 24*time.Hour
	// deliveryRecordBytesPerReport is a report's share of the stored journal.
	deliveryRecordBytesPerReport = journalItemBytes
	// ageEvictionsPerWrite bounds the work of one write for entries that are only too old;
	// entries beyond maxEntries are all evicted at once.
	ageEvictionsPerWrite = 4
)

const (
	metaKey          = "m"
	journalTag       = 'j'
	spanKeyBytes     = 24
	journalItemBytes = spanKeyBytes + 1
	// journalLoadBatch is how many journal entries one storage Batch reads at start.
	journalLoadBatch = 256
)

// deliveryRecordClientName is the storage client's name beside the sending queue's own.
const deliveryRecordClientName = "delivered"

// openDeliveryRecord returns nil when the sending queue is not persistent: then nothing is
// replayed after a restart and there is nothing to remember.
func openDeliveryRecord(ctx context.Context, host component.Host, cfg *Config, id component.ID) (*deliveryRecord, error) {
	if !cfg.QueueConfig.HasValue() || cfg.QueueConfig.Get().StorageID == nil {
		return nil, nil
	}
	sid := *cfg.QueueConfig.Get().StorageID
	ext, ok := host.GetExtensions()[sid]
	if !ok {
		return nil, fmt.Errorf("sending_queue.storage: extension %q not found", sid)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("sending_queue.storage: extension %q is not a storage extension", sid)
	}
	client, err := se.GetClient(ctx, component.KindExporter, id, deliveryRecordClientName)
	if err != nil {
		return nil, fmt.Errorf("sending_queue.storage: delivery record: %w", err)
	}
	return newDeliveryRecord(ctx, client, cfg.DeliveryRecord.MaxEntries, deliveryRecordMaxAge)
}

func newDeliveryRecord(ctx context.Context, client storage.Client, maxEntries int, maxAge time.Duration) (*deliveryRecord, error) {
	r := &deliveryRecord{client: client, maxEntries: maxEntries, maxAge: maxAge, index: map[sla.Key]indexed{}}
	b, err := client.Get(ctx, metaKey)
	if err != nil {
		return nil, fmt.Errorf("delivery record: %w", err)
	}
	if len(b) == 0 {
		return r, nil
	}
	if len(b) != 16 || binary.BigEndian.Uint64(b) > binary.BigEndian.Uint64(b[8:]) {
		// Start afresh rather than not at all: without the record, a restart may only
		// duplicate, never lose.
		return r, errDamagedRecord
	}
	r.head, r.next = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
	return r, r.load(ctx)
}

// errDamagedRecord: the record's metadata is unreadable; the record starts empty.
var errDamagedRecord = errors.New("the delivery record is damaged and starts empty: reports replayed by this restart may be sent again")

// load rebuilds the index from the journal, oldest entry first, so that a report's latest
// mark wins.
func (r *deliveryRecord) load(ctx context.Context) error {
	for from := r.head; from < r.next; from += journalLoadBatch {
		ops := operations(int(min(journalLoadBatch, r.next-from)))
		for i := range ops {
			*ops[i] = storage.Operation{Type: storage.Get, Key: journalKey(from + uint64(i))}
		}
		if err := r.client.Batch(ctx, ops...); err != nil {
			return fmt.Errorf("delivery record: %w", err)
		}
		for i, op := range ops {
			seq := from + uint64(i)
			info := journalInfo{seq: seq}
			if len(op.Value) >= 8 {
				info.time = time.Unix(0, int64(binary.BigEndian.Uint64(op.Value)))
				for b := op.Value[8:]; len(b) >= journalItemBytes; b = b[journalItemBytes:] {
					r.index[spanKeyOf(b)] = index(seq, mark(b[spanKeyBytes]))
					info.n++
				}
			}
			r.journal = append(r.journal, info)
			r.entries += info.n
		}
	}
	return nil
}

func (r *deliveryRecord) close(ctx context.Context) error { return r.client.Close(ctx) }

func spanKeyOf(b []byte) sla.Key {
	var k sla.Key
	copy(k.Trace[:], b)
	copy(k.Span[:], b[16:spanKeyBytes])
	return k
}

func journalKey(seq uint64) string {
	var b [9]byte
	b[0] = journalTag
	binary.BigEndian.PutUint64(b[1:], seq)
	return string(b[:])
}

func journalValue(now time.Time, keys []sla.Key, m mark) []byte {
	v := make([]byte, 8, 8+journalItemBytes*len(keys))
	binary.BigEndian.PutUint64(v, uint64(now.UnixNano()))
	for _, k := range keys {
		v = append(v, k.Trace[:]...)
		v = append(v, k.Span[:]...)
		v = append(v, byte(m))
	}
	return v
}

func (r *deliveryRecord) metaValue() []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, r.head)
	binary.BigEndian.PutUint64(v[8:], r.next)
	return v
}

// operations returns n storage operations from one allocation.
func operations(n int) []*storage.Operation {
	ops := make([]storage.Operation, n)
	ptrs := make([]*storage.Operation, n)
	for i := range ops {
		ptrs[i] = &ops[i]
	}
	return ptrs
}

// lookup returns each report's mark.
func (r *deliveryRecord) lookup(keys []sla.Key) []mark {
	r.mu.Lock()
	defer r.mu.Unlock()
	marks := make([]mark, len(keys))
	for i, k := range keys {
		marks[i] = r.index[k].mark()
	}
	return marks
}

// write marks the reports in a new journal entry, in one storage Batch, then evicts what is
// beyond the bounds. It returns the journal entry's seq, for settle.
func (r *deliveryRecord) write(ctx context.Context, keys []sla.Key, m mark, now time.Time) (uint64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.next
	r.next++
	err := r.client.Batch(ctx, storage.SetOperation(journalKey(seq), journalValue(now, keys, m)), storage.SetOperation(metaKey, r.metaValue()))
	if err != nil {
		r.next--
		return 0, err
	}
	for _, k := range keys {
		r.index[k] = index(seq, m)
	}
	r.journal = append(r.journal, journalInfo{seq: seq, time: now, n: len(keys)})
	r.entries += len(keys)
	return seq, r.evict(ctx, now)
}

// settle records PCM's answer to a POST whose reports were written as sending in journal
// entry seq; delivered and unconfirmed are all of them. The entry is rewritten with the
// delivered ones only; the others lose their mark (they are resent as usual).
func (r *deliveryRecord) settle(ctx context.Context, seq uint64, delivered, unconfirmed []sla.Key) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(seq)
	if i < 0 {
		return nil // evicted meanwhile
	}
	if err := r.client.Batch(ctx, storage.SetOperation(journalKey(seq), journalValue(r.journal[i].time, delivered, markDelivered))); err != nil {
		return err
	}
	for _, k := range delivered {
		if r.index[k].seq() == seq {
			r.index[k] = index(seq, markDelivered)
		}
	}
	for _, k := range unconfirmed {
		if r.index[k].seq() == seq {
			delete(r.index, k)
		}
	}
	r.entries -= r.journal[i].n - len(delivered)
	r.journal[i].n = len(delivered)
	return nil
}

// find returns the position of journal entry seq in r.journal, or -1. r.mu is held.
func (r *deliveryRecord) find(seq uint64) int {
	if len(r.journal) == 0 || seq < r.journal[0].seq {
		return -1
	}
	i := int(seq - r.journal[0].seq)
	if i >= len(r.journal) {
		return -1
	}
	return i
}

// evict removes the oldest journal entries, and the marks they still hold, while the record
// holds more than maxEntries marks, and up to ageEvictionsPerWrite entries older than maxAge.
// r.mu is held.
func (r *deliveryRecord) evict(ctx context.Context, now time.Time) error {
	aged := 0
	for len(r.journal) > 0 {
		oldest := r.journal[0]
		switch {
		case r.entries > r.maxEntries:
		case now.Sub(oldest.time) > r.maxAge && aged < ageEvictionsPerWrite:
			aged++
		default:
			return nil
		}
		if err := r.dropOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

// dropOldest deletes the oldest journal entry and those of its marks that a later entry has
// not taken over (a report written again after its first POST failed).
func (r *deliveryRecord) dropOldest(ctx context.Context) error {
	oldest := r.journal[0]
	var keys []sla.Key
	if oldest.n > 0 {
		v, err := r.client.Get(ctx, journalKey(oldest.seq))
		if err != nil {
			return err
		}
		if len(v) >= 8 {
			for b := v[8:]; len(b) >= journalItemBytes; b = b[journalItemBytes:] {
				keys = append(keys, spanKeyOf(b))
			}
		}
	}
	r.head = oldest.seq + 1
	if err := r.client.Batch(ctx, storage.DeleteOperation(journalKey(oldest.seq)), storage.SetOperation(metaKey, r.metaValue())); err != nil {
		r.head = oldest.seq
		return err
	}
	for _, k := range keys {
		if r.index[k].seq() == oldest.seq {
			delete(r.index, k)
		}
	}
	r.journal = r.journal[1:]
	r.entries -= oldest.n
	return nil
}
