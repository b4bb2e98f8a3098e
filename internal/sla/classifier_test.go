package sla

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestClassifierAgreesWithTheFunctions over 2010–2030, DST years of Brasília included, in
// batch-like runs of close timestamps.
func TestClassifierAgreesWithTheFunctions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var c Classifier
	from := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 20_000 {
		base := time.Unix(from+rng.Int64N(to-from), 0)
		for range 5 {
			ts := base.Add(time.Duration(rng.Int64N(int64(6 * time.Hour))))
			accepted := ts.Add(time.Duration(rng.Int64N(int64(9 * 24 * time.Hour))))
			day, deadline, strict := c.Classify(ts, accepted)
			if day != TransactionDay(ts) || deadline != Classify(ts, accepted) || strict != ClassifyStrict(ts, accepted) {
				t.Fatalf("%v accepted %v: got %s %s %s, want %s %s %s", ts, accepted, day, deadline, strict,
					TransactionDay(ts), Classify(ts, accepted), ClassifyStrict(ts, accepted))
			}
		}
	}
}
