//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// scratchDirs are removed when the package's tests end (e.g. the pcmdemo binary built once).
var (
	scratchMu   sync.Mutex
	scratchDirs []string
)

func addScratchDir(dir string) {
	scratchMu.Lock()
	defer scratchMu.Unlock()
	scratchDirs = append(scratchDirs, dir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range scratchDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// collectorBinary is the ocb-built collector, or the test is skipped.
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin, err := demo.CollectorBinary()
	require.NoError(t, err)
	if bin == "" {
		t.Skip("OTELCOL_BINARY is not set: build the collector with `make build`, then in tools/ run " +
			"OTELCOL_BINARY=$PWD/../_build/otelcol-pcm go test -count=1 -tags e2e ./e2e/... (or `make e2e`)")
	}
	return bin
}

// startStack runs a complete world (simulator, collector, banks) in a fresh temporary directory.
func startStack(t *testing.T) *demo.Stack {
	t.Helper()
	bin := collectorBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := demo.StartStack(ctx, demo.StackConfig{Dir: dir, CollectorBinary: bin})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := st.Shutdown(ctx)
		if t.Failed() {
			t.Logf("collector log (%s), last lines:\n%s", dir, st.Collector.LogTail(60))
		}
		if err != nil {
			t.Errorf("stack shutdown: %v", err)
		}
	})
	return st
}

// drive makes one call per scenario and round, with the given number of concurrent workers
// (each worker runs every scenario rounds times).
func drive(t *testing.T, st *demo.Stack, scenarios []demo.Scenario, workers, rounds int) []demo.Run {
	t.Helper()
	var mu sync.Mutex
	var runs []demo.Run
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				for i, s := range scenarios {
					res := st.Client.Do(context.Background(), s.Label(), s.Call)
					mu.Lock()
					runs = append(runs, demo.Run{Seq: (w*rounds+r)*len(scenarios) + i, Scenario: s, Result: res})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, r := range runs {
		if r.Result.Err != nil && !r.Result.TimedOut {
			t.Fatalf("%s: call failed: %v", r.Scenario.Label(), r.Result.Err)
		}
	}
	return runs
}

// waitOutcomes flushes the banks and polls until every run's reports reached the simulator or a
// dead letter (bounded).
func waitOutcomes(t *testing.T, st *demo.Stack, runs []demo.Run, timeout time.Duration) []demo.RunOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	require.NoError(t, st.FlushBanks(ctx))
	outs, err := demo.WaitForOutcomes(ctx, runs, st.Observe, 1500*time.Millisecond)
	if err != nil {
		for _, o := range outs {
			if !o.OK() {
				t.Logf("%s (trace %s): banco_a %s; banco_b %s", o.Run.Scenario.Label(), o.Run.Result.TraceID, o.Client.Got, o.Srv.Got)
			}
		}
		require.NoError(t, err, "waiting for the reports")
	}
	return outs
}

// waitMetrics polls the collector's self-telemetry until check passes (bounded).
func waitMetrics(t *testing.T, st *demo.Stack, timeout time.Duration, check func(demo.Metrics) bool) demo.Metrics {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := st.Metrics(context.Background())
		require.NoError(t, err)
		if check(m) {
			return m
		}
		if time.Now().After(deadline) {
			return m
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reportJSON decodes a dead-lettered report.
func reportJSON(t *testing.T, e *deadletter.Entry) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(e.Report, &m))
	return m
}

// additionalInfo decodes a stored report's additionalInfo.
func additionalInfo(t *testing.T, r *pcmsim.Report) map[string]any {
	t.Helper()
	m := map[string]any{}
	if len(r.AdditionalInfo) > 0 {
		require.NoError(t, json.Unmarshal(r.AdditionalInfo, &m))
	}
	return m
}
