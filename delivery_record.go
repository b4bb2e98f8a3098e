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
// Marks are written in one storage Batch per POST, listed in a journal entry per Batch, and
// evicted oldest journal entry first, once there are more than maxEntries or the entry is
// older than maxAge. storage.Client cannot list its keys, hence the journal.
//
// Layout (one storage client, named "delivered"):
//
//	"m"                       head seq, next seq, entries (3 × uint64)
//	"j" + seq (8 bytes)       unix nanoseconds (8 bytes) + the span keys written (24 bytes each)
//	"r" + trace id + span id  mark (1 byte) + the seq of the journal entry that lists it
type deliveryRecord struct {
	client     storage.Client
	maxEntries uint64
	maxAge     time.Duration

	mu       sync.Mutex // serialises the journal: one writer at a time
	meta     recordMeta
	headTime time.Time // time of journal entry meta.head; zero when not read yet
}

type recordMeta struct {
	head, next uint64 // oldest journal entry still kept; the next one to write
	entries    uint64 // marks listed in the journal entries head … next-1
}

type mark byte

const (
	markNone mark = iota
	markSending
	markDelivered
)

// Record bounds. Reports can be replayed as long as the queue keeps them: up to PCM's 7-day
// limit (docs/pcm-rules.md §15). Each mark costs about 60 bytes of storage before the store's
// own overhead (see deliveryRecordBytesPerReport).
const (
	deliveryRecordMaxAge     = 7*24*time.Hour + 24*time.Hour
	deliveryRecordMaxEntries = 2_000_000
	// deliveryRecordBytesPerReport: key 25 + value 9 + journal 24 bytes.
	deliveryRecordBytesPerReport = 25 + 9 + 24
	// evictionsPerWrite bounds the work of one write: each write adds one journal entry and
	// may remove up to this many.
	evictionsPerWrite = 4
)

const (
	metaKey      = "m"
	journalTag   = 'j'
	markTag      = 'r'
	spanKeyBytes = 24
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
	return newDeliveryRecord(ctx, client, deliveryRecordMaxEntries, deliveryRecordMaxAge)
}

func newDeliveryRecord(ctx context.Context, client storage.Client, maxEntries uint64, maxAge time.Duration) (*deliveryRecord, error) {
	r := &deliveryRecord{client: client, maxEntries: maxEntries, maxAge: maxAge}
	b, err := client.Get(ctx, metaKey)
	if err != nil {
		return nil, fmt.Errorf("delivery record: %w", err)
	}
	if len(b) == 24 {
		r.meta = recordMeta{head: binary.BigEndian.Uint64(b), next: binary.BigEndian.Uint64(b[8:]), entries: binary.BigEndian.Uint64(b[16:])}
	} else if len(b) != 0 {
		return nil, errors.New("delivery record: unreadable metadata")
	}
	return r, nil
}

func (r *deliveryRecord) close(ctx context.Context) error { return r.client.Close(ctx) }

// markKeys returns the storage keys of the reports' marks, cut from one string.
func markKeys(keys []sla.Key) []string {
	const n = 1 + spanKeyBytes
	b := make([]byte, 0, n*len(keys))
	for _, k := range keys {
		b = append(b, markTag)
		b = append(b, k.Trace[:]...)
		b = append(b, k.Span[:]...)
	}
	all := string(b)
	out := make([]string, len(keys))
	for i := range out {
		out[i] = all[i*n : (i+1)*n]
	}
	return out
}

// operations returns n storage operations from one allocation.
func operations(n int) []*storage.Operation {
	ops := make([]storage.Operation, n)
	ptrs := make([]*storage.Operation, n, n+2)
	for i := range ops {
		ptrs[i] = &ops[i]
	}
	return ptrs
}

// markValues returns n mark values (mark, seq) from one allocation.
func markValues(n int, m mark, seq uint64) [][]byte {
	b := make([]byte, 9*n)
	out := make([][]byte, n)
	for i := range out {
		v := b[9*i : 9*(i+1) : 9*(i+1)]
		v[0] = byte(m)
		binary.BigEndian.PutUint64(v[1:], seq)
		out[i] = v
	}
	return out
}

func journalKey(seq uint64) string {
	var b [9]byte
	b[0] = journalTag
	binary.BigEndian.PutUint64(b[1:], seq)
	return string(b[:])
}

func (r *deliveryRecord) metaValue() []byte {
	v := make([]byte, 24)
	binary.BigEndian.PutUint64(v, r.meta.head)
	binary.BigEndian.PutUint64(v[8:], r.meta.next)
	binary.BigEndian.PutUint64(v[16:], r.meta.entries)
	return v
}

// lookup returns each report's mark, in one storage Batch.
func (r *deliveryRecord) lookup(ctx context.Context, keys []sla.Key) ([]mark, error) {
	ops := operations(len(keys))
	for i, k := range markKeys(keys) {
		*ops[i] = storage.Operation{Type: storage.Get, Key: k}
	}
	if err := r.client.Batch(ctx, ops...); err != nil {
		return nil, err
	}
	marks := make([]mark, len(keys))
	for i, op := range ops {
		if len(op.Value) == 9 {
			marks[i] = mark(op.Value[0])
		}
	}
	return marks, nil
}

// write marks the reports and lists them in a new journal entry, in one storage Batch, then
// evicts what is beyond the bounds. It returns the journal entry's seq, for settle.
func (r *deliveryRecord) write(ctx context.Context, keys []sla.Key, m mark, now time.Time) (uint64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.meta.next
	journal := make([]byte, 8, 8+spanKeyBytes*len(keys))
	binary.BigEndian.PutUint64(journal, uint64(now.UnixNano()))
	ops := operations(len(keys))
	values := markValues(len(keys), m, seq)
	for i, k := range markKeys(keys) {
		*ops[i] = storage.Operation{Type: storage.Set, Key: k, Value: values[i]}
		journal = append(journal, k[1:]...)
	}
	before := r.meta
	r.meta.next++
	r.meta.entries += uint64(len(keys))
	ops = append(ops, storage.SetOperation(journalKey(seq), journal), storage.SetOperation(metaKey, r.metaValue()))
	if err := r.client.Batch(ctx, ops...); err != nil {
		r.meta = before
		return 0, err
	}
	if before.head == before.next {
		r.headTime = now
	}
	return seq, r.evict(ctx, now)
}

// settle records PCM's answer to a POST whose reports were written as sending with seq:
// delivered ones are marked so, the others lose their mark (they are resent as usual).
func (r *deliveryRecord) settle(ctx context.Context, seq uint64, delivered, unconfirmed []sla.Key) error {
	if len(delivered)+len(unconfirmed) == 0 {
		return nil
	}
	ops := operations(len(delivered) + len(unconfirmed))
	values := markValues(len(delivered), markDelivered, seq)
	for i, k := range markKeys(delivered) {
		*ops[i] = storage.Operation{Type: storage.Set, Key: k, Value: values[i]}
	}
	for i, k := range markKeys(unconfirmed) {
		*ops[len(delivered)+i] = storage.Operation{Type: storage.Delete, Key: k}
	}
	return r.client.Batch(ctx, ops...)
}

// evict removes the oldest journal entries, and the marks they still own, while the record
// holds more than maxEntries marks or its oldest entry is older than maxAge; at most
// evictionsPerWrite entries per call, so that one write stays cheap. r.mu is held.
func (r *deliveryRecord) evict(ctx context.Context, now time.Time) error {
	for range evictionsPerWrite {
		if r.meta.head == r.meta.next {
			return nil
		}
		if r.meta.entries <= r.maxEntries && !r.headTime.IsZero() && now.Sub(r.headTime) <= r.maxAge {
			return nil
		}
		journal, err := r.client.Get(ctx, journalKey(r.meta.head))
		if err != nil {
			return err
		}
		var keys []string
		if len(journal) >= 8 {
			r.headTime = time.Unix(0, int64(binary.BigEndian.Uint64(journal)))
			if r.meta.entries <= r.maxEntries && now.Sub(r.headTime) <= r.maxAge {
				return nil
			}
			for b := journal[8:]; len(b) >= spanKeyBytes; b = b[spanKeyBytes:] {
				keys = append(keys, string(markTag)+string(b[:spanKeyBytes]))
			}
		}
		if err := r.dropJournalEntry(ctx, keys); err != nil {
			return err
		}
	}
	return nil
}

// dropJournalEntry deletes the head journal entry and those of its marks that a later entry
// has not taken over (a report written again after its first POST failed).
func (r *deliveryRecord) dropJournalEntry(ctx context.Context, keys []string) error {
	seq := r.meta.head
	gets := make([]*storage.Operation, len(keys))
	for i, k := range keys {
		gets[i] = storage.GetOperation(k)
	}
	if len(gets) > 0 {
		if err := r.client.Batch(ctx, gets...); err != nil {
			return err
		}
	}
	ops := make([]*storage.Operation, 0, len(keys)+2)
	for _, op := range gets {
		if len(op.Value) == 9 && binary.BigEndian.Uint64(op.Value[1:]) == seq {
			ops = append(ops, storage.DeleteOperation(op.Key))
		}
	}
	before := r.meta
	r.meta.head++
	r.meta.entries -= min(r.meta.entries, uint64(len(keys)))
	ops = append(ops, storage.DeleteOperation(journalKey(seq)), storage.SetOperation(metaKey, r.metaValue()))
	if err := r.client.Batch(ctx, ops...); err != nil {
		r.meta = before
		return err
	}
	r.headTime = time.Time{}
	return nil
}
