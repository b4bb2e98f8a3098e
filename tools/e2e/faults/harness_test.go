//go:build e2e

package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// The sending queue of testdata/faults/collector.yaml (filled into the template from here, so
// that the bounds the tests assert and the configuration cannot drift apart).
const (
	// numConsumers is sending_queue.num_consumers: with batching, the number of batches
	// exported (and retried) concurrently.
	numConsumers = 4
	// batchMaxSize is sending_queue.batch.max_size (and min_size) in spans, and the exporter's
	// max_batch_size: one batch is one POST.
	batchMaxSize = 25
	// inFlightBound is the most reports that can be on their way to PCM at once: the only ones
	// a crash may duplicate (docs/pcm-rules.md §15.10: duplicates are limited to the batches in
	// flight).
	inFlightBound = numConsumers * batchMaxSize

	collectorTemplate = "testdata/faults/collector.yaml"
	// counterpartHost is the host the CLIENT spans call; counterparts.hosts maps it to
	// counterpartOrg.
	counterpartHost = "api.banco-b.example"
	// balancesPath is an endpoint of PCM's catalog (a private, non-opendata API).
	balancesPath = "/open-banking/accounts/v2/accounts/acc-0001/balances"
	// metricExporter is the exporter label of exporterhelper's and the pcm exporter's series.
	metricExporter = "pcm"
)

// The organisations of the simulated Directory: ours (with a transport certificate and a PCM
// client) and the counterpart our CLIENT spans call (known to the Directory, no client).
var (
	ourOrg = pcmsim.Org{
		Name: "bank", OrgID: "c0c0c0c0-1111-4111-8111-0000000000c1",
		SoftwareStatementID: "c0c0c0c0-2222-4222-8222-0000000000c2", ClientID: "bank-pcm",
	}
	counterpartOrg = pcmsim.Org{Name: "counterpart", OrgID: "d0d0d0d0-1111-4111-8111-0000000000d1", ClientID: "-"}
)

// collectorBinary is the ocb-built collector, or the test is skipped.
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin, err := demo.CollectorBinary()
	require.NoError(t, err)
	if bin == "" {
		t.Skip("OTELCOL_BINARY is not set: build the collector with `make build`, then in tools/ run " +
			"OTELCOL_BINARY=$PWD/../_build/otelcol-pcm go test -count=1 -tags e2e ./e2e/faults/")
	}
	return bin
}

// envConfig selects what a test's world looks like.
type envConfig struct {
	// TokenLifetime of the simulator's access tokens (default PCM's 6h).
	TokenLifetime time.Duration
	// Faults of the simulator from the start (before the collector asks for anything).
	Faults pcmsim.Faults
	// Proxy puts a holdProxy between the exporter and the simulator's report API.
	Proxy bool
	// MemoryQueue removes sending_queue.storage: the queue lives in memory only.
	MemoryQueue bool
	// Watch turns the reconciliation watch on for every delivered report, one second after
	// delivery.
	Watch bool
	// ExtraConfigs are collector configuration files merged over the rendered one, in order.
	ExtraConfigs []string
}

// env is one test's world: the simulator (and the instances it was restarted as), maybe a
// proxy, the collector process (and the ones it was restarted as) and the OTLP sender.
type env struct {
	t     *testing.T
	cfg   envConfig
	dir   string
	bin   string
	pki   *pcmsim.DevPKI
	clock *simClock

	simMu      sync.Mutex
	simCfg     pcmsim.Config     // fixed addresses once the first instance listened
	sims       []*pcmsim.Server  // every instance, in order; the last one is the live one
	down       map[int]bool      // instances shut down
	proxy      *holdProxy        // nil without envConfig.Proxy
	col        *demo.Collector   // the current collector process
	logs       []string          // log file of every collector run
	send       *sender           // the OTLP sender
	otlp       string            // the receiver's host:port
	apiURL     string            // the exporter's endpoint (simulator or proxy)
	vars       map[string]string // the template's values
	paths      struct{ config, deadLetter string }
	metricsURL string
}

// newEnv starts the simulator, the proxy if asked for, and the collector.
func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	e := &env{t: t, cfg: cfg, bin: collectorBinary(t), dir: t.TempDir(), clock: &simClock{}, down: map[int]bool{}}
	t.Cleanup(e.cleanup)

	var err error
	e.pki, err = pcmsim.NewDevPKI(ourOrg, counterpartOrg)
	require.NoError(t, err)
	certs := filepath.Join(e.dir, "certs")
	require.NoError(t, e.pki.WriteFiles(certs))
	client, ok := e.pki.Org(ourOrg.Name)
	require.True(t, ok)

	e.simCfg, err = e.pki.Config()
	require.NoError(t, err)
	e.simCfg.TokenLifetime = cfg.TokenLifetime
	e.simCfg.Faults = cfg.Faults
	e.simCfg.Now = e.clock.Now
	sim := e.startSim()
	e.simCfg.AuthAddr = hostOf(t, sim.AuthURL())
	e.simCfg.APIAddr = hostOf(t, sim.APIURL())
	e.apiURL = sim.APIURL()
	if cfg.Proxy {
		e.proxy = startHoldProxy(t, sim.APIURL(), e.pki)
		e.apiURL = e.proxy.URL()
	}

	ports := freePorts(t, 2)
	e.otlp = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	e.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1])
	e.paths.deadLetter = filepath.Join(e.dir, "deadletter", "pcm.jsonl")
	require.NoError(t, os.MkdirAll(filepath.Dir(e.paths.deadLetter), 0o755))
	e.vars = map[string]string{
		"FAULTS_STORAGE_DIR":        filepath.Join(e.dir, "storage"),
		"FAULTS_OTLP_ENDPOINT":      e.otlp,
		"FAULTS_METRICS_PORT":       strconv.Itoa(ports[1]),
		"FAULTS_API_URL":            e.apiURL,
		"FAULTS_TOKEN_URL":          sim.TokenURL(),
		"FAULTS_CA_FILE":            filepath.Join(certs, pcmsim.CACertFile),
		"FAULTS_CLIENT_ID":          client.ClientID,
		"FAULTS_CLIENT_CERT":        filepath.Join(certs, ourOrg.Name+".crt"),
		"FAULTS_CLIENT_KEY":         filepath.Join(certs, ourOrg.Name+".key"),
		"FAULTS_ORG_ID":             client.OrgID,
		"FAULTS_SSID":               client.SoftwareStatementID,
		"FAULTS_COUNTERPART_HOST":   counterpartHost,
		"FAULTS_COUNTERPART_ORG_ID": counterpartOrg.OrgID,
		"FAULTS_DEAD_LETTER":        e.paths.deadLetter,
		"FAULTS_NUM_CONSUMERS":      strconv.Itoa(numConsumers),
		"FAULTS_BATCH_MAX_SIZE":     strconv.Itoa(batchMaxSize),
	}
	tmplPath, err := demo.FindRepoFile(collectorTemplate)
	require.NoError(t, err)
	tmpl, err := os.ReadFile(tmplPath)
	require.NoError(t, err)
	rendered, err := demo.RenderCollectorConfig(tmpl, e.vars)
	require.NoError(t, err)
	if cfg.Watch {
		const retry = "    retry_on_failure:\n"
		require.Contains(t, string(rendered), retry)
		watch := "    reconciliation_watch:\n      enabled: true\n      sample_ratio: 1\n      delay: 1s\n      rate_limit: 50\n"
		rendered = []byte(strings.Replace(string(rendered), retry, watch+retry, 1))
	}
	if cfg.MemoryQueue {
		const storage = "      storage: file_storage\n"
		require.Contains(t, string(rendered), storage)
		rendered = []byte(strings.Replace(string(rendered), storage, "", 1))
	}
	e.paths.config = filepath.Join(e.dir, "collector.yaml")
	require.NoError(t, os.WriteFile(e.paths.config, rendered, 0o644))

	e.startCollector()
	e.send = newSender(e.otlp)
	return e
}

// cleanup stops the collector (gracefully), the proxy and every simulator instance; on failure
// it shows the end of each collector log.
func (e *env) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e.send != nil {
		e.send.stopBackground()
	}
	if e.col != nil {
		if err := e.col.Stop(ctx); err != nil {
			e.t.Errorf("collector stop: %v", err)
		}
	}
	if e.t.Failed() {
		for _, p := range e.logs {
			e.t.Logf("collector log %s, last lines:\n%s", p, tail(p, 40))
		}
	}
	if e.proxy != nil {
		e.proxy.Close()
	}
	e.simMu.Lock()
	defer e.simMu.Unlock()
	for i, s := range e.sims {
		if !e.down[i] {
			_ = s.Shutdown(ctx)
		}
	}
}

// startSim starts a simulator instance with simCfg (the same addresses as the first one, once
// known). A port just released may take a moment to be free again.
func (e *env) startSim() *pcmsim.Server {
	e.t.Helper()
	s, err := pcmsim.New(e.simCfg)
	require.NoError(e.t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = s.Start(context.Background())
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(e.t, err, "starting the simulator")
	e.simMu.Lock()
	e.sims = append(e.sims, s)
	e.simMu.Unlock()
	return s
}

// sim is the live simulator instance.
func (e *env) sim() *pcmsim.Server {
	e.simMu.Lock()
	defer e.simMu.Unlock()
	return e.sims[len(e.sims)-1]
}

// stopSim shuts the live simulator down: both listeners close (connections are refused).
func (e *env) stopSim() {
	e.t.Helper()
	e.simMu.Lock()
	i := len(e.sims) - 1
	s := e.sims[i]
	e.down[i] = true
	e.simMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(e.t, s.Shutdown(ctx))
}

// startCollector starts a collector process on the rendered configuration (a new log file
// per run; the queue storage and the dead letter are kept across runs).
func (e *env) startCollector() {
	e.t.Helper()
	logPath := filepath.Join(e.dir, fmt.Sprintf("collector-%d.log", len(e.logs)+1))
	e.logs = append(e.logs, logPath)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	col, err := demo.StartCollector(ctx, demo.CollectorConfig{
		Binary: e.bin, ConfigPath: e.paths.config, ExtraConfigPaths: e.cfg.ExtraConfigs, LogPath: logPath,
		MetricsURL: e.metricsURL, OTLPEndpoints: []string{e.otlp}, StartTimeout: 30 * time.Second,
	})
	require.NoError(e.t, err)
	e.col = col
}

// killCollector ends the collector with SIGKILL: no shutdown, no draining, no flushing.
func (e *env) killCollector() {
	e.t.Helper()
	require.NoError(e.t, syscall.Kill(e.col.PID(), syscall.SIGKILL))
	select {
	case <-e.col.Done():
	case <-time.After(10 * time.Second):
		e.t.Fatalf("the collector (pid %d) did not die within 10s of SIGKILL", e.col.PID())
	}
	_ = e.col.Stop(context.Background()) // closes its log file
}

// logPath is the current collector run's log.
func (e *env) logPath() string { return e.logs[len(e.logs)-1] }

// reports are the reports every simulator instance stored, in arrival order per instance.
func (e *env) reports() []pcmsim.Report {
	e.simMu.Lock()
	defer e.simMu.Unlock()
	var out []pcmsim.Report
	for _, s := range e.sims {
		out = append(out, s.Reports()...)
	}
	return out
}

// delivered counts the stored reports by fapiInteractionId (lower case).
func (e *env) delivered() map[string]int {
	n := map[string]int{}
	for _, r := range e.reports() {
		n[strings.ToLower(r.FapiInteractionID)]++
	}
	return n
}

// simStats adds up the counters of every simulator instance.
func (e *env) simStats() pcmsim.Stats {
	e.simMu.Lock()
	defer e.simMu.Unlock()
	total := pcmsim.Stats{TokenRequests: map[string]int{}, ReportRequests: map[string]int{}, QueryRequests: map[string]int{}}
	for _, s := range e.sims {
		st := s.Stats()
		for k, v := range st.TokenRequests {
			total.TokenRequests[k] += v
		}
		for k, v := range st.ReportRequests {
			total.ReportRequests[k] += v
		}
		for k, v := range st.QueryRequests {
			total.QueryRequests[k] += v
		}
		total.ItemsReceived += st.ItemsReceived
		total.ItemsAccepted += st.ItemsAccepted
		total.ItemsDiscarded += st.ItemsDiscarded
		total.Duplicates += st.Duplicates
	}
	return total
}

// discarded is what any simulator instance answered DISCARDED.
func (e *env) discarded() []pcmsim.DiscardedReport {
	e.simMu.Lock()
	defer e.simMu.Unlock()
	var out []pcmsim.DiscardedReport
	for _, s := range e.sims {
		out = append(out, s.Discarded()...)
	}
	return out
}

// metrics scrapes the current collector's self-telemetry.
func (e *env) metrics() demo.Metrics {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := demo.ScrapeMetrics(ctx, e.metricsURL)
	require.NoError(e.t, err)
	return m
}

// metric sums a series of the pcm exporter instance.
func metric(m demo.Metrics, name string, labels ...string) float64 {
	want := map[string]string{"exporter": metricExporter}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	return m.Sum(name, want)
}

// Series names of the collector's Prometheus endpoint (counters get _total; ScrapeMetrics'
// Sum accepts both).
const (
	mSentSpans       = "otelcol_exporter_sent_spans"
	mSendFailedSpans = "otelcol_exporter_send_failed_spans"
	mEnqueueFailed   = "otelcol_exporter_enqueue_failed_spans"
	mQueueSize       = "otelcol_exporter_queue_size"
	mReports         = "otelcol_exporter_pcm_reports"
	mTokenRequests   = "otelcol_exporter_pcm_token_requests"
	mRequestCount    = "otelcol_exporter_pcm_request_duration_count" // report POST attempts, by status_code (0: no answer)
)

// waitFor polls cond every 100ms until it holds or timeout passes (then the test fails with
// cond's last description of what it saw).
func (e *env) waitFor(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// missing lists the accepted spans whose report is not (yet) at the simulator.
func (e *env) missing() []string {
	got := e.delivered()
	var out []string
	for _, id := range e.send.acceptedIDs() {
		if got[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// waitDelivered waits until every span the collector accepted has its report at the simulator.
func (e *env) waitDelivered(timeout time.Duration) {
	e.t.Helper()
	e.waitFor(timeout, "every accepted span's report at the simulator", func() (bool, string) {
		miss := e.missing()
		if len(miss) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%d of %d accepted spans have no report (e.g. %s); simulator stats %+v",
			len(miss), len(e.send.acceptedIDs()), miss[0], e.simStats())
	})
}

// waitSettled waits until the sending queue is empty and the simulator has received nothing
// for a second: no late resend can still be on its way when the counts are taken.
func (e *env) waitSettled(timeout time.Duration) {
	e.t.Helper()
	last, since := -1, time.Now()
	e.waitFor(timeout, "the queue to empty and the simulator to go quiet", func() (bool, string) {
		q := metric(e.metrics(), mQueueSize)
		n := e.simStats().ItemsReceived
		if n != last {
			last, since = n, time.Now()
		}
		quiet := time.Since(since)
		return q == 0 && quiet >= time.Second, fmt.Sprintf("queue size %v, simulator quiet for %s", q, quiet)
	})
}

// deadLetters reads the dead-letter file (none written → empty).
func (e *env) deadLetters() []deadletter.Entry {
	e.t.Helper()
	entries, err := deadletter.Read(e.paths.deadLetter)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(e.t, err)
	return entries
}

// checkDelivery asserts what every test expects at the end: each accepted span's report is at
// the simulator, every stored report comes from a span we sent, PCM discarded nothing and
// nothing was dead-lettered. It returns the delivery count by fapiInteractionId.
func (e *env) checkDelivery() map[string]int {
	e.t.Helper()
	got := e.delivered()
	sent := e.send.sentIDs()
	for _, id := range e.send.acceptedIDs() {
		if got[id] == 0 {
			e.t.Errorf("span %s was accepted by the collector but its report never reached PCM", id)
		}
	}
	for id := range got {
		if !sent[id] {
			e.t.Errorf("PCM stored a report (fapiInteractionId %s) for no span the test sent", id)
		}
	}
	for _, r := range e.reports() {
		if r.SubmittedBy != ourOrg.OrgID || r.Role != pcmsim.RoleClient || r.ServerOrgID != counterpartOrg.OrgID || r.Endpoint == "" {
			e.t.Errorf("unexpected stored report: %+v", r)
			break
		}
	}
	if d := e.discarded(); len(d) > 0 {
		e.t.Errorf("PCM discarded %d reports, e.g. %s", len(d), d[0].Message)
	}
	if dl := e.deadLetters(); len(dl) > 0 {
		e.t.Errorf("%d reports were dead-lettered, e.g. stage %s: %s", len(dl), dl[0].Stage, dl[0].Reason)
	}
	return got
}

// duplicates is the number of extra deliveries and the ids delivered more than once.
func duplicates(got map[string]int) (extra int, ids []string) {
	for id, n := range got {
		if n > 1 {
			extra += n - 1
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return extra, ids
}

// simClock is the simulator's clock: real time plus an offset a test can move forward.
type simClock struct{ offset atomic.Int64 }

func (c *simClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the simulator's clock forward (its tokens age at once).
func (c *simClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// logEntry is one line of the collector's JSON log.
type logEntry struct {
	Raw    string
	Level  string
	Time   time.Time
	Msg    string
	Fields map[string]any
}

// readLog parses a collector log (JSON lines; anything else is kept as Raw only).
func readLog(t *testing.T, path string) []logEntry {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		le := logEntry{Raw: line}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			le.Fields = m
			le.Level, _ = m["level"].(string)
			le.Msg, _ = m["msg"].(string)
			switch ts := m["ts"].(type) {
			case string:
				le.Time, _ = time.Parse(time.RFC3339Nano, ts)
			case float64:
				sec := int64(ts)
				le.Time = time.Unix(sec, int64((ts-float64(sec))*1e9))
			}
		}
		out = append(out, le)
	}
	require.NoError(t, sc.Err())
	return out
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// hostOf is the host:port of a URL.
func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

// freePorts reserves n distinct loopback ports and releases them for the collector.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
