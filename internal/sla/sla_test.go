package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func brt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, saoPaulo)
	if err != nil {
		panic(err)
	}
	return t
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		tx, accept time.Time
		want       string
	}{
		{"same day", brt("2026-11-25 10:00"), brt("2026-11-25 10:01"), OnTime},
		{"late evening, next morning before 08:00", brt("2026-11-25 23:59"), brt("2026-11-26 07:59"), OnTime},
		{"exactly 08:00 next day", brt("2026-11-25 12:00"), brt("2026-11-26 08:00"), OnTime},
		{"08:01 next day", brt("2026-11-25 12:00"), brt("2026-11-26 08:01"), D7},
		{"day 6", brt("2026-11-25 12:00"), brt("2026-12-01 12:00"), D7},
		{"7 days", brt("2026-11-25 12:00"), brt("2026-12-02 12:00"), Expired},
		// 01:00 UTC on the 26th is still the 25th in Brasília (UTC-3).
		{"UTC day differs from BRT day", time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC), OnTime},
		{"month end", brt("2026-11-30 18:00"), brt("2026-12-01 09:00"), D7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Classify(tt.tx, tt.accept))
		})
	}
	assert.Equal(t, "2026-11-25", TransactionDay(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)))
}

func TestClassifyStrict(t *testing.T) {
	tests := []struct {
		name       string
		tx, accept time.Time
		want       string
	}{
		{"next day 04:59 BRT", brt("2026-11-25 12:00"), brt("2026-11-26 04:59"), StrictMet},
		{"next day 05:00 BRT = 08:00 GMT", brt("2026-11-25 12:00"), brt("2026-11-26 05:00"), StrictMet},
		{"next day 05:01 BRT: met 08:00 BRT, missed 08:00 GMT", brt("2026-11-25 12:00"), brt("2026-11-26 05:01"), StrictMissed},
		// 01:00 UTC on the 26th is the 25th in Brasília: the deadline is 08:00 UTC on the 26th.
		{"BRT day decides", time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 7, 59, 0, 0, time.UTC), StrictMet},
		{"same day", brt("2026-11-25 23:00"), brt("2026-11-25 23:30"), StrictMet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ClassifyStrict(tt.tx, tt.accept))
		})
	}
	// The two readings differ exactly between 05:00 and 08:00 BRT of D+1.
	assert.Equal(t, OnTime, Classify(brt("2026-11-25 12:00"), brt("2026-11-26 06:00")))
	assert.Equal(t, StrictMissed, ClassifyStrict(brt("2026-11-25 12:00"), brt("2026-11-26 06:00")))
}

func TestBacklog(t *testing.T) {
	now := brt("2026-11-25 12:00")
	b := NewBacklog(3)
	k := func(n byte) Key { return Key{Trace: [16]byte{n}} }
	oldest, risky := b.Stats(now, 6*24*time.Hour)
	assert.True(t, oldest.IsZero())
	assert.Zero(t, risky)

	b.Pending([]Key{k(1), k(2)}, []time.Time{now.Add(-2 * time.Hour), now.Add(-7 * 24 * time.Hour)}, now)
	b.Pending([]Key{k(3), k(4)}, []time.Time{now.Add(-time.Hour), now}, now) // k(4) is over the limit
	_, ok := b.FailingSince(k(4))
	assert.False(t, ok, "over the limit: not tracked")

	// A report failing again keeps the time it first failed: the retry budget counts from there.
	b.Pending([]Key{k(1)}, []time.Time{now.Add(-2 * time.Hour)}, now.Add(time.Hour))
	since, ok := b.FailingSince(k(1))
	assert.True(t, ok)
	assert.Equal(t, now, since)
	oldest, risky = b.Stats(now, 6*24*time.Hour)
	assert.Equal(t, now.Add(-7*24*time.Hour), oldest)
	assert.Equal(t, 1, risky)

	b.Done(k(2))
	oldest, risky = b.Stats(now, 6*24*time.Hour)
	assert.Equal(t, now.Add(-2*time.Hour), oldest)
	assert.Zero(t, risky)

	// Long past PCM's window, entries are dropped so the map cannot grow forever.
	_, risky = b.Stats(now.Add(9*24*time.Hour), 6*24*time.Hour)
	assert.Equal(t, 2, risky)
	oldest, risky = b.Stats(now.Add(9*24*time.Hour), 6*24*time.Hour)
	assert.True(t, oldest.IsZero())
	assert.Zero(t, risky)
}
