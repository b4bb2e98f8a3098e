// Command pcmload is the collector throughput benchmark behind `make bench`: it runs the
// ocb-built collector once per pipeline, one after the other, with the same receiver
// (testdata/bench/): the receiver floor, with the debug exporter dropping every span (what the
// receiver costs before any exporter does anything); (A) the pcm exporter reporting to a local
// PCM endpoint; and (B) the core otlphttp exporter sending to a local OTLP sink, A and B with
// the same queue and batching. It feeds every pipeline the same Open Finance spans at
// increasing rates and prints, per pipeline and rate, the spans accepted and delivered, the
// collector's CPU per span, its peak RSS and what was refused or failed, as a Markdown table
// with the sustained rate of each pipeline, the ratio of pcm's and otlphttp's CPU per span,
// what each costs above the receiver floor, and the goals.
//
//	go run ./cmd/pcmload -collector ../_build/otelcol-pcm [-rates 25000,50000,100000] [-step 15s] [-repeat 3] [-pipelines receiver,pcm,otlphttp] [-out FILE]
//
// On a shared machine the collector's CPU per span varies by up to ±20 % from one run to the
// next, so the whole sequence of pipelines runs -repeat times in rounds (receiver, pcm,
// otlphttp, receiver, pcm, otlphttp, ...), each with a fresh collector. The table shows, per
// pipeline and rate, the round with the median CPU per span (the lower of the two middle ones
// with an even number of rounds) and the CPU's range over the rounds, the highest peak RSS and
// the refused and failed spans summed over the rounds; a rate is sustained when it is in every
// round. The sustained rates, CPU ratios, the table above the receiver floor and the goals use
// these median rows; every round's rows follow under "All rounds".
//
// The pcm exporter gets its token from the PCM simulator (internal/pcmsim) over mTLS; the
// simulator validates, reconciles and stores every 20th report POST (-validate-every) and a
// minimal PCM endpoint counts the others, so that the far end costs about as little as the
// OTLP sink, which counts spans without decoding them. With -validate-every 1 every report goes
// to the simulator, whose validation then costs more CPU than the collector.
//
// The load generator, the far ends and the collector share the machine. Everything listens on
// 127.0.0.1 only and is stopped at the end and on Ctrl-C. Linux only (CPU and RSS are read
// from /proc). The default run takes about 12 minutes: about 4 minutes per round, 3 rounds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	collector    string
	rates        []float64
	step         time.Duration
	warmup       time.Duration
	drainTimeout time.Duration
	timeout      time.Duration
	repeat       int
	out          string
	senders      int
	perRequest   int
	payloads     int
	pipelines    []string
	compression  string
	configDir    string
	workDir      string
	keep         bool
	logLevel     string
	cpuProfile   string
	validate     int
}

// knownPipelines maps each pipeline to its collector configuration in -config-dir.
var knownPipelines = map[string]string{"receiver": "receiver.yaml", "pcm": "pcm.yaml", "otlphttp": "otlphttp.yaml"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("pcmload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var rates, pipelines string
	fs.StringVar(&o.collector, "collector", "../_build/otelcol-pcm", "the ocb-built collector binary (`make build`; the default is relative to tools/)")
	fs.StringVar(&rates, "rates", "25000,50000,100000", "target rates in spans/s, comma-separated, run in this order")
	fs.DurationVar(&o.step, "step", 15*time.Second, "how long each rate is sent")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load at the first rate after the collector starts (0: none)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 20*time.Second, "how long to wait after a step for the queue to drain; higher rates are skipped if it does not")
	fs.IntVar(&o.repeat, "repeat", 3, "rounds: run the whole sequence of pipelines this many times, in turn, and report per pipeline and rate the round with the median collector CPU per span (the lower median with an even number), the CPU range over the rounds and every round's rows")
	fs.DurationVar(&o.timeout, "timeout", 0, "abort the whole run after this long (0: 15 minutes per round)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown result to this file")
	fs.IntVar(&o.senders, "senders", 8, "concurrent OTLP/HTTP senders")
	fs.IntVar(&o.perRequest, "spans-per-request", 500, "spans per OTLP/HTTP request")
	fs.IntVar(&o.payloads, "payloads", 4, "pre-built requests per sender (each is re-stamped with new interaction ids before it is sent)")
	fs.StringVar(&pipelines, "pipelines", "receiver,pcm,otlphttp", "pipelines to run, in this order: receiver (the floor: debug exporter, no queue), pcm, otlphttp")
	fs.IntVar(&o.validate, "validate-every", 20, "the PCM simulator validates, reconciles and stores every Nth report POST in full; the others are answered by a minimal PCM endpoint that checks the token and counts the reports (1: the exporter posts straight to the simulator)")
	fs.StringVar(&o.compression, "otlphttp-compression", "gzip", "compression of the otlphttp exporter (gzip is its default; none to compare without)")
	fs.StringVar(&o.configDir, "config-dir", "testdata/bench", "directory of the collector configuration templates (relative: to the tools module root)")
	fs.StringVar(&o.workDir, "workdir", "", "directory for certificates, rendered configurations and collector logs (default: a temporary directory, removed at the end)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary work directory")
	fs.StringVar(&o.logLevel, "log-level", "warn", "collector log level")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of pcmload itself (generator, PCM simulator, OTLP sink) to this file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pcmload [flags]\n\nCollector throughput benchmark: pcm exporter vs core otlphttp exporter, above the receiver floor,\nover -repeat rounds of every pipeline (median per pipeline and rate). The default run (3 rounds) takes about 12 minutes. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pcmload: unexpected arguments %q\n", fs.Args())
		return o, errors.New("unexpected arguments")
	}
	var errs []string
	for _, f := range strings.Split(rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Sprintf("-rates: %q is not a positive number", f))
			continue
		}
		o.rates = append(o.rates, v)
	}
	for _, p := range strings.Split(pipelines, ",") {
		p = strings.TrimSpace(p)
		if _, ok := knownPipelines[p]; !ok {
			errs = append(errs, fmt.Sprintf("-pipelines: unknown pipeline %q (receiver, pcm, otlphttp)", p))
			continue
		}
		o.pipelines = append(o.pipelines, p)
	}
	if o.step < time.Second {
		errs = append(errs, "-step: at least 1s")
	}
	if o.repeat < 1 {
		errs = append(errs, "-repeat: at least 1")
	}
	if o.timeout == 0 {
		o.timeout = time.Duration(max(o.repeat, 1)) * 15 * time.Minute
	}
	if o.validate < 1 {
		errs = append(errs, "-validate-every: at least 1")
	}
	if o.senders < 1 || o.perRequest < 1 || o.perRequest > 1<<16 || o.payloads < 2 {
		errs = append(errs, "-senders ≥ 1, 1 ≤ -spans-per-request ≤ 65536, -payloads ≥ 2")
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(stderr, "pcmload:", e)
		}
		return o, errors.New("invalid flags")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()

	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "pcmload: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "pcmload: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	res, err := runBench(ctx, opts, stderr)
	if len(res.Rows) > 0 {
		md := res.markdown()
		fmt.Fprint(stdout, "\n"+md)
		if opts.out != "" {
			if werr := os.WriteFile(opts.out, []byte(md), 0o644); werr != nil {
				fmt.Fprintf(stderr, "pcmload: %v\n", werr)
				return 1
			}
			fmt.Fprintf(stderr, "pcmload: wrote %s\n", opts.out)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pcmload: %v\n", err)
		return 1
	}
	return 0
}
