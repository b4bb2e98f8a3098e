package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testRow is a pipeline at a rate for a 10 s step: everything sent, accepted and delivered
// unless changed, with cpuPer100k collector CPU seconds per 100k spans.
func testRow(pipeline string, rate float64, cpuPer100k float64) row {
	spans := int64(rate * 10)
	return row{
		Pipeline: pipeline, Rate: rate, Step: 10 * time.Second,
		Load:     loadResult{TargetSpans: spans, SentSpans: spans, OKSpans: spans},
		Accepted: spans, Delivered: spans,
		CollectorCPU: time.Duration(cpuPer100k * float64(spans) / 1e5 * float64(time.Second)),
		HarnessCPU:   time.Duration(0.3 * float64(spans) / 1e5 * float64(time.Second)),
		OtherCPU:     110 * time.Millisecond, Elapsed: 11 * time.Second, PeakRSS: 150 << 20, Drained: true,
	}
}

func TestRowSustained(t *testing.T) {
	ok := testRow("pcm", 10_000, 1.5)
	require.True(t, ok.sustained())
	require.InDelta(t, 1.5, ok.cpuPer100k(), 1e-9)
	require.InDelta(t, 1.5*100_000/1e5/11, ok.cores(), 1e-9)

	short := ok
	short.Delivered = ok.Load.TargetSpans * 989 / 1000 // 98.9 %
	require.False(t, short.sustained())
	short.Delivered = ok.Load.TargetSpans * 99 / 100
	require.True(t, short.sustained())

	for name, mutate := range map[string]func(*row){
		"receiver refused":  func(r *row) { r.ReceiverRefused = 1 },
		"generator refused": func(r *row) { r.Load.RefusedSpans = 500 },
		"no answer":         func(r *row) { r.Load.ErrorSpans = 500 },
		"enqueue failed":    func(r *row) { r.EnqueueFailed = 1 },
		"send failed":       func(r *row) { r.SendFailed = 1 },
		"discarded":         func(r *row) { r.Discarded = 1 },
		"not drained":       func(r *row) { r.Drained = false },
		"skipped":           func(r *row) { r.Skipped = "x" },
	} {
		r := ok
		mutate(&r)
		require.False(t, r.sustained(), name)
	}

	// Refusals seen by the receiver and by the generator are the same spans: not added up.
	r := ok
	r.ReceiverRefused, r.Load.RefusedSpans, r.EnqueueFailed, r.Load.ErrorSpans = 1000, 1500, 1500, 500
	require.EqualValues(t, 2000, r.refused())
	require.Zero(t, r.failed())
}

// tableAt returns the Markdown table whose header line starts with header: its lines up to
// the first line that is not a table row.
func tableAt(t *testing.T, lines []string, header string) []string {
	t.Helper()
	for i, l := range lines {
		if strings.HasPrefix(l, header) {
			j := i
			for j < len(lines) && strings.HasPrefix(lines[j], "| ") {
				j++
			}
			return lines[i:j]
		}
	}
	t.Fatalf("no table with header %q", header)
	return nil
}

// requireColumns checks that every line of a table has its header's number of columns.
func requireColumns(t *testing.T, table []string) {
	t.Helper()
	for _, l := range table {
		require.Equal(t, strings.Count(table[0], "|"), strings.Count(l, "|"), l)
	}
}

func TestMarkdown(t *testing.T) {
	pcm75 := testRow("pcm", 75_000, 1.8)
	pcm75.Delivered = pcm75.Load.TargetSpans * 9 / 10 // 1.8 s CPU per 100k target spans: 2.0 per delivered
	pcm75.ReceiverRefused = 12_345
	pcm75.Drained = false
	res := result{
		Env: environment{
			Date: time.Date(2025, 11, 25, 14, 0, 0, 0, time.UTC), Cores: 2, CPUModel: "AMD EPYC", Kernel: "6.1.0",
			GoVersion: "go1.26.8", Collector: "otelcol-pcm 0.1.0", Step: 10 * time.Second, Senders: 8, SpansPerRequest: 500,
			OTLPHTTPCompress: "gzip", ValidateEvery: 20,
		},
		Pipelines: []string{"receiver", "pcm", "otlphttp"},
		Rows: []row{
			testRow("receiver", 10_000, 0.9), testRow("receiver", 50_000, 0.8), testRow("receiver", 75_000, 0.6),
			testRow("pcm", 10_000, 1.2), testRow("pcm", 50_000, 1.4), pcm75,
			{Pipeline: "pcm", Rate: 100_000, Step: 10 * time.Second, Skipped: "the previous rate did not drain"},
			testRow("otlphttp", 10_000, 1.0), testRow("otlphttp", 50_000, 1.6), testRow("otlphttp", 75_000, 1.5),
		},
		Validated: 50_000,
	}
	md := res.markdown()
	lines := strings.Split(md, "\n")
	// One round: the table as a single run's, with the CPU range min = max.
	require.Contains(t, lines, "| pipeline | target spans/s | sent/s | accepted/s | delivered/s | delivered | collector CPU s / 100k spans | CPU min–max over the rounds | collector cores | peak RSS MiB | refused | failed | harness CPU s / 100k spans | other processes, cores | sustained |")
	require.Contains(t, lines, "| receiver | 50,000 | 50,000 | 50,000 | 50,000 | 100.0 % | 0.800 | 0.800–0.800 | 0.36 | 150 | 0 | 0 | 0.300 | 0.01 | yes |")
	require.Contains(t, lines, "| pcm | 10,000 | 10,000 | 10,000 | 10,000 | 100.0 % | 1.200 | 1.200–1.200 | 0.11 | 150 | 0 | 0 | 0.300 | 0.01 | yes |")
	require.Contains(t, lines, "| pcm | 75,000 | 75,000 | 75,000 | 67,500 | 90.0 % | 2.000 | 2.000–2.000 | 1.23 | 150 | 12,345 | 0 | 0.333 | 0.01 | no (queue not drained) |")
	require.Contains(t, lines, "| pcm | 100,000 | – | – | – | – | – | – | – | – | – | – | – | – | skipped: the previous rate did not drain |")
	require.Contains(t, lines, "| otlphttp | 75,000 | 75,000 | 75,000 | 75,000 | 100.0 % | 1.500 | 1.500–1.500 | 1.02 | 150 | 0 | 0 | 0.300 | 0.01 | yes |")
	require.NotContains(t, md, "Median of")
	require.NotContains(t, md, "All rounds")
	require.NotContains(t, md, "rounds ·")
	require.Contains(t, md, "receiver **75,000 spans/s** · pcm **50,000 spans/s** · otlphttp **75,000 spans/s**")
	// The headline ratio is over the rates both sustained: (1.2 × 1 + 1.4 × 5) / (1.0 × 1 + 1.6 × 5).
	require.Contains(t, md, "**Collector CPU per span, pcm / otlphttp: 0.91** over the rates both sustain (10,000, 50,000 spans/s); per rate: 10,000: 1.20 · 50,000: 0.88 · 75,000: 1.33")
	require.NotContains(t, md, "on par")

	// Above the receiver, per rate: pcm − receiver, otlphttp − receiver (×10: µs per span),
	// and their ratio. 10,000: 1.2 − 0.9 = 0.3, 1.0 − 0.9 = 0.1, 3.00; 50,000: 1.4 − 0.8 = 0.6,
	// 1.6 − 0.8 = 0.8, 0.75; 75,000: 2.0 − 0.6 = 1.4, 1.5 − 0.6 = 0.9, 1.56.
	above := tableAt(t, lines, "| target spans/s | receiver CPU s / 100k spans |")
	require.Equal(t, []string{
		"| target spans/s | receiver CPU s / 100k spans | pcm − receiver, CPU s / 100k spans | pcm − receiver, µs per span | otlphttp − receiver, CPU s / 100k spans | otlphttp − receiver, µs per span | pcm / otlphttp, above the receiver |",
		"| --: | --: | --: | --: | --: | --: | --: |",
		"| 10,000 | 0.900 | 0.300 | 3.00 | 0.100 | 1.00 | 3.00 |",
		"| 50,000 | 0.800 | 0.600 | 6.00 | 0.800 | 8.00 | 0.75 |",
		"| 75,000 | 0.600 | 1.400 | 14.00 | 0.900 | 9.00 | 1.56 |",
	}, above)

	// The goals: 1.4 / 1.6 = 0.875 at 50,000; pcm's 100,000 was skipped (75,000 did not
	// drain), so 50,000 is its highest sustained rate and its RSS there was not measured.
	require.Contains(t, lines, "**Goals of issue 9** (pcm, on this machine's 2 cores):")
	require.Contains(t, lines, "- collector CPU per span, pcm ≤ 0.5 × otlphttp at 50,000 spans/s — **not met** (0.88)")
	require.Contains(t, lines, "- pcm sustains ≥ 100,000 spans/s, nothing refused and nothing lost — **not met** (50,000 spans/s sustained)")
	require.Contains(t, lines, "- pcm peak RSS at 100,000 spans/s ≤ 120 MiB — **not measured** (pcm did not run 100,000 spans/s)")

	require.Contains(t, md, "share this machine's 2 cores")
	require.Contains(t, md, "The receiver floor: the debug exporter (verbosity basic), which has no queue")
	require.Contains(t, md, "every 20th report POST in full (50,000 reports in this run, 0 discarded)")
	require.Contains(t, md, "2025-11-25 14:00 UTC · 2 cores (AMD EPYC)")

	// Every row of each table has its header's number of columns.
	main := tableAt(t, lines, "| pipeline |")
	require.Len(t, main, 2+len(res.Rows))
	requireColumns(t, main)
	requireColumns(t, above)

	// Without pcm and otlphttp together: no ratio column; a rate only one of them ran shows "–".
	res.Pipelines = []string{"receiver", "pcm"}
	res.Rows = []row{testRow("receiver", 50_000, 0.8), testRow("pcm", 50_000, 1.4), testRow("receiver", 75_000, 0.6)}
	lines = strings.Split(res.markdown(), "\n")
	above = tableAt(t, lines, "| target spans/s | receiver CPU s / 100k spans |")
	require.Equal(t, []string{
		"| target spans/s | receiver CPU s / 100k spans | pcm − receiver, CPU s / 100k spans | pcm − receiver, µs per span |",
		"| --: | --: | --: | --: |",
		"| 50,000 | 0.800 | 0.600 | 6.00 |",
	}, above)
	require.Contains(t, lines, "- collector CPU per span, pcm ≤ 0.5 × otlphttp at 50,000 spans/s — **not measured** (50,000 spans/s not run by both pcm and otlphttp)")
	require.NotContains(t, strings.Join(lines, "\n"), "Collector CPU per span, pcm / otlphttp")

	// Without the receiver floor: no "above the receiver" table, no floor in the notes.
	res.Pipelines = []string{"pcm", "otlphttp"}
	res.Rows = []row{pcm75, testRow("otlphttp", 75_000, 1.5)}
	md = res.markdown()
	require.Contains(t, md, "pcm none of the rates · otlphttp **75,000 spans/s**")
	require.Contains(t, md, "**Collector CPU per span, pcm / otlphttp: 1.33** over every rate; no rate was sustained by both (75,000 spans/s)")
	require.NotContains(t, md, "Above the receiver")
	require.NotContains(t, md, "receiver floor")

	// Without pcm: no goals.
	res.Pipelines = []string{"receiver", "otlphttp"}
	res.Rows = []row{testRow("receiver", 50_000, 0.8), testRow("otlphttp", 50_000, 1.6)}
	require.NotContains(t, res.markdown(), "Goals of issue 9")
}

func TestGoals(t *testing.T) {
	rss := func(r row, bytes int64) row { r.PeakRSS = bytes; return r }
	refused := func(r row) row { r.ReceiverRefused = 1_000; return r }
	for _, tc := range []struct {
		name string
		rows []row
		want [3]goal // Text is not compared
	}{{
		name: "all met",
		// 0.7 / 1.6 = 0.4375; pcm sustains 100,000 with 100 MiB.
		rows: []row{testRow("pcm", 50_000, 0.7), rss(testRow("pcm", 100_000, 0.6), 100<<20), testRow("otlphttp", 50_000, 1.6)},
		want: [3]goal{{Verdict: met, Measured: "0.44"}, {Verdict: met, Measured: "100,000 spans/s sustained"}, {Verdict: met, Measured: "100 MiB"}},
	}, {
		name: "none met",
		// 1.4 / 1.6 = 0.875; pcm's 100,000 refused spans, so 50,000 is its highest sustained rate.
		rows: []row{testRow("pcm", 50_000, 1.4), refused(testRow("pcm", 100_000, 1.2)), testRow("otlphttp", 50_000, 1.6)},
		want: [3]goal{{Verdict: notMet, Measured: "0.88"}, {Verdict: notMet, Measured: "50,000 spans/s sustained"}, {Verdict: notMet, Measured: "150 MiB"}},
	}, {
		name: "nothing measured",
		rows: []row{testRow("pcm", 25_000, 1.4), testRow("otlphttp", 25_000, 1.6)},
		want: [3]goal{
			{Verdict: notMeasured, Measured: "50,000 spans/s not run by both pcm and otlphttp"},
			{Verdict: notMeasured, Measured: "no pcm rate ≥ 100,000 spans/s in this run"},
			{Verdict: notMeasured, Measured: "pcm did not run 100,000 spans/s"},
		},
	}, {
		name: "otlphttp did not run 50,000; pcm's 100,000 skipped",
		rows: []row{
			testRow("pcm", 50_000, 0.7), refused(testRow("pcm", 75_000, 0.7)),
			{Pipeline: "pcm", Rate: 100_000, Step: 10 * time.Second, Skipped: "the previous rate did not drain"},
			testRow("otlphttp", 25_000, 1.6),
		},
		want: [3]goal{
			{Verdict: notMeasured, Measured: "50,000 spans/s not run by both pcm and otlphttp"},
			{Verdict: notMet, Measured: "50,000 spans/s sustained"},
			{Verdict: notMeasured, Measured: "pcm did not run 100,000 spans/s"},
		},
	}, {
		name: "no rate sustained, RSS unknown",
		rows: []row{refused(rss(testRow("pcm", 100_000, 0.6), 0))},
		want: [3]goal{
			{Verdict: notMeasured, Measured: "50,000 spans/s not run by both pcm and otlphttp"},
			{Verdict: notMet, Measured: "no rate sustained"},
			{Verdict: notMeasured, Measured: "peak RSS unknown"},
		},
	}, {
		name: "a higher rate sustained; RSS on the MiB the table shows",
		// 0.4 / 1.6 = 0.25 although otlphttp refused spans at 50,000; 120 MiB + 1,023 bytes is 120 MiB.
		rows: []row{
			testRow("pcm", 50_000, 0.4), rss(testRow("pcm", 100_000, 0.6), 120<<20+1023), testRow("pcm", 150_000, 0.6),
			refused(testRow("otlphttp", 50_000, 1.6)),
		},
		want: [3]goal{
			{Verdict: met, Measured: "0.25, a rate not sustained by both"},
			{Verdict: met, Measured: "150,000 spans/s sustained"},
			{Verdict: met, Measured: "120 MiB"},
		},
	}, {
		name: "121 MiB",
		rows: []row{rss(testRow("pcm", 100_000, 0.6), 121<<20)},
		want: [3]goal{
			{Verdict: notMeasured, Measured: "50,000 spans/s not run by both pcm and otlphttp"},
			{Verdict: met, Measured: "100,000 spans/s sustained"},
			{Verdict: notMet, Measured: "121 MiB"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := result{Pipelines: []string{"pcm", "otlphttp"}, Rows: tc.rows}.goals()
			require.Len(t, got, 3)
			for i := range got {
				require.Equal(t, tc.want[i].Verdict, got[i].Verdict, got[i].Text)
				require.Equal(t, tc.want[i].Measured, got[i].Measured, got[i].Text)
			}
		})
	}
	got := result{}.goals()
	require.Equal(t, "collector CPU per span, pcm ≤ 0.5 × otlphttp at 50,000 spans/s", got[0].Text)
	require.Equal(t, "pcm sustains ≥ 100,000 spans/s, nothing refused and nothing lost", got[1].Text)
	require.Equal(t, "pcm peak RSS at 100,000 spans/s ≤ 120 MiB", got[2].Text)
}

func TestAboveReceiver(t *testing.T) {
	res := result{
		Pipelines: []string{"receiver", "pcm", "otlphttp"},
		Rows: []row{
			// 75,000 first: the result is sorted by rate.
			testRow("receiver", 75_000, 0.7), testRow("receiver", 25_000, 0.9), testRow("receiver", 50_000, 0.8),
			{Pipeline: "receiver", Rate: 100_000, Step: 10 * time.Second, Skipped: "the previous rate did not drain"},
			testRow("pcm", 25_000, 1.2), testRow("pcm", 50_000, 1.0), testRow("pcm", 100_000, 1.1),
			testRow("otlphttp", 25_000, 0.85), testRow("otlphttp", 50_000, 1.6), testRow("otlphttp", 100_000, 2.0),
		},
	}
	above := res.aboveReceiver()
	// 75,000: no exporter pipeline ran it; 100,000: the floor did not.
	require.Len(t, above, 2)

	// 25,000: pcm 1.2 − 0.9 = 0.3; otlphttp 0.85 − 0.9 = −0.05, below the floor: no ratio.
	require.Equal(t, 25_000.0, above[0].Rate)
	require.InDelta(t, 0.9, above[0].Receiver, 1e-9)
	require.InDelta(t, 0.3, above[0].Excess["pcm"], 1e-9)
	require.InDelta(t, -0.05, above[0].Excess["otlphttp"], 1e-9)
	_, ok := above[0].ratio("pcm", "otlphttp")
	require.False(t, ok)

	// 50,000: pcm 1.0 − 0.8 = 0.2, otlphttp 1.6 − 0.8 = 0.8: pcm adds a quarter of what otlphttp adds.
	require.Equal(t, 50_000.0, above[1].Rate)
	require.InDelta(t, 0.8, above[1].Receiver, 1e-9)
	require.InDelta(t, 0.2, above[1].Excess["pcm"], 1e-9)
	require.InDelta(t, 0.8, above[1].Excess["otlphttp"], 1e-9)
	ratio, ok := above[1].ratio("pcm", "otlphttp")
	require.True(t, ok)
	require.InDelta(t, 0.25, ratio, 1e-9)

	// A rate only one exporter pipeline ran has no ratio.
	only := aboveReceiver{Rate: 10_000, Receiver: 1, Excess: map[string]float64{"pcm": 0.5}}
	_, ok = only.ratio("pcm", "otlphttp")
	require.False(t, ok)

	// Rows that delivered nothing have no CPU per span and are left out.
	none := testRow("pcm", 25_000, 1.2)
	none.Delivered = 0
	res.Rows = []row{testRow("receiver", 25_000, 0.9), none}
	require.Empty(t, res.aboveReceiver())
}

// inRound is r as measured in round n.
func inRound(n int, r row) row { r.Round = n; return r }

func TestSeries(t *testing.T) {
	const rate = 50_000
	pcm := func(round int, cpu float64, mutate ...func(*row)) row {
		r := inRound(round, testRow("pcm", rate, cpu))
		for _, m := range mutate {
			m(&r)
		}
		return r
	}
	skipped := func(round int) row {
		return row{Pipeline: "pcm", Round: round, Rate: rate, Step: 10 * time.Second, Skipped: "the previous rate did not drain"}
	}
	rssMiB := func(n int64) func(*row) { return func(r *row) { r.PeakRSS = n << 20 } }
	for _, tc := range []struct {
		name            string
		rows            []row
		medianRound     int     // 0: no round ran the rate
		medianCPU       float64 // of the median round
		lo, hi          float64 // CPU range; both 0: none
		rssMiB          int64   // highest round
		refused, failed int64   // summed over the rounds
		sustained       bool    // in every round
		verdict         string
	}{{
		name: "odd: the middle CPU; RSS the highest, refused and failed summed",
		// 1.49, 0.98, 1.19: sorted 0.98 (2), 1.19 (3), 1.49 (1).
		rows: []row{
			pcm(1, 1.49, rssMiB(100), func(r *row) { r.ReceiverRefused = 1_000 }),
			pcm(2, 0.98, rssMiB(130), func(r *row) { r.SendFailed = 10 }),
			pcm(3, 1.19, rssMiB(110), func(r *row) { r.Load.RefusedSpans, r.Load.ErrorSpans, r.Discarded = 500, 200, 5 }),
		},
		medianRound: 3, medianCPU: 1.19, lo: 0.98, hi: 1.49, rssMiB: 130, refused: 1_000 + 700, failed: 10 + 5,
		verdict: "no (sustained in 0 of 3 rounds)",
	}, {
		name: "even: the lower of the two middle CPUs",
		// 1.27, 0.98, 1.49, 1.19: sorted 0.98 (2), 1.19 (4), 1.27 (1), 1.49 (3); the lower median is 1.19.
		rows:        []row{pcm(1, 1.27), pcm(2, 0.98), pcm(3, 1.49), pcm(4, 1.19)},
		medianRound: 4, medianCPU: 1.19, lo: 0.98, hi: 1.49, rssMiB: 150, sustained: true, verdict: "yes",
	}, {
		name:        "two rounds: the lower",
		rows:        []row{pcm(1, 1.3, rssMiB(90)), pcm(2, 1.1, rssMiB(0))},
		medianRound: 2, medianCPU: 1.1, lo: 1.1, hi: 1.3, rssMiB: 90, sustained: true, verdict: "yes",
	}, {
		name:        "one sustained in two of three rounds",
		rows:        []row{pcm(1, 1.0), pcm(2, 1.1, func(r *row) { r.EnqueueFailed = 3 }), pcm(3, 1.2)},
		medianRound: 2, medianCPU: 1.1, lo: 1.0, hi: 1.2, rssMiB: 150, refused: 3, verdict: "no (sustained in 2 of 3 rounds)",
	}, {
		name: "skipped in a round: not sustained, the median of the rounds that ran it",
		// 1.2 and 1.0 ran: the lower median is 1.0.
		rows:        []row{pcm(1, 1.2), skipped(2), pcm(3, 1.0)},
		medianRound: 3, medianCPU: 1.0, lo: 1.0, hi: 1.2, rssMiB: 150, verdict: "no (sustained in 2 of 3 rounds; skipped in 1)",
	}, {
		name:        "not drained in a round",
		rows:        []row{pcm(1, 1.0), pcm(2, 1.1, func(r *row) { r.Drained = false }), pcm(3, 1.2)},
		medianRound: 2, medianCPU: 1.1, lo: 1.0, hi: 1.2, rssMiB: 150, verdict: "no (sustained in 2 of 3 rounds; queue not drained in 1)",
	}, {
		name: "a round that delivered nothing counts as the most CPU per span, out of the range",
		// 1.0, ∞, 1.4: the median is 1.4.
		rows:        []row{pcm(1, 1.0), pcm(2, 1.1, func(r *row) { r.Delivered = 0 }), pcm(3, 1.4)},
		medianRound: 3, medianCPU: 1.4, lo: 1.0, hi: 1.4, rssMiB: 150, verdict: "no (sustained in 2 of 3 rounds)",
	}, {
		name:        "ties: the earlier round",
		rows:        []row{pcm(1, 1.0), pcm(2, 1.0), pcm(3, 1.0)},
		medianRound: 2, medianCPU: 1.0, lo: 1.0, hi: 1.0, rssMiB: 150, sustained: true, verdict: "yes",
	}, {
		name:        "one round: as a single run",
		rows:        []row{pcm(1, 1.5, func(r *row) { r.Drained = false })},
		medianRound: 1, medianCPU: 1.5, lo: 1.5, hi: 1.5, rssMiB: 150, verdict: "no (queue not drained)",
	}, {
		name:    "skipped in every round",
		rows:    []row{skipped(1), skipped(2)},
		verdict: "no (sustained in 0 of 2 rounds; skipped in 2)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := series{Pipeline: "pcm", Rate: rate, Rows: tc.rows}
			m, ok := s.median()
			require.Equal(t, tc.medianRound != 0, ok)
			require.Equal(t, tc.medianRound, m.Round)
			if ok {
				require.InDelta(t, tc.medianCPU, m.cpuPer100k(), 1e-6)
			}
			lo, hi, ok := s.cpuRange()
			require.Equal(t, tc.lo != 0 || tc.hi != 0, ok)
			require.InDelta(t, tc.lo, lo, 1e-6)
			require.InDelta(t, tc.hi, hi, 1e-6)
			require.Equal(t, tc.rssMiB, s.peakRSS()>>20)
			require.Equal(t, tc.refused, s.refused())
			require.Equal(t, tc.failed, s.failed())
			require.Equal(t, tc.sustained, s.sustained())
			require.Equal(t, tc.verdict, s.verdict())
			// The median is picked without reordering the rounds.
			for i, r := range s.Rows {
				require.Equal(t, tc.rows[i].Round, r.Round)
			}
		})
	}
}

// The goals are judged on the median rows: the ratio of the median CPUs (not the median of
// the rounds' ratios), the rates sustained in every round, the highest peak RSS of the rounds.
func TestGoalsUseMedians(t *testing.T) {
	rss := func(r row, n int64) row { r.PeakRSS = n << 20; return r }
	refused := func(r row) row { r.ReceiverRefused = 1_000; return r }
	notDrained := func(r row) row { r.Drained = false; return r }
	skipped100k := row{Pipeline: "pcm", Rate: 100_000, Step: 10 * time.Second, Skipped: "the previous rate did not drain"}
	// otlphttp at 50,000: 1.6, 1.4, 2.0: the median is 1.6.
	otlp := []row{inRound(1, testRow("otlphttp", 50_000, 1.6)), inRound(2, testRow("otlphttp", 50_000, 1.4)), inRound(3, testRow("otlphttp", 50_000, 2.0))}
	for _, tc := range []struct {
		name string
		rows []row
		want [3]goal // Text is not compared
	}{{
		// pcm at 50,000: 0.7, 1.0, 0.75: the median is 0.75; 0.75 / 1.6 = 0.46875 (the rounds'
		// ratios 0.7 / 1.6, 1.0 / 1.4, 0.75 / 2.0 have the median 0.4375, "0.44").
		// pcm at 100,000: sustained in every round, 100, 125 and 110 MiB: 125.
		name: "ratio of the medians; the highest RSS",
		rows: []row{
			inRound(1, testRow("pcm", 50_000, 0.7)), inRound(1, rss(testRow("pcm", 100_000, 0.6), 100)), otlp[0],
			inRound(2, testRow("pcm", 50_000, 1.0)), inRound(2, rss(testRow("pcm", 100_000, 0.6), 125)), otlp[1],
			inRound(3, testRow("pcm", 50_000, 0.75)), inRound(3, rss(testRow("pcm", 100_000, 0.6), 110)), otlp[2],
		},
		want: [3]goal{{Verdict: met, Measured: "0.47"}, {Verdict: met, Measured: "100,000 spans/s sustained"}, {Verdict: notMet, Measured: "125 MiB"}},
	}, {
		// pcm refused spans at 100,000 in round 2 only: not sustained in every round.
		name: "100,000 not sustained in one round",
		rows: []row{
			inRound(1, testRow("pcm", 50_000, 0.7)), inRound(1, rss(testRow("pcm", 100_000, 0.6), 100)), otlp[0],
			inRound(2, testRow("pcm", 50_000, 1.0)), inRound(2, refused(rss(testRow("pcm", 100_000, 0.6), 90))), otlp[1],
			inRound(3, testRow("pcm", 50_000, 0.75)), inRound(3, rss(testRow("pcm", 100_000, 0.6), 110)), otlp[2],
		},
		want: [3]goal{{Verdict: met, Measured: "0.47"}, {Verdict: notMet, Measured: "50,000 spans/s sustained"}, {Verdict: met, Measured: "110 MiB"}},
	}, {
		// Round 2: 50,000 did not drain and 100,000 was skipped: neither is sustained in every
		// round; the median at 50,000 is still 0.75 and the RSS the highest of rounds 1 and 3.
		name: "100,000 skipped in one round",
		rows: []row{
			inRound(1, testRow("pcm", 50_000, 0.7)), inRound(1, rss(testRow("pcm", 100_000, 0.6), 100)), otlp[0],
			inRound(2, notDrained(testRow("pcm", 50_000, 1.0))), inRound(2, skipped100k), otlp[1],
			inRound(3, testRow("pcm", 50_000, 0.75)), inRound(3, rss(testRow("pcm", 100_000, 0.6), 110)), otlp[2],
		},
		want: [3]goal{{Verdict: met, Measured: "0.47, a rate not sustained by both"}, {Verdict: notMet, Measured: "no rate sustained"}, {Verdict: met, Measured: "110 MiB"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := result{Env: environment{Rounds: 3}, Pipelines: []string{"pcm", "otlphttp"}, Rows: tc.rows}.goals()
			require.Len(t, got, 3)
			for i := range got {
				require.Equal(t, tc.want[i].Verdict, got[i].Verdict, got[i].Text)
				require.Equal(t, tc.want[i].Measured, got[i].Measured, got[i].Text)
			}
		})
	}
}

func TestMarkdownRounds(t *testing.T) {
	r := func(round int, pipeline string, rate, cpu float64) row {
		return inRound(round, testRow(pipeline, rate, cpu))
	}
	pcm100k2 := r(2, "pcm", 100_000, 1.3)
	pcm100k2.PeakRSS, pcm100k2.ReceiverRefused = 118<<20, 2_000
	pcm100k1, pcm100k3 := r(1, "pcm", 100_000, 1.0), r(3, "pcm", 100_000, 0.9)
	pcm100k1.PeakRSS, pcm100k3.PeakRSS = 100<<20, 105<<20
	pcm50k3 := r(3, "pcm", 50_000, 1.1)
	pcm50k3.Load.SentSpans = 499_000 // shows in the table: the median round's sent/s
	res := result{
		Env: environment{
			Date: time.Date(2025, 11, 25, 14, 0, 0, 0, time.UTC), Cores: 2, Step: 10 * time.Second, Rounds: 3,
			Senders: 8, SpansPerRequest: 500, OTLPHTTPCompress: "gzip", ValidateEvery: 20,
		},
		Pipelines: []string{"receiver", "pcm", "otlphttp"},
		Rows: []row{
			r(1, "receiver", 50_000, 0.8), r(1, "receiver", 100_000, 0.6), r(1, "pcm", 50_000, 1.2), pcm100k1, r(1, "otlphttp", 50_000, 1.6), r(1, "otlphttp", 100_000, 2.0),
			r(2, "receiver", 50_000, 0.9), r(2, "receiver", 100_000, 0.65), r(2, "pcm", 50_000, 1.0), pcm100k2, r(2, "otlphttp", 50_000, 1.8), r(2, "otlphttp", 100_000, 1.9),
			r(3, "receiver", 50_000, 0.7), r(3, "receiver", 100_000, 0.55), pcm50k3, pcm100k3, r(3, "otlphttp", 50_000, 2.0), r(3, "otlphttp", 100_000, 2.4),
		},
	}
	md := res.markdown()
	lines := strings.Split(md, "\n")
	require.Contains(t, md, "8 senders × 500 spans per OTLP/HTTP request · 3 rounds\n")
	require.Contains(t, md, "**Median of 3 rounds**: the pipelines ran in turn, round after round (receiver, pcm, otlphttp, then again)")
	require.Contains(t, md, "with an even number of rounds, the lower of the two middle ones")

	// Medians: receiver 0.8 (round 1), 0.6 (1); pcm 1.1 (3), 1.0 (1); otlphttp 1.8 (2), 2.0 (1).
	main := tableAt(t, lines, "| pipeline |")
	require.Equal(t, []string{
		"| pipeline | target spans/s | sent/s | accepted/s | delivered/s | delivered | collector CPU s / 100k spans, median of 3 rounds | CPU min–max over the rounds | collector cores | peak RSS MiB, highest round | refused, all rounds | failed, all rounds | harness CPU s / 100k spans | other processes, cores | sustained in every round |",
		"| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | :-: |",
		"| receiver | 50,000 | 50,000 | 50,000 | 50,000 | 100.0 % | 0.800 | 0.700–0.900 | 0.36 | 150 | 0 | 0 | 0.300 | 0.01 | yes |",
		"| receiver | 100,000 | 100,000 | 100,000 | 100,000 | 100.0 % | 0.600 | 0.550–0.650 | 0.55 | 150 | 0 | 0 | 0.300 | 0.01 | yes |",
		"| pcm | 50,000 | 49,900 | 50,000 | 50,000 | 100.0 % | 1.100 | 1.000–1.200 | 0.50 | 150 | 0 | 0 | 0.300 | 0.01 | yes |",
		"| pcm | 100,000 | 100,000 | 100,000 | 100,000 | 100.0 % | 1.000 | 0.900–1.300 | 0.91 | 118 | 2,000 | 0 | 0.300 | 0.01 | no (sustained in 2 of 3 rounds) |",
		"| otlphttp | 50,000 | 50,000 | 50,000 | 50,000 | 100.0 % | 1.800 | 1.600–2.000 | 0.82 | 150 | 0 | 0 | 0.300 | 0.01 | yes |",
		"| otlphttp | 100,000 | 100,000 | 100,000 | 100,000 | 100.0 % | 2.000 | 1.900–2.400 | 1.82 | 150 | 0 | 0 | 0.300 | 0.01 | yes |",
	}, main)

	require.Contains(t, md, "nothing refused or failed, in every round): receiver **100,000 spans/s** · pcm **50,000 spans/s** · otlphttp **100,000 spans/s**")
	// 50,000: 1.1 / 1.8 = 0.61 (both sustained); 100,000: 1.0 / 2.0 = 0.50.
	require.Contains(t, md, "**Collector CPU per span, pcm / otlphttp: 0.61** over the rates both sustain (50,000 spans/s, median rows of 3 rounds); per rate: 50,000: 0.61 · 100,000: 0.50")

	// 50,000: pcm 1.1 − 0.8 = 0.3, otlphttp 1.8 − 0.8 = 1.0, 0.30; 100,000: pcm 1.0 − 0.6 = 0.4,
	// otlphttp 2.0 − 0.6 = 1.4, 0.29.
	require.Contains(t, md, "minus the receiver floor's at the same rate, median rows of 3 rounds,")
	require.Equal(t, []string{
		"| target spans/s | receiver CPU s / 100k spans | pcm − receiver, CPU s / 100k spans | pcm − receiver, µs per span | otlphttp − receiver, CPU s / 100k spans | otlphttp − receiver, µs per span | pcm / otlphttp, above the receiver |",
		"| --: | --: | --: | --: | --: | --: | --: |",
		"| 50,000 | 0.800 | 0.300 | 3.00 | 1.000 | 10.00 | 0.30 |",
		"| 100,000 | 0.600 | 0.400 | 4.00 | 1.400 | 14.00 | 0.29 |",
	}, tableAt(t, lines, "| target spans/s | receiver CPU s / 100k spans |"))

	require.Contains(t, lines, "**Goals of issue 9** (pcm, on this machine's 2 cores; CPU: the ratio of the median rows, sustained: in every one of 3 rounds, peak RSS: the highest round):")
	require.Contains(t, lines, "- collector CPU per span, pcm ≤ 0.5 × otlphttp at 50,000 spans/s — **not met** (0.61)")
	require.Contains(t, lines, "- pcm sustains ≥ 100,000 spans/s, nothing refused and nothing lost — **not met** (50,000 spans/s sustained)")
	require.Contains(t, lines, "- pcm peak RSS at 100,000 spans/s ≤ 120 MiB — **met** (118 MiB)")

	// Every round's rows, in the order they ran, at the end.
	require.Contains(t, md, "\n<details>\n<summary>All rounds: every pipeline and rate of each round, in the order they ran</summary>\n\n| round | pipeline |")
	require.True(t, strings.HasSuffix(md, "\n</details>\n"))
	all := tableAt(t, lines, "| round | pipeline |")
	require.Len(t, all, 2+len(res.Rows))
	requireColumns(t, all)
	require.Equal(t, "| 1 | receiver | 50,000 | 50,000 | 50,000 | 50,000 | 100.0 % | 0.800 | 0.36 | 150 | 0 | 0 | 0.300 | 0.01 | yes |", all[2])
	require.Equal(t, "| 2 | pcm | 100,000 | 100,000 | 100,000 | 100,000 | 100.0 % | 1.300 | 1.18 | 118 | 2,000 | 0 | 0.300 | 0.01 | no |", all[2+9])
	require.Equal(t, "| 3 | otlphttp | 100,000 | 100,000 | 100,000 | 100,000 | 100.0 % | 2.400 | 2.18 | 150 | 0 | 0 | 0.300 | 0.01 | yes |", all[len(all)-1])
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 7: "7", 999.6: "1,000", 12345: "12,345", 1234567: "1,234,567", -50000: "-50,000"} {
		require.Equal(t, want, thousands(v))
	}
	require.Equal(t, "–", fixed(0.0/func() float64 { return 0 }(), 2))
}
