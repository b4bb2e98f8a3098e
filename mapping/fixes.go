package mapping

import (
	"iter"
	"strconv"
)

// Fix is one correction Map made so that an optional value PCM would reject does not sink the
// whole report (docs/pcm-rules.md §15.6, §15.7). The exporter counts
// each fix under Fix.String and logs it, rate-limited.
type Fix uint8

const (
	// FixAdditionalInfoConverted: an additionalInfo value was converted to the type PCM's schema
	// declares for its key (a number or boolean made a string, a boolean spelled TRUE/FALSE,
	// errorCodes cut to its first code, a one-element array unwrapped). docs/pcm-rules.md §6.
	FixAdditionalInfoConverted Fix = 1 << iota
	// FixAdditionalInfoDropped: an additionalInfo key was left out because its value cannot be
	// converted (a map, array or bytes where PCM wants a string, an empty value), or because an
	// opendata report carries clientIp only (Decision 17). Result.DroppedInfoKey names the first.
	FixAdditionalInfoDropped
	// FixCorrelationIDReplaced: the configured correlationId broke PCM's pattern
	// ^[- /:_.',0-9a-zA-Z]{0,100}$ and was replaced by the trace id (docs/pcm-rules.md §5.4).
	FixCorrelationIDReplaced

	fixEnd // one past the last Fix
)

// String returns the metric attribute value of a single fix: "additional_info_converted",
// "additional_info_dropped" or "correlation_id_replaced". The names are stable.
func (f Fix) String() string {
	switch f {
	case FixAdditionalInfoConverted:
		return "additional_info_converted"
	case FixAdditionalInfoDropped:
		return "additional_info_dropped"
	case FixCorrelationIDReplaced:
		return "correlation_id_replaced"
	}
	return "Fix(" + strconv.Itoa(int(f)) + ")"
}

// Fixes is a set of Fix values; the zero value is the empty set. It is a bit set so that the
// common path (no fix) costs nothing.
type Fixes uint8

// Has reports whether f is in the set.
func (s Fixes) Has(f Fix) bool { return s&Fixes(f) != 0 }

// All yields the fixes in the set in a fixed order, without allocating.
func (s Fixes) All() iter.Seq[Fix] {
	return func(yield func(Fix) bool) {
		for f := Fix(1); f < fixEnd; f <<= 1 {
			if s.Has(f) && !yield(f) {
				return
			}
		}
	}
}

func (s *Fixes) add(f Fix) { *s |= Fixes(f) }
