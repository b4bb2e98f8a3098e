package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// Collector self-telemetry read by the benchmark (Metrics.Sum also matches the _total names).
const (
	metricAccepted      = "otelcol_receiver_accepted_spans"
	metricRefused       = "otelcol_receiver_refused_spans"
	metricFailed        = "otelcol_receiver_failed_spans"
	metricEnqueueFailed = "otelcol_exporter_enqueue_failed_spans"
	metricSendFailed    = "otelcol_exporter_send_failed_spans"
	metricSent          = "otelcol_exporter_sent_spans"
	metricQueueSize     = "otelcol_exporter_queue_size"
)

// bench is the state shared by the pipelines of one run.
type bench struct {
	opts     options
	log      io.Writer
	workDir  string
	certsDir string
	sim      *pcmsim.Server
	sink     *sink
	front    *pcmFront // nil when the exporter posts straight to the simulator
	pool     []*payload
}

// farEnd reads what arrived at the end of a pipeline: delivered spans or reports, and
// reports the far end discarded.
type farEnd func() (delivered, discarded int64)

func runBench(ctx context.Context, opts options, log io.Writer) (res result, err error) {
	res.Pipelines = opts.pipelines
	res.Env = describeEnvironment(opts)
	collector, err := filepath.Abs(opts.collector)
	if err != nil {
		return res, err
	}
	if _, err := os.Stat(collector); err != nil {
		return res, fmt.Errorf("collector binary: %w (build it with `make build`)", err)
	}
	b := &bench{opts: opts, log: log}
	b.opts.collector = collector
	res.Env.Collector = collectorVersion(collector)

	if b.workDir = opts.workDir; b.workDir == "" {
		if b.workDir, err = os.MkdirTemp("", "pcmload-"); err != nil {
			return res, err
		}
		if !opts.keep {
			defer os.RemoveAll(b.workDir)
		}
	} else if err := os.MkdirAll(b.workDir, 0o755); err != nil {
		return res, err
	}
	b.certsDir = filepath.Join(b.workDir, "certs")
	b.progress("work directory %s", b.workDir)

	// PCM simulator: rate limit off, reports forgotten every second (memory stays bounded).
	pki, err := pcmsim.NewDevPKI(
		pcmsim.Org{Name: "banco_a", OrgID: orgA, SoftwareStatementID: ssidA, ClientID: clientIDA},
		pcmsim.Org{Name: "banco_b", OrgID: orgB, ClientID: "-"},
	)
	if err != nil {
		return res, err
	}
	if err := pki.WriteFiles(b.certsDir); err != nil {
		return res, err
	}
	simCfg, err := pki.Config()
	if err != nil {
		return res, err
	}
	simCfg.RateLimit = -1
	if b.sim, err = pcmsim.New(simCfg); err != nil {
		return res, err
	}
	if err := b.sim.Start(ctx); err != nil {
		return res, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.sim.Shutdown(sctx)
	}()
	forgetCtx, stopForgetting := context.WithCancel(ctx)
	defer stopForgetting()
	go forgetReports(forgetCtx, b.sim)

	serverCert, err := pki.Server.TLSCertificate()
	if err != nil {
		return res, err
	}
	if b.sink, err = startSink(serverCert); err != nil {
		return res, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.sink.shutdown(sctx)
	}()
	if opts.validate > 1 {
		if b.front, err = startPCMFront(serverCert, pki.RootTLS(), b.sim, opts.validate); err != nil {
			return res, err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = b.front.shutdown(sctx)
		}()
		b.progress("PCM report endpoint %s (every %s POST to the simulator %s, token %s), OTLP sink %s",
			b.front.url, ordinal(opts.validate), b.sim.APIURL(), b.sim.TokenURL(), b.sink.url)
	} else {
		b.progress("PCM simulator %s (token %s), OTLP sink %s", b.sim.APIURL(), b.sim.TokenURL(), b.sink.url)
	}
	defer func() {
		st := b.sim.Stats()
		res.Validated, res.ValidatedDiscarded = int64(st.ItemsReceived), int64(st.ItemsDiscarded)
	}()

	start := time.Now()
	if b.pool, err = buildPayloads(opts.senders*opts.payloads, opts.perRequest, time.Now(), uint64(start.UnixNano())); err != nil {
		return res, err
	}
	b.progress("built %d requests of %d spans (%d KiB each) in %s",
		len(b.pool), opts.perRequest, len(b.pool[0].body)>>10, time.Since(start).Round(time.Millisecond))

	defer func() { b.progress("done in %s", time.Since(start).Round(time.Second)) }()
	// Round after round, the pipelines in turn: a slow spell of the shared machine falls on one
	// round of every pipeline rather than on all the rounds of one.
	for round := 1; round <= opts.repeat; round++ {
		for _, p := range opts.pipelines {
			rows, err := b.runPipeline(ctx, p, round)
			res.Rows = append(res.Rows, rows...)
			if err != nil {
				if ctx.Err() != nil {
					res.Interrupted = "interrupted (" + context.Cause(ctx).Error() + ")"
				} else {
					res.Interrupted = err.Error()
				}
				return res, err
			}
		}
	}
	return res, nil
}

func forgetReports(ctx context.Context, sim *pcmsim.Server) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sim.ForgetReports()
		}
	}
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "pcmload: "+format+"\n", args...)
}

// farEnd is where the pipeline's spans end up: the PCM far end (pcm), the OTLP sink
// (otlphttp), or, for the receiver floor, the debug exporter inside collector c, whose
// delivered spans are the ones it sent (its otelcol_exporter_sent_spans counter).
func (b *bench) farEnd(ctx context.Context, pipeline string, c *demo.Collector) farEnd {
	switch pipeline {
	case "pcm":
		return func() (int64, int64) {
			st := b.sim.Stats()
			counted := int64(0)
			if b.front != nil {
				counted = b.front.counted.Load()
			}
			return counted + int64(st.ItemsAccepted), int64(st.ItemsDiscarded)
		}
	case "receiver":
		// The counter only grows: when a scrape fails, the last value read stands (drain and
		// measure scrape the same endpoint and report the error).
		var sent int64
		return func() (int64, int64) {
			if m, err := c.Metrics(ctx); err == nil {
				sent = int64(m.Sum(metricSent, nil))
			}
			return sent, 0
		}
	}
	return func() (int64, int64) { return b.sink.spans.Load(), 0 }
}

// runPipeline starts the collector with the pipeline's configuration, warms it up, runs every
// rate and stops it: one round of the pipeline.
func (b *bench) runPipeline(ctx context.Context, pipeline string, round int) (rows []row, err error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	otlp := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	metricsURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])) + "/metrics"
	name, label := pipeline, pipeline // of the configuration and log files; in the progress lines
	if b.opts.repeat > 1 {
		name, label = fmt.Sprintf("%s-round%d", pipeline, round), fmt.Sprintf("%s (round %d/%d)", pipeline, round, b.opts.repeat)
	}
	configPath, err := b.renderConfig(pipeline, name, otlp, ports[1])
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(b.workDir, name+".log")
	c, err := demo.StartCollector(ctx, demo.CollectorConfig{
		Binary: b.opts.collector, ConfigPath: configPath, LogPath: logPath,
		MetricsURL: metricsURL, OTLPEndpoints: []string{otlp},
	})
	if err != nil {
		return nil, err
	}
	b.progress("%s: collector pid %d, config %s, log %s", label, c.PID(), configPath, logPath)
	defer func() {
		timeout := 20 * time.Second
		if ctx.Err() != nil {
			timeout = 5 * time.Second
		}
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if serr := c.Stop(sctx); serr != nil {
			b.progress("%s: %v", label, serr)
		}
		if tail := errorLines(logPath, 5); tail != "" {
			b.progress("%s: errors in the collector log %s:\n%s", label, logPath, tail)
		}
	}()

	gen := newGenerator("http://"+otlp+"/v1/traces", b.pool, b.opts.senders)
	defer gen.close()
	far := b.farEnd(ctx, pipeline, c)

	if b.opts.warmup > 0 {
		warm := b.opts.rates[0]
		m0, err := c.Metrics(ctx)
		if err != nil {
			return nil, err
		}
		d0, x0 := far()
		gen.run(ctx, warm, b.opts.warmup)
		if _, _, err := b.drain(ctx, c, far, m0, d0, x0); err != nil {
			return nil, err
		}
		b.progress("%s: warmed up (%s at %s spans/s)", label, b.opts.warmup, thousands(warm))
	}

	for i, rate := range b.opts.rates {
		if i > 0 && !rows[i-1].Drained {
			rows = append(rows, row{Pipeline: pipeline, Round: round, Rate: rate, Step: b.opts.step, Skipped: "the previous rate did not drain"})
			continue
		}
		if c.Exited() {
			return rows, fmt.Errorf("%s: the collector exited; see %s", label, logPath)
		}
		r, err := b.measure(ctx, c, gen, far, pipeline, rate)
		if err != nil {
			return rows, err
		}
		r.Round = round
		rows = append(rows, r)
		b.progress("%s @ %s spans/s: sent %s/s, delivered %s/s (%.1f %%, drained in %s), collector %s s CPU / 100k spans (%.2f cores), harness %s s CPU / 100k spans, other processes %.2f cores, peak RSS %d MiB, refused %d, failed %d%s",
			label, thousands(rate), thousands(r.perSecond(r.Load.SentSpans)), thousands(r.perSecond(r.Delivered)),
			100*r.deliveredShare(), (r.Elapsed - r.Step).Round(100*time.Millisecond), fixed(r.cpuPer100k(), 3), r.cores(),
			fixed(r.harnessPer100k(), 3), r.otherCores(), r.PeakRSS>>20, r.refused(), r.failed(), lastStatus(r))
	}
	return rows, nil
}

func lastStatus(r row) string {
	if r.Load.LastStatus == "" {
		return ""
	}
	return " (generator saw: " + r.Load.LastStatus + ")"
}

// measure runs one rate and waits for the queue to drain.
func (b *bench) measure(ctx context.Context, c *demo.Collector, gen *generator, far farEnd, pipeline string, rate float64) (row, error) {
	r := row{Pipeline: pipeline, Rate: rate, Step: b.opts.step}
	pid := c.PID()
	rssReset := resetPeakRSS(pid) == nil
	m0, err := c.Metrics(ctx)
	if err != nil {
		return r, err
	}
	cpu0, err := readCPU(pid)
	if err != nil {
		return r, err
	}
	self0, err := readCPU(0)
	if err != nil {
		return r, err
	}
	mach0, err := readMachineCPU()
	if err != nil {
		return r, err
	}
	d0, x0 := far()
	t0 := time.Now()

	r.Load = gen.run(ctx, rate, b.opts.step)
	if ctx.Err() != nil {
		return r, context.Cause(ctx)
	}
	drained, m1, err := b.drain(ctx, c, far, m0, d0, x0)
	if err != nil {
		return r, err
	}
	r.Elapsed = time.Since(t0)
	cpu1, err := readCPU(pid)
	if err != nil {
		return r, err
	}
	self1, err := readCPU(0)
	if err != nil {
		return r, err
	}
	mach1, err := readMachineCPU()
	if err != nil {
		return r, err
	}
	d1, x1 := far()
	r.Drained = drained
	r.CollectorCPU = cpu1.Sub(cpu0).Total()
	r.HarnessCPU = self1.Sub(self0).Total()
	r.OtherCPU = max(0, mach1.Busy-mach0.Busy-r.CollectorCPU-r.HarnessCPU)
	r.Delivered, r.Discarded = d1-d0, x1-x0
	delta := func(name string) int64 { return int64(m1.Sum(name, nil) - m0.Sum(name, nil)) }
	r.Accepted = delta(metricAccepted)
	r.ReceiverRefused = delta(metricRefused) + delta(metricFailed)
	r.EnqueueFailed = delta(metricEnqueueFailed)
	r.SendFailed = delta(metricSendFailed)
	if rssReset {
		r.PeakRSS, _ = readPeakRSS(pid)
	}
	return r, nil
}

// drain waits until everything the receiver accepted since m0 has reached the far end (or
// has been discarded there), or nothing is queued and nothing has arrived for 2 s (spans were
// lost on the way), or the drain timeout. It returns the last scrape.
func (b *bench) drain(ctx context.Context, c *demo.Collector, far farEnd, m0 demo.Metrics, d0, x0 int64) (bool, demo.Metrics, error) {
	const poll, still = 200 * time.Millisecond, 2 * time.Second
	deadline := time.Now().Add(b.opts.drainTimeout)
	last, lastChange := int64(-1), time.Now()
	for {
		m, err := c.Metrics(ctx)
		if err != nil {
			return false, m, fmt.Errorf("scraping the collector: %w", err)
		}
		accepted := int64(m.Sum(metricAccepted, nil) - m0.Sum(metricAccepted, nil))
		d, x := far()
		arrived := d - d0 + x - x0
		now := time.Now()
		switch {
		case arrived >= accepted:
			return true, m, nil
		case arrived != last:
			last, lastChange = arrived, now
		case m.Sum(metricQueueSize, nil) == 0 && now.Sub(lastChange) >= still:
			return true, m, nil
		}
		if now.After(deadline) {
			return false, m, nil
		}
		if !sleepUntil(ctx, now.Add(poll)) {
			return false, m, context.Cause(ctx)
		}
	}
}

// renderConfig writes the pipeline's collector configuration with this run's addresses to
// name.yaml in the work directory.
func (b *bench) renderConfig(pipeline, name, otlp string, metricsPort int) (string, error) {
	tmplPath := filepath.Join(b.opts.configDir, knownPipelines[pipeline])
	if !filepath.IsAbs(tmplPath) {
		p, err := demo.FindRepoFile(tmplPath)
		if err != nil {
			return "", fmt.Errorf("collector configuration: %w (run pcmload from the repository)", err)
		}
		tmplPath = p
	}
	tmpl, err := os.ReadFile(tmplPath)
	if err != nil {
		return "", err
	}
	vars := map[string]string{
		"BENCH_OTLP_ENDPOINT":        otlp,
		"BENCH_METRICS_PORT":         strconv.Itoa(metricsPort),
		"BENCH_LOG_LEVEL":            b.opts.logLevel,
		"BENCH_CA_FILE":              filepath.Join(b.certsDir, pcmsim.CACertFile),
		"BENCH_PCM_API_URL":          b.pcmURL(),
		"BENCH_PCM_TOKEN_URL":        b.sim.TokenURL(),
		"BENCH_CLIENT_ID":            clientIDA,
		"BENCH_CERT_FILE":            filepath.Join(b.certsDir, "banco_a.crt"),
		"BENCH_KEY_FILE":             filepath.Join(b.certsDir, "banco_a.key"),
		"BENCH_ORG_ID":               orgA,
		"BENCH_SSID":                 ssidA,
		"BENCH_COUNTERPART_ORG_ID":   orgB,
		"BENCH_SINK_URL":             b.sink.url,
		"BENCH_OTLPHTTP_COMPRESSION": b.opts.compression,
	}
	out, err := demo.RenderCollectorConfig(tmpl, vars)
	if err != nil {
		return "", fmt.Errorf("%s: %w", tmplPath, err)
	}
	path := filepath.Join(b.workDir, name+".yaml")
	return path, os.WriteFile(path, out, 0o644)
}

// pcmURL is where the pcm exporter posts its reports.
func (b *bench) pcmURL() string {
	if b.front != nil {
		return b.front.url
	}
	return b.sim.APIURL()
}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return strconv.Itoa(n) + "th"
	case n%10 == 1:
		return strconv.Itoa(n) + "st"
	case n%10 == 2:
		return strconv.Itoa(n) + "nd"
	case n%10 == 3:
		return strconv.Itoa(n) + "rd"
	}
	return strconv.Itoa(n) + "th"
}

// freePorts reserves n loopback ports (released before the collector binds them).
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// errorLines returns the last n lines of the collector log at error level.
func errorLines(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, "\terror\t") || strings.Contains(l, `"level":"error"`) {
			lines = append(lines, l)
			if len(lines) > n {
				lines = lines[1:]
			}
		}
	}
	return strings.Join(lines, "\n")
}

func describeEnvironment(opts options) environment {
	e := environment{
		Date: time.Now(), Cores: runtime.NumCPU(), GoVersion: runtime.Version(), Step: opts.step, Rounds: opts.repeat,
		Senders: opts.senders, SpansPerRequest: opts.perRequest, OTLPHTTPCompress: opts.compression,
		ValidateEvery: opts.validate,
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(data))
	}
	return e
}

// collectorVersion is "<binary name> <version>" from `<binary> --version`.
func collectorVersion(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return filepath.Base(bin)
	}
	v := strings.TrimSpace(string(out))
	v = strings.Replace(v, " version ", " ", 1)
	if v == "" {
		return filepath.Base(bin)
	}
	return v
}
