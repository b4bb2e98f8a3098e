//go:build e2e

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// alertRulesFile is the alert rules the README points operators to.
const alertRulesFile = "../deploy/prometheus/pcm-alerts.yaml" // relative to the tools module

// prometheus is a real Prometheus server scraping the collector every second and evaluating
// the shipped alert rules every second.
type prometheus struct {
	t   *testing.T
	url string
}

// startPrometheus runs the `prometheus` binary (Debian's prometheus package; .ci/run installs
// it) against the collector's metrics endpoint. The rules' `for:` durations are cut to a few
// seconds so that pending → firing happens within a test; the expressions are the shipped ones.
func startPrometheus(t *testing.T, metricsURL string) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the prometheus binary is missing; .ci/run installs Debian's prometheus package: %v", err)
		}
		t.Skip("no prometheus binary on PATH (apt-get install prometheus)")
	}
	dir := t.TempDir()
	rulesPath, err := demo.FindRepoFile(alertRulesFile)
	require.NoError(t, err)
	rules, err := os.ReadFile(rulesPath)
	require.NoError(t, err)
	shortFor := regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(rules, []byte("$1 3s"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), shortFor, 0o600))
	target, err := url.Parse(metricsURL)
	require.NoError(t, err)
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yaml]
scrape_configs:
  - job_name: otelcol
    metrics_path: %s
    static_configs:
      - targets: [%q]
`, target.Path, target.Host)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600))
	port := freePorts(t, 1)[0]
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=warn")
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", tail(logFile.Name(), 30))
		}
	})
	p := &prometheus{t: t, url: "http://127.0.0.1:" + strconv.Itoa(port)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		require.False(t, time.Now().After(deadline), "prometheus did not become ready: %v", err)
		time.Sleep(200 * time.Millisecond)
	}
}

// get decodes the data of a Prometheus HTTP API answer.
func (p *prometheus) get(path string, query url.Values, data any) error {
	resp, err := http.Get(p.url + path + "?" + query.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if body.Status != "success" {
		return fmt.Errorf("prometheus %s: %s", path, body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

// alertState is the state of the named alert ("pending", "firing"), "" when it is inactive.
func (p *prometheus) alertState(name string) string {
	var data struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	require.NoError(p.t, p.get("/api/v1/alerts", nil, &data))
	state := ""
	for _, a := range data.Alerts {
		if a.Labels["alertname"] == name && (state == "" || a.State == "firing") {
			state = a.State
		}
	}
	return state
}

// series is the number of series an instant query returns.
func (p *prometheus) series(expr string) (int, error) {
	var data struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := p.get("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return 0, err
	}
	return len(data.Result), nil
}

// TestBacklogAlertFiresAndClearsInARealPrometheus scrapes the built collector with a real
// Prometheus loaded with the shipped alert rules while PCM answers 503 to reports of calls made
// three hours ago: the backlog alert goes pending, then firing; once PCM takes the reports it
// clears.
func TestBacklogAlertFiresAndClearsInARealPrometheus(t *testing.T) {
	e := newEnv(t, envConfig{Faults: pcmsim.Faults{API: pcmsim.Fault{Mode: "503"}}})
	prom := startPrometheus(t, e.metricsURL)
	ctx := context.Background()
	require.True(t, e.send.postAged(ctx, 10, 3*time.Hour), "the collector accepts spans while PCM refuses")

	seen := map[string]bool{}
	e.waitFor(60*time.Second, "PCMBacklogAgeing to fire", func() (bool, string) {
		state := prom.alertState("PCMBacklogAgeing")
		seen[state] = true
		return state == "firing", fmt.Sprintf("state %q; seen %v", state, seen)
	})
	require.True(t, seen["pending"], "the alert was pending before it fired (its for: clause)")

	require.NoError(t, e.sim().SetFaults(pcmsim.Faults{}))
	e.waitDelivered(60 * time.Second)
	e.waitFor(60*time.Second, "PCMBacklogAgeing to clear", func() (bool, string) {
		state := prom.alertState("PCMBacklogAgeing")
		return state == "", fmt.Sprintf("state %q", state)
	})
	n, err := prom.series(`otelcol_exporter_pcm_sla_accepted{deadline="d1_0800",deadline_strict="met"}`)
	require.NoError(t, err)
	require.Positive(t, n, "the accepted reports are counted by deadline")
}

// dashboardFile is the Grafana dashboard the README points operators to.
const dashboardFile = "../deploy/grafana/pcm-exporter.json" // relative to the tools module

// dashboardQueries returns the PromQL of every panel of the shipped dashboard, with its
// variables filled in as Grafana would for "All".
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	path, err := demo.FindRepoFile(dashboardFile)
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	vars := strings.NewReplacer(`$exporter`, `.+`, `$__rate_interval`, `1m`)
	out := map[string]string{}
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			out[fmt.Sprintf("%s #%d", p.Title, i+1)] = vars.Replace(tg.Expr)
		}
	}
	return out
}

// TestDashboardQueriesReturnSeries runs every PromQL expression of the shipped Grafana dashboard
// against a real Prometheus scraping the built collector through a run with deliveries, a token
// failure, an unlisted endpoint (dead-lettered and refused locally), a PCM outage and the
// reconciliation watch: each must return at least one series.
func TestDashboardQueriesReturnSeries(t *testing.T) {
	e := newEnv(t, envConfig{Watch: true, Faults: pcmsim.Faults{Token: pcmsim.Fault{Mode: "500", Count: 1}}})
	prom := startPrometheus(t, e.metricsURL)
	queries := dashboardQueries(t)
	require.GreaterOrEqual(t, len(queries), 10)
	ctx := context.Background()
	require.True(t, e.send.post(ctx, batchMaxSize))
	require.True(t, e.send.postUnlisted(ctx))
	e.waitDelivered(30 * time.Second)
	require.NoError(t, e.sim().SetFaults(pcmsim.Faults{API: pcmsim.Fault{Mode: "503", Count: 3}}))
	require.True(t, e.send.post(ctx, batchMaxSize))
	e.waitDelivered(30 * time.Second)

	missing := map[string]string{}
	e.waitFor(60*time.Second, "every dashboard query to return a series", func() (bool, string) {
		missing = map[string]string{}
		for name, expr := range queries {
			n, err := prom.series(expr)
			require.NoError(t, err, "%s: %s", name, expr)
			if n == 0 {
				missing[name] = expr
			}
		}
		return len(missing) == 0, fmt.Sprintf("%d of %d queries without a series: %v", len(missing), len(queries), keys(missing))
	})
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
