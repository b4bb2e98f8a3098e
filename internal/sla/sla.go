// Package sla follows what the regulator judges an institution by: 95 % of a transaction
// day's reports accepted by 08:00 (Brasília) of the next day, the rest within 7 days. It
// classifies accepted reports by that deadline and remembers the reports that were tried
// but not yet accepted, so an ageing backlog is visible before the deadline passes.
package sla // import "github.com/pcm-otel/pcmexporter/internal/sla"

import (
	"sync"
	"time"
	_ "time/tzdata" // America/Sao_Paulo must resolve on minimal container images too
)

// Deadline classes of an accepted report.
const (
	OnTime  = "d1_0800" // accepted by 08:00 of D+1 in America/Sao_Paulo
	D7      = "d7"      // after that, but within 7 days of the transaction
	Expired = "expired" // 7 days or more after the transaction: PCM refuses it
)

// ReportLifetime is how long PCM takes a report after its transaction.
const ReportLifetime = 7 * 24 * time.Hour

var saoPaulo = mustLoad("America/Sao_Paulo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded, so this cannot happen
	}
	return loc
}

// TransactionDay is the report's day in Brasília, as PCM counts it.
func TransactionDay(ts time.Time) string {
	return ts.In(saoPaulo).Format(time.DateOnly)
}

// Readings of the D+1 deadline (docs/pcm-rules.md Decision 19): PCM's FAQ says 08:00 BRT,
// its ticket formula says 08:00 GMT, which is 05:00 BRT. StrictMet/StrictMissed say whether an
// acceptance met the stricter one.
const (
	StrictMet    = "met"
	StrictMissed = "missed"
)

// ClassifyStrict says whether an acceptance at accepted met the strict reading of the D+1
// deadline for a transaction at ts: 08:00 GMT of the day after the transaction's Brasília day.
func ClassifyStrict(ts, accepted time.Time) string {
	local := ts.In(saoPaulo)
	nextDay0800GMT := time.Date(local.Year(), local.Month(), local.Day()+1, 8, 0, 0, 0, time.UTC)
	if accepted.After(nextDay0800GMT) {
		return StrictMissed
	}
	return StrictMet
}

// Classify says which deadline an acceptance at accepted met for a transaction at ts.
func Classify(ts, accepted time.Time) string {
	local := ts.In(saoPaulo)
	nextDay0800 := time.Date(local.Year(), local.Month(), local.Day()+1, 8, 0, 0, 0, saoPaulo)
	switch {
	case !accepted.After(nextDay0800):
		return OnTime
	case accepted.Sub(ts) < ReportLifetime:
		return D7
	default:
		return Expired
	}
}

// Key identifies the span a report was made of.
type Key struct {
	Trace [16]byte
	Span  [8]byte
}

// Backlog remembers every report that was tried and not yet accepted (nor given up): its
// transaction time, for the SLA gauges, and when it first failed, for the retry budget. It is
// safe for concurrent use.
type Backlog struct {
	mu      sync.Mutex
	pending map[Key]pendingReport
	limit   int
}

type pendingReport struct {
	transaction, failingSince time.Time
}

// NewBacklog keeps at most limit reports (the oldest stay: they are the ones at risk).
func NewBacklog(limit int) *Backlog {
	return &Backlog{pending: map[Key]pendingReport{}, limit: limit}
}

// Pending records reports that failed to be delivered at now; a report already pending keeps
// the time it first failed.
func (b *Backlog) Pending(keys []Key, times []time.Time, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, k := range keys {
		if _, ok := b.pending[k]; ok {
			continue
		}
		if len(b.pending) >= b.limit {
			continue
		}
		b.pending[k] = pendingReport{transaction: times[i], failingSince: now}
	}
}

// Len is how many reports are pending.
func (b *Backlog) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// FailingSince returns when the report first failed to be delivered; false when it is not
// pending (never failed, or beyond the backlog's limit).
func (b *Backlog) FailingSince(k Key) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.pending[k]
	return p.failingSince, ok
}

// Done forgets reports: accepted, discarded or dead-lettered.
func (b *Backlog) Done(keys ...Key) {
	b.mu.Lock()
	if len(b.pending) > 0 { // nearly always empty: most reports are accepted at the first try
		for _, k := range keys {
			delete(b.pending, k)
		}
	}
	b.mu.Unlock()
}

// Stats returns the oldest pending transaction time (zero when none) and how many pending
// reports are older than atRisk. Entries past PCM's 7-day limit are dropped after they are
// counted once more: PCM would refuse them anyway, and the map must not grow forever.
func (b *Backlog) Stats(now time.Time, atRisk time.Duration) (oldest time.Time, risky int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, p := range b.pending {
		ts := p.transaction
		age := now.Sub(ts)
		if age >= atRisk {
			risky++
		}
		if age >= ReportLifetime+24*time.Hour {
			delete(b.pending, k)
			continue
		}
		if oldest.IsZero() || ts.Before(oldest) {
			oldest = ts
		}
	}
	return oldest, risky
}

// Classifier gives what TransactionDay, Classify and ClassifyStrict give, remembering the last
// transaction day: the reports of one batch nearly all share it, and time zone arithmetic per
// report was a tenth of the exporter's CPU. The zero Classifier is ready; it is not safe for
// concurrent use.
type Classifier struct {
	start, end          time.Time // the cached Brasília day, [start, end)
	day                 string
	nextDay0800, strict time.Time // the D+1 deadlines of that day (see Classify, ClassifyStrict)
}

// Classify returns the transaction day of ts and the deadline classes of an acceptance at
// accepted.
func (c *Classifier) Classify(ts, accepted time.Time) (day, deadline, strict string) {
	if c.day == "" || ts.Before(c.start) || !ts.Before(c.end) {
		local := ts.In(saoPaulo)
		y, m, d := local.Date()
		c.start = time.Date(y, m, d, 0, 0, 0, 0, saoPaulo)
		c.end = time.Date(y, m, d+1, 0, 0, 0, 0, saoPaulo)
		c.day = local.Format(time.DateOnly)
		c.nextDay0800 = time.Date(y, m, d+1, 8, 0, 0, 0, saoPaulo)
		c.strict = time.Date(y, m, d+1, 8, 0, 0, 0, time.UTC)
		if !localMidnight(c.start) || !localMidnight(c.end) || !ts.Before(c.end) || ts.Before(c.start) {
			// A day that starts or ends in a clock change at midnight (Brasília's DST until
			// 2019): no cache.
			c.day = ""
			return TransactionDay(ts), Classify(ts, accepted), ClassifyStrict(ts, accepted)
		}
	}
	switch {
	case !accepted.After(c.nextDay0800):
		deadline = OnTime
	case accepted.Sub(ts) < ReportLifetime:
		deadline = D7
	default:
		deadline = Expired
	}
	strict = StrictMet
	if accepted.After(c.strict) {
		strict = StrictMissed
	}
	return c.day, deadline, strict
}

func localMidnight(t time.Time) bool {
	h, m, sec := t.In(saoPaulo).Clock()
	return h == 0 && m == 0 && sec == 0
}
