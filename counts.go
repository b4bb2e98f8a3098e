package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"time"

	"github.com/pcm-otel/pcmexporter/internal/sla"
	"github.com/pcm-otel/pcmexporter/mapping"
)

const (
	outcomeAccepted = iota
	outcomeDiscarded
	outcomeInvalid
	outcomeFailed
	outcomeUnconfirmed // PCM's answer confirmed nothing; retried
	outcomeWaiting     // counterpart unknown until the Directory loads; retried
	// replayed by the persistent queue after a crash although PCM already had it; not resent
	outcomeAlreadyDelivered
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"accepted", "discarded", "invalid", "failed", "unconfirmed", "waiting_for_directory", "already_delivered"}

// outcomeCounts aggregates one push's counts so that each metric is updated once per
// attribute set, not once per report.
type outcomeCounts struct {
	reports  [mapping.NumAPIs][3][numOutcomes]int64 // [API][Role][outcome]
	skipped  map[mapping.SkipReason]int64
	rejected map[rejection]int64
	accepted map[slaClass]int64
	fixes    map[mapping.Fix]int64
	// missingInfo counts accepted reports per endpoint template and obliged additionalInfo key
	// they lacked: bounded by the catalog and the obligations table.
	missingInfo map[infoGap]int64
	days        sla.Classifier
}

type infoGap struct{ endpoint, key string }

type rejection struct{ source, reason string }

type slaClass struct{ day, deadline, strict string }

const (
	sourceLocal = "local"
	sourcePCM   = "pcm"
)

func (c *outcomeCounts) reject(source, message string) {
	if c.rejected == nil {
		c.rejected = map[rejection]int64{}
	}
	c.rejected[rejection{source, errorType(message)}]++
}

func (c *outcomeCounts) accept(transaction, accepted time.Time) {
	if c.accepted == nil {
		c.accepted = map[slaClass]int64{}
	}
	day, deadline, strict := c.days.Classify(transaction, accepted)
	c.accepted[slaClass{day, deadline, strict}]++
}

func (c *outcomeCounts) add(api mapping.API, role mapping.Role, outcome int, n int64) {
	c.reports[api][role][outcome] += n
}

func (c *outcomeCounts) fix(fixes mapping.Fixes) {
	if c.fixes == nil {
		c.fixes = map[mapping.Fix]int64{}
	}
	for f := range fixes.All() {
		c.fixes[f]++
	}
}

func (c *outcomeCounts) lacked(endpoint string, keys []string) {
	if len(keys) == 0 {
		return
	}
	if c.missingInfo == nil {
		c.missingInfo = map[infoGap]int64{}
	}
	for _, k := range keys {
		c.missingInfo[infoGap{endpoint, k}]++
	}
}

func (c *outcomeCounts) skip(reason mapping.SkipReason) {
	if c.skipped == nil {
		c.skipped = map[mapping.SkipReason]int64{}
	}
	c.skipped[reason]++
}
