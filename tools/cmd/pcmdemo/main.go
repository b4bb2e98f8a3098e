// Command pcmdemo is the quickstart behind `make run`: it starts a local PCM simulator, the
// ocb-built collector with one pcm exporter per institution, and two instrumented Open Finance
// institutions, drives the PCM integration manual's scenarios between them, and prints what PCM
// made of the reports.
//
//	go run ./cmd/pcmdemo run -collector ../_build/otelcol-pcm [-duration 15s | -count 30] [-keep-running]
//
// (in tools/; paths are relative to it).
//
// It exits 0 when both institutions' reports of the well-behaved calls are PAIRED (with
// -strict: when every scenario ended as expected).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: pcmdemo run [flags]

Runs the PCM demo: PCM simulator + collector (pcm exporter) + two instrumented institutions.
Run "pcmdemo run -h" for the flags.
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "run" {
		fmt.Fprintf(stderr, "pcmdemo: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	opts, err := parseFlags(args[1:], stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDemo(ctx, opts, stdout); err != nil {
		fmt.Fprintf(stderr, "pcmdemo: %v\n", err)
		return 1
	}
	return 0
}

type options struct {
	collector   string
	template    string
	dir         string
	count       int
	duration    time.Duration
	interval    time.Duration
	waitTimeout time.Duration
	keepRunning bool
	strict      bool
	logLevel    string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("pcmdemo run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defCollector := os.Getenv("OTELCOL_BINARY")
	if defCollector == "" {
		defCollector = filepath.Join("..", "_build", "otelcol-pcm") // run from tools/, as `make run` does
	}
	fs.StringVar(&o.collector, "collector", defCollector, "collector binary built by `make build` (env OTELCOL_BINARY)")
	fs.StringVar(&o.template, "config-template", "", "collector configuration template (default: the repository's "+demo.CollectorTemplatePath+")")
	fs.StringVar(&o.dir, "dir", ".dev", "working directory: dev certificates (certs/), rendered collector config, logs, dead letters")
	fs.IntVar(&o.count, "count", 0, "number of calls to make (cycling through the scenarios); overrides -duration")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "how long to drive traffic")
	fs.DurationVar(&o.interval, "interval", 350*time.Millisecond, "pause between calls")
	fs.DurationVar(&o.waitTimeout, "wait", 30*time.Second, "how long to wait for every report to reach PCM or the dead letter")
	fs.BoolVar(&o.keepRunning, "keep-running", false, "keep everything running after the summary until Ctrl-C")
	fs.BoolVar(&o.strict, "strict", false, "exit non-zero unless every scenario ended as expected (default: only the PAIRED ones)")
	fs.StringVar(&o.logLevel, "collector-log-level", "info", "collector log level")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pcmdemo run [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pcmdemo: unexpected arguments %q\n", fs.Args())
		return o, errors.New("arguments")
	}
	return o, nil
}

func runDemo(ctx context.Context, o options, out io.Writer) (err error) {
	start := time.Now()
	fmt.Fprintf(out, "PCM demo: %s and %s report their Open Finance traffic through the pcm exporter to a local PCM simulator\n\n",
		demo.BancoA.Title, demo.BancoB.Title)
	collector, err := filepath.Abs(o.collector)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Starting:")
	st, err := demo.StartStack(ctx, demo.StackConfig{
		Dir: o.dir, CollectorBinary: collector, CollectorTemplate: o.template, CollectorLogLevel: o.logLevel, Progress: out,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "\nStopping the banks, the collector and the simulator …")
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if serr := st.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", serr)
		}
	}()
	fmt.Fprintf(out, "  ready in %s\n\n", time.Since(start).Round(100*time.Millisecond))

	runs, interrupted := driveTraffic(ctx, st, o, out)
	if interrupted {
		fmt.Fprintln(out, "\ninterrupted")
		return errors.New("interrupted")
	}

	fmt.Fprintf(out, "\nWaiting (up to %s) for every report to reach the PCM simulator or a dead letter …\n", o.waitTimeout)
	if err := st.FlushBanks(ctx); err != nil {
		fmt.Fprintf(out, "  warning: flushing the banks' spans: %v\n", err)
	}
	wctx, cancel := context.WithTimeout(ctx, o.waitTimeout)
	outcomes, werr := demo.WaitForOutcomes(wctx, runs, st.Observe, 2*time.Second)
	cancel()
	if werr != nil && ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if werr != nil && !errors.Is(werr, context.DeadlineExceeded) {
		return werr
	}

	fmt.Fprintln(out)
	summary := st.Sim.Summary()
	if err := summary.WriteTable(out); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := printDeadLetters(st, out); err != nil {
		return err
	}
	fmt.Fprintln(out)
	printMetrics(ctx, st, out)
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Scenarios (what each side's reports became; \"expected …, got …\" when it differs):")
	verdicts := demo.Verdicts(outcomes)
	if err := demo.WriteVerdicts(out, verdicts); err != nil {
		return err
	}

	verdictErr := judge(verdicts, o.strict)
	fmt.Fprintln(out)
	if verdictErr == nil {
		fmt.Fprintf(out, "Both institutions' reports are PAIRED at PCM. Total time %s.\n", time.Since(start).Round(100*time.Millisecond))
		if unexpected := unexpectedScenarios(verdicts); len(unexpected) > 0 {
			fmt.Fprintf(out, "Note: not as expected (does not fail the demo without -strict): %s\n", strings.Join(unexpected, ", "))
		}
	} else {
		fmt.Fprintf(out, "%v\n", verdictErr)
	}
	fmt.Fprintf(out, "Files: collector config %s, collector log %s, dead letters %s\n",
		st.ConfigPath, filepath.Join(filepath.Dir(st.ConfigPath), "collector.log"), filepath.Dir(st.DeadLetter[demo.BancoA.Name]))

	if o.keepRunning {
		fmt.Fprintf(out, "\nStill running (Ctrl-C to stop): PCM simulator %s (summary: %s/sim/summary), collector metrics %s, banco_b API http://localhost:%d\n",
			st.Sim.APIURL(), st.Sim.APIURL(), st.MetricsURL, st.Server.Port())
		select {
		case <-ctx.Done():
		case <-st.Collector.Done():
			fmt.Fprintln(out, "the collector exited")
		}
	}
	return verdictErr
}

// judge turns the verdicts into the exit status.
func judge(verdicts []demo.ScenarioVerdict, strict bool) error {
	var failed []string
	paired := 0
	for _, v := range verdicts {
		if v.PairedExpected {
			paired += v.OK
		}
		if v.OK != v.Runs && (strict || v.PairedExpected) {
			failed = append(failed, v.Scenario.Label())
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("FAILED: scenarios not as expected: %s", strings.Join(failed, ", "))
	case paired == 0:
		return errors.New("FAILED: no PAIRED call was made (increase -count or -duration)")
	}
	return nil
}

func unexpectedScenarios(verdicts []demo.ScenarioVerdict) []string {
	var out []string
	for _, v := range verdicts {
		if v.OK != v.Runs {
			out = append(out, v.Scenario.Label())
		}
	}
	return out
}

// driveTraffic cycles through the scenario table.
func driveTraffic(ctx context.Context, st *demo.Stack, o options, out io.Writer) ([]demo.Run, bool) {
	scenarios := demo.Scenarios()
	fmt.Fprintln(out, "Scenarios (PCM integration manual 1–6, plus 7 and 8):")
	for _, s := range scenarios {
		fmt.Fprintf(out, "  %-26s %s\n  %-26s   banco_a → %s; banco_b → %s\n", s.Label(), s.Title, "", s.Client, s.Server)
	}
	fmt.Fprintln(out)
	deadline := time.Now().Add(o.duration)
	total := o.count
	if total > 0 {
		fmt.Fprintf(out, "Driving %d calls through %d scenarios:\n", total, len(scenarios))
	} else {
		fmt.Fprintf(out, "Driving traffic for %s through %d scenarios:\n", o.duration, len(scenarios))
	}
	var runs []demo.Run
	for i := 0; ; i++ {
		if total > 0 && i >= total || total <= 0 && i > 0 && time.Now().After(deadline) {
			return runs, false
		}
		s := scenarios[i%len(scenarios)]
		res := st.Client.Do(ctx, s.Label(), s.Call)
		if ctx.Err() != nil {
			return runs, true
		}
		runs = append(runs, demo.Run{Seq: i + 1, Scenario: s, Result: res})
		fmt.Fprintf(out, "  %3d  %-28s %-4s %-62s %s\n", i+1, s.Label(), s.Call.Method, trim(s.Call.Path, 62), describe(res))
		select {
		case <-ctx.Done():
			return runs, true
		case <-time.After(o.interval):
		}
	}
}

func describe(r demo.CallResult) string {
	var b strings.Builder
	switch {
	case r.TimedOut:
		fmt.Fprintf(&b, "timeout after %s", r.Duration.Round(time.Millisecond))
	case r.Err != nil:
		fmt.Fprintf(&b, "error: %v", r.Err)
	default:
		fmt.Fprintf(&b, "%d", r.StatusCode)
	}
	switch {
	case r.SentInteractionID != "":
		fmt.Fprintf(&b, "  id %s", r.SentInteractionID[:8])
	case r.ReceivedInteractionID != "":
		fmt.Fprintf(&b, "  id %s (from server)", r.ReceivedInteractionID[:8])
	default:
		b.WriteString("  no id")
	}
	return b.String()
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func printDeadLetters(st *demo.Stack, out io.Writer) error {
	fmt.Fprintln(out, "Collector dead letters (reports the exporter kept back), per reason:")
	for _, o := range demo.Orgs() {
		entries, err := st.DeadLetters(o.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  pcm/%s (%s): %d\n", o.Name, st.DeadLetter[o.Name], len(entries))
		reasons := demo.DeadLetterReasons(entries)
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "    %4d  %s\n", reasons[k], k)
		}
	}
	return nil
}

func printMetrics(ctx context.Context, st *demo.Stack, out io.Writer) {
	m, err := st.Metrics(ctx)
	if err != nil {
		fmt.Fprintf(out, "Collector metrics unavailable: %v\n", err)
		return
	}
	fmt.Fprintf(out, "Collector self-telemetry (%s):\n", st.MetricsURL)
	for _, name := range []string{"otelcol_exporter_pcm_reports", "otelcol_exporter_pcm_spans_skipped", "otelcol_exporter_pcm_token_requests"} {
		samples := m.Find(name)
		lines := make([]string, 0, len(samples))
		for _, s := range samples {
			lines = append(lines, fmt.Sprintf("    %6.0f  %s%s", s.Value, s.Name, labels(s.Labels)))
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
	}
}

// labels prints the interesting labels (not the scope or service ones).
func labels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		if strings.HasPrefix(k, "otel_scope") || strings.HasPrefix(k, "service_") || k == "job" || k == "instance" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
