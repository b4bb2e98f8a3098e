package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// StackConfig configures a complete demo world: PCM simulator, collector, banks.
type StackConfig struct {
	// Dir holds everything the stack writes (certificates unless CertsDir is set, rendered
	// collector config, collector log, dead letters, queue storage). Created if needed; the
	// dead letters and the queue storage of an earlier run are removed.
	Dir string
	// CertsDir holds the dev certificates (default Dir/certs); existing ones are reused.
	CertsDir string
	// CollectorBinary is the ocb-built collector.
	CollectorBinary string
	// CollectorTemplate is the collector configuration template (default: the repository's
	// testdata/demo/collector.yaml).
	CollectorTemplate string
	// CollectorLogLevel is the collector's log level (default info).
	CollectorLogLevel string
	// SimLogger receives the simulator's request logs (default none).
	SimLogger *zap.Logger
	// Progress receives one line per startup step (default none).
	Progress io.Writer
}

// Stack is a running demo world.
type Stack struct {
	cfg StackConfig

	Sim       *pcmsim.Server
	Collector *Collector
	Server    *ServerBank
	Gateway   *Gateway
	Client    *ClientBank

	// ConfigPath is the rendered collector configuration.
	ConfigPath string
	// DeadLetter is the dead-letter file of each organisation, by Org.Name.
	DeadLetter map[string]string
	// MetricsURL is the collector's Prometheus endpoint.
	MetricsURL string
	// OTLP is each organisation's OTLP/HTTP receiver (host:port), by Org.Name.
	OTLP map[string]string
}

// StartStack creates the dev certificates (if needed), starts the simulator, the server bank,
// the gateway, the collector and the client bank. On error everything started is stopped.
func StartStack(ctx context.Context, cfg StackConfig) (st *Stack, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("demo: stack: Dir is required")
	}
	if cfg.CertsDir == "" {
		cfg.CertsDir = filepath.Join(cfg.Dir, "certs")
	}
	if cfg.CollectorLogLevel == "" {
		cfg.CollectorLogLevel = "info"
	}
	if cfg.CollectorTemplate == "" {
		if cfg.CollectorTemplate, err = FindRepoFile(CollectorTemplatePath); err != nil {
			return nil, fmt.Errorf("demo: collector config template: %w", err)
		}
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if cfg.CertsDir, err = filepath.Abs(cfg.CertsDir); err != nil {
		return nil, err
	}
	st = &Stack{cfg: cfg, DeadLetter: map[string]string{}, OTLP: map[string]string{}}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			_ = st.Shutdown(sctx)
			st = nil
		}
	}()
	step := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, "  • "+format+"\n", args...) }

	// 1. dev PKI: CA, server certificate, one transport certificate per organisation
	certs, err := EnsureDevCerts(cfg.CertsDir)
	if err != nil {
		return st, err
	}
	step("dev certificates in %s (%d created, %d reused)", cfg.CertsDir, len(certs.Created), len(certs.Kept)/2)

	// 2. PCM simulator (in-process)
	serverCert, pool, err := pcmsim.LoadServerTLS(cfg.CertsDir)
	if err != nil {
		return st, err
	}
	st.Sim, err = pcmsim.New(pcmsim.Config{
		ServerCertificate: serverCert, ClientCAs: pool, Directory: certs.Directory, Logger: cfg.SimLogger,
	})
	if err != nil {
		return st, err
	}
	if err := st.Sim.Start(ctx); err != nil {
		return st, err
	}
	step("PCM simulator: token %s, API %s", st.Sim.TokenURL(), st.Sim.APIURL())

	// 3. loopback ports for the collector
	ports, err := freePorts(3)
	if err != nil {
		return st, err
	}
	st.OTLP[BancoA.Name] = hostPort("127.0.0.1", ports[0])
	st.OTLP[BancoB.Name] = hostPort("127.0.0.1", ports[1])
	st.MetricsURL = "http://" + hostPort("127.0.0.1", ports[2]) + "/metrics"

	// 4. the server bank (its spans wait in its batch processor until the collector is up)
	st.Server, err = StartServerBank(ctx, ServerConfig{
		Org: BancoB, Tracing: TracingConfig{ServiceName: "banco-b-open-finance-api", Endpoint: st.OTLP[BancoB.Name]},
	})
	if err != nil {
		return st, err
	}
	st.Gateway, err = StartGateway(DefaultGatewayRewrites...)
	if err != nil {
		return st, err
	}
	step("banco_b API on :%d (known to banco_a's collector as localhost:%d); banco_a egress gateway %s",
		st.Server.Port(), st.Server.Port(), st.Gateway.URL())

	// 5. collector
	// The simulator starts empty every time, so the collector does too: an earlier run's dead
	// letters and queued reports would only blur this run's results.
	for _, d := range []string{"storage", "deadletter"} {
		if err := os.RemoveAll(filepath.Join(cfg.Dir, d)); err != nil {
			return st, err
		}
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o755); err != nil {
			return st, err
		}
	}
	for _, o := range Orgs() {
		st.DeadLetter[o.Name] = filepath.Join(cfg.Dir, "deadletter", o.Name+".jsonl")
	}
	vars := CollectorVars(CollectorPorts{OTLPBancoA: ports[0], OTLPBancoB: ports[1], Metrics: ports[2], BancoBAPI: st.Server.Port()},
		cfg.Dir, cfg.CertsDir, st.Sim.APIURL(), st.Sim.TokenURL(), cfg.CollectorLogLevel)
	tmpl, err := os.ReadFile(cfg.CollectorTemplate)
	if err != nil {
		return st, err
	}
	rendered, err := RenderCollectorConfig(tmpl, vars)
	if err != nil {
		return st, err
	}
	st.ConfigPath = filepath.Join(cfg.Dir, "collector.yaml")
	if err := os.WriteFile(st.ConfigPath, rendered, 0o644); err != nil {
		return st, err
	}
	st.Collector, err = StartCollector(ctx, CollectorConfig{
		Binary: cfg.CollectorBinary, ConfigPath: st.ConfigPath, LogPath: filepath.Join(cfg.Dir, "collector.log"),
		MetricsURL: st.MetricsURL, OTLPEndpoints: []string{st.OTLP[BancoA.Name], st.OTLP[BancoB.Name]},
	})
	if err != nil {
		return st, err
	}
	step("collector (pid %d): config %s, log %s, metrics %s", st.Collector.PID(), st.ConfigPath,
		filepath.Join(cfg.Dir, "collector.log"), st.MetricsURL)

	// 6. the client bank
	st.Client, err = NewClientBank(ctx, ClientConfig{
		Org:         BancoA,
		Tracing:     TracingConfig{ServiceName: "banco-a-open-finance-client", Endpoint: st.OTLP[BancoA.Name]},
		KnownHost:   hostPort("localhost", st.Server.Port()),
		UnknownHost: hostPort("127.0.0.1", st.Server.Port()),
		GatewayURL:  st.Gateway.URL(),
	})
	if err != nil {
		return st, err
	}
	return st, nil
}

// CollectorPorts are the loopback ports the collector configuration refers to.
type CollectorPorts struct {
	OTLPBancoA, OTLPBancoB int // OTLP/HTTP receivers
	Metrics                int // Prometheus self-telemetry
	BancoBAPI              int // the server bank, for banco_a's counterparts.hosts
}

// CollectorVars are the values of the ${env:...} placeholders of the collector template.
func CollectorVars(p CollectorPorts, dir, certsDir, apiURL, tokenURL, logLevel string) map[string]string {
	vars := map[string]string{
		"PCMDEMO_STORAGE_DIR":     filepath.Join(dir, "storage"),
		"PCMDEMO_DEAD_LETTER_DIR": filepath.Join(dir, "deadletter"),
		"PCMDEMO_OTLP_BANCO_A":    hostPort("127.0.0.1", p.OTLPBancoA),
		"PCMDEMO_OTLP_BANCO_B":    hostPort("127.0.0.1", p.OTLPBancoB),
		"PCMDEMO_METRICS_PORT":    strconv.Itoa(p.Metrics),
		"PCMDEMO_PCM_API_URL":     apiURL,
		"PCMDEMO_PCM_TOKEN_URL":   tokenURL,
		"PCMDEMO_CA_FILE":         filepath.Join(certsDir, pcmsim.CACertFile),
		"PCMDEMO_BANCO_B_PORT":    strconv.Itoa(p.BancoBAPI),
		"PCMDEMO_LOG_LEVEL":       logLevel,
	}
	for _, o := range Orgs() {
		prefix := "PCMDEMO_" + strings.ToUpper(o.Name) + "_"
		vars[prefix+"ORG_ID"] = o.OrgID
		vars[prefix+"SSID"] = o.SoftwareStatementID
		vars[prefix+"CLIENT_ID"] = o.PCMClientID
		vars[prefix+"CERT"] = filepath.Join(certsDir, o.Name+".crt")
		vars[prefix+"KEY"] = filepath.Join(certsDir, o.Name+".key")
	}
	return vars
}

// FlushBanks exports every span the banks still buffer.
func (st *Stack) FlushBanks(ctx context.Context) error {
	var errs []error
	if st.Client != nil {
		errs = append(errs, st.Client.tp.ForceFlush(ctx))
	}
	if st.Server != nil {
		errs = append(errs, st.Server.tp.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown stops everything in dependency order: the banks (flushing their spans to the
// collector), the gateway, the collector (draining its queue to the simulator), the simulator.
func (st *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	if st.Client != nil {
		errs = append(errs, st.Client.Shutdown(ctx))
	}
	if st.Server != nil {
		errs = append(errs, st.Server.Shutdown(ctx))
	}
	if st.Gateway != nil {
		errs = append(errs, st.Gateway.Shutdown(ctx))
	}
	if st.Collector != nil {
		errs = append(errs, st.Collector.Stop(ctx))
	}
	if st.Sim != nil {
		errs = append(errs, st.Sim.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// DeadLetters reads an organisation's dead-letter file (none yet → empty).
func (st *Stack) DeadLetters(org string) ([]deadletter.Entry, error) {
	entries, err := deadletter.Read(st.DeadLetter[org])
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

// Metrics scrapes the collector's self-telemetry.
func (st *Stack) Metrics(ctx context.Context) (Metrics, error) {
	return ScrapeMetrics(ctx, st.MetricsURL)
}

// EnsureDevCerts writes (or reuses) the dev PKI of the demo organisations in dir.
func EnsureDevCerts(dir string) (*pcmsim.DevCertsResult, error) {
	orgs := make([]pcmsim.Org, 0, len(Orgs()))
	for _, o := range Orgs() {
		orgs = append(orgs, pcmsim.Org{Name: o.Name, OrgID: o.OrgID, SoftwareStatementID: o.SoftwareStatementID, ClientID: o.PCMClientID})
	}
	res, err := pcmsim.GenerateDevCerts(pcmsim.DevCertsOptions{Dir: dir, Orgs: orgs})
	if err != nil {
		return nil, fmt.Errorf("dev certificates: %w", err)
	}
	return res, nil
}

// freePorts reserves n distinct loopback ports and releases them for the collector.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
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
