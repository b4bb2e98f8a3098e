package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sustainedShare is the share of the target rate that must be delivered for a rate to count
// as sustained (with nothing refused or failed).
const sustainedShare = 0.99

// The goals of issue 9 for the pcm pipeline on the benchmark's 2 cores.
const (
	goalCPURate  = 50_000  // spans/s at which the CPU goal is measured
	goalCPURatio = 0.5     // at most: pcm's collector CPU per span / otlphttp's at goalCPURate
	goalRate     = 100_000 // spans/s pcm sustains, nothing refused and nothing lost
	goalRSSRate  = 100_000 // spans/s at which the peak RSS goal is measured
	goalRSSMiB   = 120     // at most: pcm's peak RSS at goalRSSRate, MiB (bytes >> 20, as in the table)
)

// row is one pipeline at one target rate in one round.
type row struct {
	Pipeline string
	Round    int     // 1, 2, ... (-repeat)
	Rate     float64 // target spans/s
	Step     time.Duration
	Load     loadResult
	// Collector self-telemetry deltas over the step and its drain.
	Accepted        int64 // otelcol_receiver_accepted_spans
	ReceiverRefused int64 // otelcol_receiver_refused_spans + otelcol_receiver_failed_spans
	EnqueueFailed   int64 // otelcol_exporter_enqueue_failed_spans
	SendFailed      int64 // otelcol_exporter_send_failed_spans
	// Far end: spans received by the sink, or reports accepted by the PCM simulator, and the
	// reports the simulator discarded.
	Delivered, Discarded int64
	CollectorCPU         time.Duration
	HarnessCPU           time.Duration // this process: generator + simulator/sink
	OtherCPU             time.Duration // every other process on the machine
	Elapsed              time.Duration // step + drain
	PeakRSS              int64         // bytes; 0 when unknown
	Drained              bool
	Skipped              string // why the rate was not run
}

func (r row) ran() bool { return r.Skipped == "" }

func (r row) perSecond(n int64) float64 {
	if r.Step <= 0 {
		return 0
	}
	return float64(n) / r.Step.Seconds()
}

// deliveredShare is delivered / target spans.
func (r row) deliveredShare() float64 {
	if r.Load.TargetSpans == 0 {
		return 0
	}
	return float64(r.Delivered) / float64(r.Load.TargetSpans)
}

// refused counts spans the collector did not take: refused by the receiver, mostly because the
// exporter's queue was full (the receiver's count, the exporter's enqueue failures and the
// generator's non-2xx answers are three views of the same spans: the largest is taken), and
// requests that got no answer.
func (r row) refused() int64 {
	return max(r.ReceiverRefused, r.Load.RefusedSpans, r.EnqueueFailed) + r.Load.ErrorSpans
}

// failed counts spans the collector took and did not deliver: send failed (after retries) or
// discarded by the far end.
func (r row) failed() int64 { return r.SendFailed + r.Discarded }

// cpuPer100k is collector CPU seconds per 100,000 delivered spans (NaN when none was).
func (r row) cpuPer100k() float64 {
	if r.Delivered == 0 {
		return math.NaN()
	}
	return r.CollectorCPU.Seconds() / float64(r.Delivered) * 1e5
}

func (r row) harnessPer100k() float64 {
	if r.Delivered == 0 {
		return math.NaN()
	}
	return r.HarnessCPU.Seconds() / float64(r.Delivered) * 1e5
}

// cores is the collector's average CPU use over the step and its drain.
func (r row) cores() float64 { return r.coresOf(r.CollectorCPU) }

// otherCores is the average CPU use of every other process on the machine (not the collector,
// not pcmload) over the step and its drain.
func (r row) otherCores() float64 { return r.coresOf(r.OtherCPU) }

func (r row) coresOf(d time.Duration) float64 {
	if r.Elapsed <= 0 {
		return math.NaN()
	}
	return d.Seconds() / r.Elapsed.Seconds()
}

// sustained: drained, ≥ 99 % of the target delivered, nothing refused or failed.
func (r row) sustained() bool {
	return r.ran() && r.Drained && r.deliveredShare() >= sustainedShare && r.refused() == 0 && r.failed() == 0
}

// environment describes where and how the benchmark ran.
type environment struct {
	Date             time.Time
	Cores            int
	CPUModel         string
	Kernel           string
	GoVersion        string
	Collector        string // binary and version
	Step             time.Duration
	Rounds           int // -repeat: every pipeline ran this many times, in turn
	Senders          int
	SpansPerRequest  int
	OTLPHTTPCompress string
	ValidateEvery    int // the PCM simulator validated every Nth report POST
}

// result is a whole benchmark run.
type result struct {
	Env         environment
	Pipelines   []string // in run order
	Rows        []row    // every round's, in the order they ran
	Interrupted string   // why the run ended early, if it did
	// Validated reports the PCM simulator received (validated in full) and how many of them
	// it discarded.
	Validated, ValidatedDiscarded int64
}

// series is one pipeline at one target rate over the rounds.
type series struct {
	Pipeline string
	Rate     float64
	Rows     []row // one per round that got to the rate, in round order, skipped ones included
}

// measured is the rows of the rounds that ran the rate.
func (s series) measured() []row {
	var out []row
	for _, r := range s.Rows {
		if r.ran() {
			out = append(out, r)
		}
	}
	return out
}

// median is the row of the round with the median collector CPU per delivered span among the
// rounds that ran the rate: with an even number of them, the lower of the two middle ones
// (ties: the earlier round). A round that delivered nothing counts as the most CPU per span.
// ok is false when no round ran the rate.
func (s series) median() (r row, ok bool) {
	ran := s.measured()
	if len(ran) == 0 {
		return row{}, false
	}
	slices.SortStableFunc(ran, func(x, y row) int { return cmp.Compare(cpuKey(x), cpuKey(y)) })
	return ran[(len(ran)-1)/2], true
}

func cpuKey(r row) float64 {
	if v := r.cpuPer100k(); !math.IsNaN(v) {
		return v
	}
	return math.Inf(1)
}

// cpuRange is the lowest and the highest collector CPU per 100k delivered spans of the rounds
// that ran the rate and delivered something (ok false when none did).
func (s series) cpuRange() (lo, hi float64, ok bool) {
	for _, r := range s.measured() {
		if r.Delivered == 0 {
			continue
		}
		v := r.cpuPer100k()
		if !ok {
			lo, hi, ok = v, v, true
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, ok
}

// peakRSS is the highest peak RSS of the rounds, bytes (0: unknown in every round).
func (s series) peakRSS() int64 {
	var peak int64
	for _, r := range s.measured() {
		peak = max(peak, r.PeakRSS)
	}
	return peak
}

// refused and failed are summed over the rounds.
func (s series) refused() int64 {
	var n int64
	for _, r := range s.measured() {
		n += r.refused()
	}
	return n
}

func (s series) failed() int64 {
	var n int64
	for _, r := range s.measured() {
		n += r.failed()
	}
	return n
}

// sustained: sustained in every round (a round that skipped the rate did not sustain it).
func (s series) sustained() bool {
	return len(s.Rows) > 0 && !slices.ContainsFunc(s.Rows, func(r row) bool { return !r.sustained() })
}

// verdict is the table's sustained column.
func (s series) verdict() string {
	if s.sustained() {
		return "yes"
	}
	if len(s.Rows) == 1 {
		if s.Rows[0].ran() && !s.Rows[0].Drained {
			return "no (queue not drained)"
		}
		return "no"
	}
	var sustained, notDrained, skipped int
	for _, r := range s.Rows {
		switch {
		case !r.ran():
			skipped++
		case r.sustained():
			sustained++
		case !r.Drained:
			notDrained++
		}
	}
	why := fmt.Sprintf("sustained in %d of %d rounds", sustained, len(s.Rows))
	if notDrained > 0 {
		why += fmt.Sprintf("; queue not drained in %d", notDrained)
	}
	if skipped > 0 {
		why += fmt.Sprintf("; skipped in %d", skipped)
	}
	return "no (" + why + ")"
}

// series groups the rows by pipeline and rate, in the order they first ran.
func (res result) series() []series {
	var out []series
	for _, r := range res.Rows {
		i := slices.IndexFunc(out, func(s series) bool { return s.Pipeline == r.Pipeline && s.Rate == r.Rate })
		if i < 0 {
			out = append(out, series{Pipeline: r.Pipeline, Rate: r.Rate})
			i = len(out) - 1
		}
		out[i].Rows = append(out[i].Rows, r)
	}
	return out
}

func (res result) seriesOf(pipeline string) []series {
	var out []series
	for _, s := range res.series() {
		if s.Pipeline == pipeline {
			out = append(out, s)
		}
	}
	return out
}

// medianRows is the median row of every rate of the pipeline that some round ran.
func (res result) medianRows(pipeline string) []row {
	var out []row
	for _, s := range res.seriesOf(pipeline) {
		if m, ok := s.median(); ok {
			out = append(out, m)
		}
	}
	return out
}

// sustainedRate is the highest target rate the pipeline sustained in every round (0: none).
func (res result) sustainedRate(pipeline string) float64 {
	best := 0.0
	for _, s := range res.seriesOf(pipeline) {
		if s.sustained() {
			best = max(best, s.Rate)
		}
	}
	return best
}

// cpuRatio is one rate's median collector CPU per delivered span, pcm / otlphttp.
type cpuRatio struct {
	Rate      float64
	Ratio     float64
	Sustained bool // both pipelines sustained the rate in every round
}

// cpuRatios compares the median rows of two pipelines at every rate both ran and delivered
// something.
func (res result) cpuRatios(a, b string) []cpuRatio {
	var out []cpuRatio
	for _, sa := range res.seriesOf(a) {
		for _, sb := range res.seriesOf(b) {
			ra, oka := sa.median()
			rb, okb := sb.median()
			if sa.Rate != sb.Rate || !oka || !okb || ra.Delivered == 0 || rb.Delivered == 0 {
				continue
			}
			out = append(out, cpuRatio{Rate: sa.Rate, Ratio: ra.cpuPer100k() / rb.cpuPer100k(), Sustained: sa.sustained() && sb.sustained()})
		}
	}
	slices.SortFunc(out, func(x, y cpuRatio) int { return cmp.Compare(x.Rate, y.Rate) })
	return out
}

// overallRatio is collector CPU per delivered span over several rates together (total CPU /
// total delivered spans of each pipeline's median rows), pcm / otlphttp: over the rates both
// sustained, or over every rate both ran when they sustained none in common.
func (res result) overallRatio(a, b string) (ratio float64, rates []float64, sustained, ok bool) {
	common := res.cpuRatios(a, b)
	for _, r := range common {
		if r.Sustained {
			rates = append(rates, r.Rate)
		}
	}
	sustained = len(rates) > 0
	if !sustained {
		for _, r := range common {
			rates = append(rates, r.Rate)
		}
	}
	if len(rates) == 0 {
		return 0, nil, false, false
	}
	per := func(p string) float64 {
		var cpu time.Duration
		var delivered int64
		for _, r := range res.medianRows(p) {
			if slices.Contains(rates, r.Rate) {
				cpu += r.CollectorCPU
				delivered += r.Delivered
			}
		}
		return cpu.Seconds() / float64(delivered)
	}
	return per(a) / per(b), rates, sustained, true
}

// Verdicts of a goal.
const (
	met         = "met"
	notMet      = "not met"
	notMeasured = "not measured"
)

// goal is one of the goals and what this run measured of it.
type goal struct {
	Text     string // what the goal asks
	Verdict  string // met, notMet or notMeasured
	Measured string // the value measured, or why there is none
}

// goals judges the goals for the pcm pipeline on the median rows: the ratio of the
// median CPUs, the rates sustained in every round, the highest peak RSS of the rounds.
func (res result) goals() []goal {
	cpu := goal{
		Text:    fmt.Sprintf("collector CPU per span, pcm ≤ %.1f × otlphttp at %s spans/s", goalCPURatio, thousands(goalCPURate)),
		Verdict: notMeasured, Measured: fmt.Sprintf("%s spans/s not run by both pcm and otlphttp", thousands(goalCPURate)),
	}
	for _, r := range res.cpuRatios("pcm", "otlphttp") {
		if r.Rate == goalCPURate {
			cpu.Verdict = metOrNot(r.Ratio <= goalCPURatio)
			cpu.Measured = fmt.Sprintf("%.2f", r.Ratio)
			if !r.Sustained {
				cpu.Measured += ", a rate not sustained by both"
			}
		}
	}

	rate := goal{
		Text:    fmt.Sprintf("pcm sustains ≥ %s spans/s, nothing refused and nothing lost", thousands(goalRate)),
		Verdict: notMeasured, Measured: fmt.Sprintf("no pcm rate ≥ %s spans/s in this run", thousands(goalRate)),
	}
	// Measured when pcm had a rate at or above the goal in the run; one skipped because a lower
	// rate did not drain counts (as not sustained).
	if slices.ContainsFunc(res.seriesOf("pcm"), func(s series) bool { return s.Rate >= goalRate }) {
		sustained := res.sustainedRate("pcm")
		rate.Verdict, rate.Measured = metOrNot(sustained >= goalRate), sustainedText(sustained)
	}

	rss := goal{
		Text:    fmt.Sprintf("pcm peak RSS at %s spans/s ≤ %d MiB", thousands(goalRSSRate), goalRSSMiB),
		Verdict: notMeasured, Measured: fmt.Sprintf("pcm did not run %s spans/s", thousands(goalRSSRate)),
	}
	for _, s := range res.seriesOf("pcm") {
		switch {
		case s.Rate != goalRSSRate || len(s.measured()) == 0:
		case s.peakRSS() <= 0:
			rss.Measured = "peak RSS unknown"
		default:
			mib := s.peakRSS() >> 20
			rss.Verdict, rss.Measured = metOrNot(mib <= goalRSSMiB), fmt.Sprintf("%d MiB", mib)
		}
	}
	return []goal{cpu, rate, rss}
}

// aboveReceiver is one rate's collector CPU per delivered span of each exporter pipeline minus
// the receiver floor's at the same rate: what the exporter, with its queue and batching, adds.
type aboveReceiver struct {
	Rate     float64
	Receiver float64            // the receiver floor's CPU s / 100k spans
	Excess   map[string]float64 // exporter pipeline → its CPU s / 100k spans − Receiver
}

// ratio is pipeline x's excess over the receiver / pipeline y's (ok false unless both ran
// the rate and y's excess is positive).
func (a aboveReceiver) ratio(x, y string) (float64, bool) {
	ex, okx := a.Excess[x]
	ey, oky := a.Excess[y]
	if !okx || !oky || ey <= 0 {
		return 0, false
	}
	return ex / ey, true
}

// exporterPipelines are the pipelines run other than the receiver floor, in run order.
func (res result) exporterPipelines() []string {
	var out []string
	for _, p := range res.Pipelines {
		if p != "receiver" {
			out = append(out, p)
		}
	}
	return out
}

// aboveReceiver compares the median rows of every exporter pipeline with the receiver floor's
// at each rate the floor and at least one of them ran and delivered something, by rate.
func (res result) aboveReceiver() []aboveReceiver {
	var out []aboveReceiver
	for _, floor := range res.medianRows("receiver") {
		if floor.Delivered == 0 {
			continue
		}
		a := aboveReceiver{Rate: floor.Rate, Receiver: floor.cpuPer100k(), Excess: map[string]float64{}}
		for _, p := range res.exporterPipelines() {
			for _, r := range res.medianRows(p) {
				if r.Rate == floor.Rate && r.Delivered > 0 {
					a.Excess[p] = r.cpuPer100k() - a.Receiver
				}
			}
		}
		if len(a.Excess) > 0 {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y aboveReceiver) int { return cmp.Compare(x.Rate, y.Rate) })
	return out
}

// markdown renders the table, the summary and the notes.
func (res result) markdown() string {
	var b strings.Builder
	e := res.Env
	fmt.Fprintf(&b, "### Collector throughput: pcm vs otlphttp (`make bench`)\n\n")
	rounds := max(e.Rounds, 1)
	fmt.Fprintf(&b, "%s · %d cores (%s) · Linux %s · %s · %s · steps of %s · %d senders × %d spans per OTLP/HTTP request",
		e.Date.UTC().Format("2006-01-02 15:04 MST"), e.Cores, orUnknown(e.CPUModel), orUnknown(e.Kernel), e.GoVersion,
		orUnknown(e.Collector), e.Step, e.Senders, e.SpansPerRequest)
	if rounds > 1 {
		fmt.Fprintf(&b, " · %d rounds", rounds)
	}
	b.WriteString("\n\n")
	if res.Interrupted != "" {
		fmt.Fprintf(&b, "**Incomplete run: %s.**\n\n", res.Interrupted)
	}

	// With one round the table is that round's, as it always was; with more, each row is the
	// pipeline and rate's median row.
	cpuHead, rssHead, refusedHead, failedHead, sustainedHead, ofMedians := "collector CPU s / 100k spans", "peak RSS MiB", "refused", "failed", "sustained", ""
	if rounds > 1 {
		fmt.Fprintf(&b, "**Median of %d rounds**: the pipelines ran in turn, round after round (%s, then again), each round with a fresh collector. "+
			"Each row is the round with the median collector CPU per delivered span (with an even number of rounds, the lower of the two middle ones): "+
			"its sent, accepted and delivered spans, CPU, cores, harness and other processes, next to the CPU's range over the rounds. "+
			"Peak RSS is the highest of the rounds, refused and failed are summed over the rounds, and a rate is sustained when it is in every round "+
			"(a round that skipped it did not sustain it). The sustained rates, CPU ratios, the table above the receiver and the goals below use these median rows; "+
			"every round's rows are under \"All rounds\" at the end.\n\n", rounds, strings.Join(res.Pipelines, ", "))
		cpuHead = fmt.Sprintf("collector CPU s / 100k spans, median of %d rounds", rounds)
		rssHead, refusedHead, failedHead = "peak RSS MiB, highest round", "refused, all rounds", "failed, all rounds"
		sustainedHead = "sustained in every round"
		ofMedians = fmt.Sprintf(", median rows of %d rounds", rounds)
	}
	fmt.Fprintf(&b, "| pipeline | target spans/s | sent/s | accepted/s | delivered/s | delivered | %s | CPU min–max over the rounds | collector cores | %s | %s | %s | harness CPU s / 100k spans | other processes, cores | %s |\n",
		cpuHead, rssHead, refusedHead, failedHead, sustainedHead)
	b.WriteString("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | :-: |\n")
	for _, s := range res.series() {
		r, ok := s.median()
		if !ok {
			fmt.Fprintf(&b, "| %s | %s | – | – | – | – | – | – | – | – | – | – | – | – | skipped: %s |\n", s.Pipeline, thousands(s.Rate), s.Rows[0].Skipped)
			continue
		}
		cpuRange := "–"
		if lo, hi, ok := s.cpuRange(); ok {
			cpuRange = fixed(lo, 3) + "–" + fixed(hi, 3)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.1f %% | %s | %s | %.2f | %s | %s | %s | %s | %.2f | %s |\n",
			r.Pipeline, thousands(r.Rate), thousands(r.perSecond(r.Load.SentSpans)), thousands(r.perSecond(r.Accepted)),
			thousands(r.perSecond(r.Delivered)), 100*r.deliveredShare(), fixed(r.cpuPer100k(), 3), cpuRange, r.cores(), mib(s.peakRSS()),
			thousands(float64(s.refused())), thousands(float64(s.failed())), fixed(r.harnessPer100k(), 3), r.otherCores(), s.verdict())
	}
	b.WriteString("\n")

	b.WriteString("**Sustained** (highest target rate with ≥ 99 % delivered after the drain, nothing refused or failed")
	if rounds > 1 {
		b.WriteString(", in every round")
	}
	b.WriteString("):")
	for i, p := range res.Pipelines {
		sep := " "
		if i > 0 {
			sep = " · "
		}
		if s := res.sustainedRate(p); s > 0 {
			fmt.Fprintf(&b, "%s%s **%s spans/s**", sep, p, thousands(s))
		} else {
			fmt.Fprintf(&b, "%s%s none of the rates", sep, p)
		}
	}
	b.WriteString("\n\n")

	if slices.Contains(res.Pipelines, "pcm") && slices.Contains(res.Pipelines, "otlphttp") {
		ratios := res.cpuRatios("pcm", "otlphttp")
		if ratio, rates, both, ok := res.overallRatio("pcm", "otlphttp"); ok {
			over := "the rates both sustain"
			if !both {
				over = "every rate; no rate was sustained by both"
			}
			list := make([]string, len(rates))
			for i, r := range rates {
				list[i] = thousands(r)
			}
			fmt.Fprintf(&b, "**Collector CPU per span, pcm / otlphttp: %.2f** over %s (%s spans/s%s); per rate:", ratio, over, strings.Join(list, ", "), ofMedians)
			for i, r := range ratios {
				sep := " "
				if i > 0 {
					sep = " · "
				}
				fmt.Fprintf(&b, "%s%s: %.2f", sep, thousands(r.Rate), r.Ratio)
			}
			b.WriteString("\n\n")
		}
	}

	if above := res.aboveReceiver(); len(above) > 0 {
		exporters := res.exporterPipelines()
		both := slices.Contains(exporters, "pcm") && slices.Contains(exporters, "otlphttp")
		fmt.Fprintf(&b, "**Above the receiver**: collector CPU per delivered span of each exporter pipeline minus the receiver floor's at the same rate%s, "+
			"what the exporter with its queue and batching adds to what the receiver costs anyway.\n\n", ofMedians)
		b.WriteString("| target spans/s | receiver CPU s / 100k spans |")
		sep := "| --: | --: |"
		for _, p := range exporters {
			fmt.Fprintf(&b, " %s − receiver, CPU s / 100k spans | %s − receiver, µs per span |", p, p)
			sep += " --: | --: |"
		}
		if both {
			b.WriteString(" pcm / otlphttp, above the receiver |")
			sep += " --: |"
		}
		b.WriteString("\n" + sep + "\n")
		for _, a := range above {
			fmt.Fprintf(&b, "| %s | %s |", thousands(a.Rate), fixed(a.Receiver, 3))
			for _, p := range exporters {
				if x, ok := a.Excess[p]; ok {
					// s / 100k spans × 1e6 µs/s / 1e5 spans = µs per span × 10
					fmt.Fprintf(&b, " %s | %s |", fixed(x, 3), fixed(10*x, 2))
				} else {
					b.WriteString(" – | – |")
				}
			}
			if both {
				ratio, ok := a.ratio("pcm", "otlphttp")
				if ok {
					fmt.Fprintf(&b, " %s |", fixed(ratio, 2))
				} else {
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	if slices.Contains(res.Pipelines, "pcm") {
		if rounds > 1 {
			fmt.Fprintf(&b, "**Goals of issue 9** (pcm, on this machine's %d cores; CPU: the ratio of the median rows, sustained: in every one of %d rounds, peak RSS: the highest round):\n\n", e.Cores, rounds)
		} else {
			fmt.Fprintf(&b, "**Goals of issue 9** (pcm, on this machine's %d cores):\n\n", e.Cores)
		}
		for _, g := range res.goals() {
			fmt.Fprintf(&b, "- %s — **%s** (%s)\n", g.Text, g.Verdict, g.Measured)
		}
		b.WriteString("\n")
	}

	b.WriteString("Notes:\n\n")
	fmt.Fprintf(&b, "- The load generator, the PCM simulator or OTLP sink (both in the pcmload process) and the collector share this machine's %d cores. "+
		"Collector CPU is utime+stime of the collector process (/proc/<pid>/stat) over the step and its drain, per delivered span; "+
		"\"harness CPU\" is the same for the pcmload process, which competes with the collector for the cores; "+
		"\"other processes\" is what the rest of the machine used meanwhile (/proc/stat): rows where it is well above 0 were disturbed by other jobs.\n", e.Cores)
	b.WriteString("- Every pipeline: the same collector binary, OTLP/HTTP receiver and memory_limiter, one after the other; configurations in tools/testdata/bench/. " +
		"pcm and otlphttp: each exporter at its defaults, as the issue asks (pcm: an in-memory queue of 200,000 reports, 4 consumers, batches of 1,000 to 5,000 reports; " +
		"otlphttp: an in-memory queue of 1,000 requests, 10 consumers, no batching, gzip).")
	if slices.Contains(res.Pipelines, "receiver") {
		b.WriteString(" The receiver floor: the debug exporter (verbosity basic), which has no queue, no batching and no far end: " +
			"it takes each request's spans while the receiver waits and drops them, so its CPU per span is what the receiver costs before any exporter does anything.")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- Spans: realistic Open Finance Brasil CLIENT (egress gateway → banco B, url.full with query) and SERVER (banco B → API, http.route) spans, "+
		"stable HTTP semantic conventions, x-fapi-interaction-id header arrays (unique per span); every span becomes a PCM report. "+
		"Requests are uncompressed protobuf, sent open-loop at the target rate. otlphttp compression: %s.\n", orUnknown(e.OTLPHTTPCompress))
	if slices.Contains(res.Pipelines, "pcm") {
		if e.ValidateEvery > 1 {
			fmt.Fprintf(&b, "- pcm far end: the PCM simulator (internal/pcmsim) issues the token over mTLS and validates, reconciles and stores every %s report POST in full "+
				"(%s reports in this run, %s discarded); a minimal PCM endpoint in pcmload answers the other POSTs as PCM does (token checked, one ACCEPTED item per report) without validating them, "+
				"as the OTLP sink counts spans without decoding them: the simulator's validation costs several times the collector's CPU per report and would otherwise be the bottleneck on a shared 2-core machine (`-validate-every 1` validates everything).\n",
				ordinal(e.ValidateEvery), thousands(float64(res.Validated)), thousands(float64(res.ValidatedDiscarded)))
		} else {
			fmt.Fprintf(&b, "- pcm far end: the PCM simulator (internal/pcmsim) validates, reconciles and stores every report (%s in this run, %s discarded), in the pcmload process: "+
				"its validation costs several times the collector's CPU per report (see the harness column), so on a shared 2-core machine it limits the pcm pipeline's sustained rate.\n",
				thousands(float64(res.Validated)), thousands(float64(res.ValidatedDiscarded)))
		}
	}
	b.WriteString("- Delivered: reports the PCM far end accepted (pcm), spans the sink received (otlphttp) or spans the debug exporter sent (receiver: the collector's otelcol_exporter_sent_spans), counted after the queue drained, over the step length. " +
		"Refused: spans the receiver did not accept, mostly because the exporter's queue was full (or requests without an answer); failed: spans the exporter could not send and reports the far end discarded.\n")

	if rounds > 1 {
		fmt.Fprintf(&b, "\n<details>\n<summary>All rounds: every pipeline and rate of each round, in the order they ran</summary>\n\n")
		b.WriteString("| round | pipeline | target spans/s | sent/s | accepted/s | delivered/s | delivered | collector CPU s / 100k spans | collector cores | peak RSS MiB | refused | failed | harness CPU s / 100k spans | other processes, cores | sustained |\n")
		b.WriteString("| --: | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | :-: |\n")
		for _, r := range res.Rows {
			fmt.Fprintf(&b, "| %d %s\n", r.Round, roundLine(r))
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// roundLine is one round's row in the "All rounds" table, from the pipeline column on.
func roundLine(r row) string {
	if !r.ran() {
		return fmt.Sprintf("| %s | %s | – | – | – | – | – | – | – | – | – | – | – | skipped: %s |", r.Pipeline, thousands(r.Rate), r.Skipped)
	}
	verdict := "yes"
	switch {
	case !r.Drained:
		verdict = "no (queue not drained)"
	case !r.sustained():
		verdict = "no"
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %.1f %% | %s | %.2f | %s | %s | %s | %s | %.2f | %s |",
		r.Pipeline, thousands(r.Rate), thousands(r.perSecond(r.Load.SentSpans)), thousands(r.perSecond(r.Accepted)),
		thousands(r.perSecond(r.Delivered)), 100*r.deliveredShare(), fixed(r.cpuPer100k(), 3), r.cores(), mib(r.PeakRSS),
		thousands(float64(r.refused())), thousands(float64(r.failed())), fixed(r.harnessPer100k(), 3), r.otherCores(), verdict)
}

// mib is a peak RSS in the tables: MiB, or "–" when unknown.
func mib(bytes int64) string {
	if bytes <= 0 {
		return "–"
	}
	return strconv.FormatInt(bytes>>20, 10)
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

func sustainedText(v float64) string {
	if v <= 0 {
		return "no rate sustained"
	}
	return thousands(v) + " spans/s sustained"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func fixed(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// thousands formats v rounded to an integer with "," between groups of three digits.
func thousands(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
