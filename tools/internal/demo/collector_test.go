package demo

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestRenderCollectorConfig(t *testing.T) {
	out, err := RenderCollectorConfig([]byte("a: ${env:A}\n\"h:${env:P}\": ${env:A}\nb: ${B}\n"), map[string]string{"A": "x", "P": "9"})
	require.NoError(t, err)
	assert.Equal(t, "a: x\n\"h:9\": x\nb: ${B}\n", string(out))

	_, err = RenderCollectorConfig([]byte("a: ${env:A} ${env:Z} ${env:Y}"), map[string]string{"A": "x"})
	require.EqualError(t, err, "collector config template: no value for Y, Z")
}

// TestDemoCollectorTemplate renders the repository's template with the stack's variables and
// checks the parts the demo and the e2e tests rely on.
func TestDemoCollectorTemplate(t *testing.T) {
	path, err := FindRepoFile(CollectorTemplatePath)
	require.NoError(t, err)
	tmpl, err := os.ReadFile(path)
	require.NoError(t, err)
	vars := CollectorVars(CollectorPorts{OTLPBancoA: 4001, OTLPBancoB: 4002, Metrics: 4003, BancoBAPI: 4004},
		"/w", "/w/certs", "https://127.0.0.1:4005", "https://127.0.0.1:4006/token/", "info")
	rendered, err := RenderCollectorConfig(tmpl, vars)
	require.NoError(t, err)
	assert.False(t, placeholder.Match(rendered))

	var cfg struct {
		Extensions map[string]map[string]any `yaml:"extensions"`
		Receivers  map[string]any            `yaml:"receivers"`
		Exporters  map[string]struct {
			Endpoint string            `yaml:"endpoint"`
			TLS      map[string]string `yaml:"tls"`
			Token    struct {
				URL      string            `yaml:"url"`
				ClientID string            `yaml:"client_id"`
				TLS      map[string]string `yaml:"tls"`
			} `yaml:"token"`
			OrgID        string `yaml:"org_id"`
			SSID         string `yaml:"software_statement_id"`
			Counterparts struct {
				Hosts map[string]string `yaml:"hosts"`
			} `yaml:"counterparts"`
			DeadLetter   map[string]string `yaml:"dead_letter"`
			SendingQueue struct {
				Storage string            `yaml:"storage"`
				Batch   map[string]string `yaml:"batch"`
			} `yaml:"sending_queue"`
		} `yaml:"exporters"`
		Service struct {
			Extensions []string `yaml:"extensions"`
			Pipelines  map[string]struct {
				Receivers, Processors, Exporters []string
			} `yaml:"pipelines"`
			Telemetry struct {
				Metrics struct {
					Readers []struct {
						Pull struct {
							Exporter struct {
								Prometheus struct {
									Host string `yaml:"host"`
									Port int    `yaml:"port"`
								} `yaml:"prometheus"`
							} `yaml:"exporter"`
						} `yaml:"pull"`
					} `yaml:"readers"`
				} `yaml:"metrics"`
			} `yaml:"telemetry"`
		} `yaml:"service"`
	}
	require.NoError(t, yaml.Unmarshal(rendered, &cfg))
	assert.Contains(t, cfg.Receivers, "otlp/banco_a")
	assert.Contains(t, cfg.Receivers, "otlp/banco_b")
	assert.Equal(t, []string{"file_storage"}, cfg.Service.Extensions)
	assert.Equal(t, "/w/storage", cfg.Extensions["file_storage"]["directory"])
	for _, o := range Orgs() {
		e, ok := cfg.Exporters["pcm/"+o.Name]
		require.True(t, ok, o.Name)
		assert.Equal(t, "https://127.0.0.1:4005", e.Endpoint)
		assert.Equal(t, "/w/certs/ca.crt", e.TLS["ca_file"])
		assert.Equal(t, "https://127.0.0.1:4006/token/", e.Token.URL)
		assert.Equal(t, o.PCMClientID, e.Token.ClientID)
		assert.Equal(t, "/w/certs/"+o.Name+".crt", e.Token.TLS["cert_file"])
		assert.Equal(t, "/w/certs/"+o.Name+".key", e.Token.TLS["key_file"])
		assert.Equal(t, "/w/certs/ca.crt", e.Token.TLS["ca_file"])
		assert.Equal(t, o.OrgID, e.OrgID)
		assert.Equal(t, o.SoftwareStatementID, e.SSID)
		assert.Equal(t, "/w/deadletter/"+o.Name+".jsonl", e.DeadLetter["path"])
		assert.Equal(t, "file_storage", e.SendingQueue.Storage)
		assert.Equal(t, "1s", e.SendingQueue.Batch["flush_timeout"])
		p := cfg.Service.Pipelines["traces/"+o.Name]
		assert.Equal(t, []string{"otlp/" + o.Name}, p.Receivers)
		assert.Equal(t, []string{"memory_limiter"}, p.Processors)
		assert.Equal(t, []string{"pcm/" + o.Name}, p.Exporters)
	}
	assert.Equal(t, map[string]string{"localhost:4004": BancoB.OrgID}, cfg.Exporters["pcm/banco_a"].Counterparts.Hosts)
	require.Len(t, cfg.Service.Telemetry.Metrics.Readers, 1)
	prom := cfg.Service.Telemetry.Metrics.Readers[0].Pull.Exporter.Prometheus
	assert.Equal(t, "127.0.0.1", prom.Host)
	assert.Equal(t, 4003, prom.Port)
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP otelcol_exporter_pcm_reports Reports
# TYPE otelcol_exporter_pcm_reports counter
otelcol_exporter_pcm_reports{api="private",outcome="invalid",role="CLIENT"} 3
otelcol_exporter_pcm_reports{api="private",outcome="invalid",role="SERVER"} 2
otelcol_exporter_pcm_reports_total{api="private",outcome="accepted",role="SERVER",note="a \"q\", b"} 7
otelcol_process_uptime 1.5e+01
`
	m, err := ParseMetrics([]byte(text))
	require.NoError(t, err)
	require.Len(t, m, 4)
	assert.Equal(t, 5.0, m.Sum("otelcol_exporter_pcm_reports", map[string]string{"outcome": "invalid"}))
	assert.Equal(t, 3.0, m.Sum("otelcol_exporter_pcm_reports", map[string]string{"outcome": "invalid", "role": "CLIENT"}))
	assert.Equal(t, 7.0, m.Sum("otelcol_exporter_pcm_reports", map[string]string{"outcome": "accepted"}))
	assert.Equal(t, `a "q", b`, m[2].Labels["note"])
	assert.Equal(t, 15.0, m.Sum("otelcol_process_uptime", nil))
	assert.Len(t, m.Find("otelcol_exporter_pcm_reports"), 3)

	_, err = ParseMetrics([]byte("x{a=\"1} 2\n"))
	assert.Error(t, err)
	_, err = ParseMetrics([]byte("x{a=\"1\"} notanumber\n"))
	assert.True(t, err != nil && strings.Contains(err.Error(), "notanumber"))
}
