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
		Pipelines: []string{"pcm", "otlphttp"},
		Rows: []row{
			testRow("pcm", 10_000, 1.2), testRow("pcm", 50_000, 1.4), pcm75,
			{Pipeline: "pcm", Rate: 100_000, Step: 10 * time.Second, Skipped: "the previous rate did not drain"},
			testRow("otlphttp", 10_000, 1.0), testRow("otlphttp", 50_000, 1.6), testRow("otlphttp", 75_000, 1.5),
		},
		Validated: 50_000,
	}
	md := res.markdown()
	lines := strings.Split(md, "\n")
	require.Contains(t, lines, "| pcm | 10,000 | 10,000 | 10,000 | 10,000 | 100.0 % | 1.200 | 0.11 | 150 | 0 | 0 | 0.300 | 0.01 | yes |")
	require.Contains(t, lines, "| pcm | 75,000 | 75,000 | 75,000 | 67,500 | 90.0 % | 2.000 | 1.23 | 150 | 12,345 | 0 | 0.333 | 0.01 | no (queue not drained) |")
	require.Contains(t, lines, "| pcm | 100,000 | – | – | – | – | – | – | – | – | – | – | – | skipped: the previous rate did not drain |")
	require.Contains(t, lines, "| otlphttp | 75,000 | 75,000 | 75,000 | 75,000 | 100.0 % | 1.500 | 1.02 | 150 | 0 | 0 | 0.300 | 0.01 | yes |")
	require.Contains(t, md, "pcm **50,000 spans/s** · otlphttp **75,000 spans/s**")
	// The headline ratio is over the rates both sustained: (1.2 × 1 + 1.4 × 5) / (1.0 × 1 + 1.6 × 5).
	require.Contains(t, md, "**Collector CPU per span, pcm / otlphttp: 0.91** over the rates both sustain (10,000, 50,000 spans/s); per rate: 10,000: 1.20 · 50,000: 0.88 · 75,000: 1.33")
	require.Contains(t, md, "pcm costs no more CPU per span than otlphttp — **met** (0.91); pcm sustains ≥ 50,000 spans/s on 2 cores — **met** (50,000 spans/s sustained)")
	require.Contains(t, md, "share this machine's 2 cores")
	require.Contains(t, md, "every 20th report POST in full (50,000 reports in this run, 0 discarded)")
	require.Contains(t, md, "2025-11-25 14:00 UTC · 2 cores (AMD EPYC)")
	// Every table row has the header's number of columns.
	var cols []int
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") {
			cols = append(cols, strings.Count(l, "|"))
		}
	}
	require.Len(t, cols, 2+len(res.Rows))
	for _, c := range cols {
		require.Equal(t, cols[0], c)
	}

	// No rate sustained by pcm: said so, and the goal is not met.
	res.Rows = []row{pcm75, testRow("otlphttp", 75_000, 1.5)}
	md = res.markdown()
	require.Contains(t, md, "pcm none of the rates · otlphttp **75,000 spans/s**")
	require.Contains(t, md, "**Collector CPU per span, pcm / otlphttp: 1.33** over every rate; no rate was sustained by both (75,000 spans/s)")
	require.Contains(t, md, "— **not met** (1.33); pcm sustains ≥ 50,000 spans/s on 2 cores — **not met** (no rate sustained)")

	// Within the noise band: on par, not met.
	res.Rows = []row{testRow("pcm", 50_000, 1.545), testRow("otlphttp", 50_000, 1.5)}
	require.Contains(t, res.markdown(), "— **on par** (1.03: within 5 %, the run-to-run noise of this measurement);")
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 7: "7", 999.6: "1,000", 12345: "12,345", 1234567: "1,234,567", -50000: "-50,000"} {
		require.Equal(t, want, thousands(v))
	}
	require.Equal(t, "–", fixed(0.0/func() float64 { return 0 }(), 2))
}
