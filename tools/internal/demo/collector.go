package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CollectorTemplatePath is the demo collector configuration, relative to the repository root.
const CollectorTemplatePath = "testdata/demo/collector.yaml"

// FindRepoFile returns the absolute path of rel (a path relative to the module root), looking
// in the current directory and its parents for the directory that holds go.mod.
func FindRepoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s: no go.mod in the current directory or its parents", rel)
		}
		dir = parent
	}
}

var placeholder = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// RenderCollectorConfig replaces every ${env:NAME} placeholder of the template with vars[NAME].
// A placeholder without a value is an error: the rendered file must be complete.
func RenderCollectorConfig(template []byte, vars map[string]string) ([]byte, error) {
	var missing []string
	out := placeholder.ReplaceAllFunc(template, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("collector config template: no value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// CollectorConfig starts the collector binary.
type CollectorConfig struct {
	// Binary is the ocb-built collector (e.g. _build/otelcol-pcm).
	Binary string
	// ConfigPath is the rendered configuration.
	ConfigPath string
	// ExtraConfigPaths are merged over ConfigPath, in order (the collector's repeated --config).
	ExtraConfigPaths []string
	// LogPath receives the collector's stdout and stderr.
	LogPath string
	// MetricsURL is the Prometheus endpoint of its self-telemetry (readiness probe).
	MetricsURL string
	// OTLPEndpoints are the receivers' host:port (readiness probe).
	OTLPEndpoints []string
	// StartTimeout bounds the wait for readiness (default 30s).
	StartTimeout time.Duration
}

// Collector is a running collector process.
type Collector struct {
	cfg     CollectorConfig
	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{}
	waitErr error
	stop    sync.Once
}

// StartCollector runs the collector and waits until its receivers and metrics endpoint answer.
func StartCollector(ctx context.Context, cfg CollectorConfig) (*Collector, error) {
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if _, err := os.Stat(cfg.Binary); err != nil {
		return nil, fmt.Errorf("collector binary: %w (build it with `make build`)", err)
	}
	logFile, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("collector log: %w", err)
	}
	args := []string{"--config", cfg.ConfigPath}
	for _, p := range cfg.ExtraConfigPaths {
		args = append(args, "--config", p)
	}
	cmd := exec.Command(cfg.Binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = os.Environ()
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting the collector: %w", err)
	}
	c := &Collector{cfg: cfg, cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	if err := c.waitReady(ctx); err != nil {
		_ = c.Stop(context.Background())
		return nil, fmt.Errorf("%w\n--- collector log (%s) ---\n%s", err, cfg.LogPath, c.LogTail(40))
	}
	return c, nil
}

func (c *Collector) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return fmt.Errorf("the collector exited during startup: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("the collector was not ready within %s", c.cfg.StartTimeout)
		case <-tick.C:
		}
		if c.ready(ctx, client) {
			return nil
		}
	}
}

func (c *Collector) ready(ctx context.Context, client *http.Client) bool {
	for _, ep := range c.cfg.OTLPEndpoints {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", ep)
		if err != nil {
			return false
		}
		_ = conn.Close()
	}
	if c.cfg.MetricsURL == "" {
		return true
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.MetricsURL, nil)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// PID is the collector's process id.
func (c *Collector) PID() int { return c.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (c *Collector) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process ends.
func (c *Collector) Done() <-chan struct{} { return c.done }

// Stop asks the collector to shut down (SIGTERM: it drains its queues and closes the dead
// letter), and kills it if it has not exited when ctx ends (or after 15s without a deadline).
func (c *Collector) Stop(ctx context.Context) error {
	var err error
	c.stop.Do(func() {
		defer func() { _ = c.logFile.Close() }()
		if c.Exited() {
			return
		}
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
		}
		if e := terminate(c.cmd.Process); e != nil {
			_ = c.cmd.Process.Kill()
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			_ = c.cmd.Process.Kill()
			<-c.done
			err = errors.New("the collector did not stop in time and was killed")
		}
	})
	return err
}

// LogTail returns the last n lines of the collector log.
func (c *Collector) LogTail(n int) string {
	data, err := os.ReadFile(c.cfg.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Sample is one Prometheus sample of the collector's self-telemetry.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is a scrape of the collector's self-telemetry.
type Metrics []Sample

// Metrics scrapes the collector's Prometheus endpoint.
func (c *Collector) Metrics(ctx context.Context) (Metrics, error) {
	return ScrapeMetrics(ctx, c.cfg.MetricsURL)
}

// ScrapeMetrics reads a Prometheus text exposition.
func ScrapeMetrics(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return ParseMetrics(body)
}

// ParseMetrics parses the Prometheus text format (comments skipped, no timestamps expected).
func ParseMetrics(text []byte) (Metrics, error) {
	var out Metrics
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	rest := line
	if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
		s.Name = line[:i]
		rest = line[i+1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
				return s, errors.New("bad label")
			}
			name := rest[:eq]
			var val strings.Builder
			j := eq + 2
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[j])
					}
					continue
				}
				val.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return s, errors.New("unterminated label value")
			}
			s.Labels[name] = val.String()
			rest = rest[j+1:]
		}
	} else {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return s, errors.New("no value")
		}
		s.Name, rest = line[:sp], line[sp:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, errors.New("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, err
	}
	s.Value = v
	return s, nil
}

// Sum adds the values of the samples called name (or name + "_total") whose labels include
// every given label pair.
func (m Metrics) Sum(name string, labels map[string]string) float64 {
	var total float64
	for _, s := range m {
		if s.Name != name && s.Name != name+"_total" {
			continue
		}
		match := true
		for k, v := range labels {
			if s.Labels[k] != v {
				match = false
				break
			}
		}
		if match {
			total += s.Value
		}
	}
	return total
}

// Find returns the samples called name (or name + "_total").
func (m Metrics) Find(name string) []Sample {
	var out []Sample
	for _, s := range m {
		if s.Name == name || s.Name == name+"_total" {
			out = append(out, s)
		}
	}
	return out
}
