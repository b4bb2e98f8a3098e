package pcmexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pcm-otel/pcmexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.NewID(metadata.Type)
	if name != "" {
		id = component.NewIDWithName(metadata.Type, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func TestDefaultConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, createDefaultConfig(), cfg, "an empty section is the default config")

	assert.Equal(t, EnvironmentSandbox, cfg.Environment)
	assert.Equal(t, "https://api.pcm.sandbox.openfinancebrasil.org.br", cfg.APIEndpoint())
	assert.Equal(t, "https://auth.pcm.sandbox.openfinancebrasil.org.br/token/", cfg.TokenURL())
	assert.Equal(t, "/report-api/v1/private/report/", cfg.PrivateReportPath)
	assert.Equal(t, "/report-api/v1/opendata/report", cfg.OpendataReportPath)
	assert.Equal(t, 5000, cfg.MaxBatchSize)
	assert.Equal(t, 30*time.Second, cfg.ClientConfig.Timeout)
	assert.Equal(t, 10*time.Second, cfg.Token.Timeout)
	assert.Equal(t, 5*time.Minute, cfg.Token.ExpiryBuffer)
	assert.Zero(t, cfg.RetryConfig.MaxElapsedTime, "no retry time limit: reports wait for PCM's 7-day limit")
	require.True(t, cfg.QueueConfig.HasValue())
	require.True(t, cfg.QueueConfig.Get().Batch.HasValue(), "batching is on by default")
	assert.Equal(t, int64(5000), cfg.QueueConfig.Get().Batch.Get().MaxSize)

	// Nothing that identifies the institution has a default.
	assert.EqualError(t, confmap.Validate(cfg), `token.client_id: required (the client_id of the software statement bound to the certificate)
token.tls.cert_file: required (the mTLS transport certificate; or token.tls.cert_pem)
token.tls.key_file: required (the key of the transport certificate; or token.tls.key_pem)
org_id: must be a UUID (your OrganisationId in the Directory), got ""
software_statement_id: must be a UUID (the software statement id reported as clientSSId), got ""`)
}

func TestFullConfig(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))

	assert.Equal(t, EnvironmentProduction, cfg.Environment)
	assert.Equal(t, "https://pcm.example.com:8443", cfg.APIEndpoint())
	assert.Equal(t, 45*time.Second, cfg.ClientConfig.Timeout)
	assert.Equal(t, "/etc/pcm/api-ca.pem", cfg.ClientConfig.TLS.CAFile)
	v, ok := cfg.ClientConfig.Headers.Get("X-Institution")
	require.True(t, ok)
	assert.Equal(t, configopaque.String("banco-a"), v)
	assert.Equal(t, TokenConfig{
		URL: "https://auth.pcm.example.com/token/", ClientID: "7c1e4d2a-client",
		TLS:     cfg.Token.TLS, // checked field by field below
		Timeout: 7 * time.Second, ExpiryBuffer: 10 * time.Minute,
		FreshURL: "https://auth.pcm.example.com/token-fresh/",
	}, cfg.Token)
	assert.Equal(t, "/etc/pcm/transport.crt", cfg.Token.TLS.CertFile)
	assert.Equal(t, "/etc/pcm/transport.key", cfg.Token.TLS.KeyFile)
	assert.Equal(t, "/etc/pcm/ca.pem", cfg.Token.TLS.CAFile)
	assert.Equal(t, "5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60", cfg.OrgID)
	assert.Equal(t, "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", cfg.SoftwareStatementID)
	assert.Equal(t, "/report-api/v1/private/report", cfg.PrivateReportPath)
	assert.Equal(t, 1000, cfg.MaxBatchSize)
	assert.Equal(t, "/etc/pcm/endpoints.json", cfg.EndpointsFile)
	assert.Equal(t, map[string]string{"/as/token.oauth2": "/token", "/connect/par": "/pushed-authorization-request"}, cfg.SecurityEndpoints)
	assert.Equal(t, "peer.org_id", cfg.Counterparts.ServerOrgIDAttribute)
	assert.Equal(t, "caller.org_id", cfg.Counterparts.ClientOrgIDAttribute)
	assert.Equal(t, map[string]string{
		"api.banco-b.example":      "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d",
		"api.banco-c.example:8443": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
	}, cfg.Counterparts.Hosts)
	dir := cfg.Counterparts.Directory
	assert.Equal(t, "/etc/pcm/participants.json", dir.File)
	assert.Equal(t, "https://data.directory.openbankingbrasil.org.br/participants", dir.URL)
	assert.Equal(t, 30*time.Minute, dir.RefreshInterval)
	assert.Equal(t, "/var/lib/otelcol/participants.json", dir.CacheFile)
	assert.Equal(t, 90*time.Second, dir.Client.Timeout)
	assert.Equal(t, "http://proxy.internal:3128", dir.Client.ProxyURL)
	assert.Equal(t, AttributesConfig{
		InteractionID: []string{"http.request.header.x-fapi-interaction-id"},
		ClientSSID:    "app.software_statement_id", CorrelationID: "app.journey_id", AdditionalInfoPrefix: "pcm.info.",
		CallerID: "app.oauth_client_id",
	}, cfg.Attributes)
	assert.Equal(t, "/var/lib/otelcol/pcm-dead-letter.jsonl", cfg.DeadLetter.Path)
	assert.Equal(t, WatchConfig{Enabled: true, SampleRatio: 0.05, Delay: 30 * time.Minute, RateLimit: 5, MaxPending: 10_000, Attempts: 3}, cfg.ReconciliationWatch)
	q := cfg.QueueConfig.Get()
	assert.Equal(t, 2, q.NumConsumers)
	assert.Equal(t, int64(50000), q.QueueSize)
	require.NotNil(t, q.StorageID)
	assert.Equal(t, "file_storage", q.StorageID.String())
	assert.Equal(t, 72*time.Hour, cfg.RetryConfig.MaxElapsedTime)

	mc := cfg.mappingConfig(nil)
	assert.Equal(t, "peer.org_id", mc.Attributes.ServerOrgID)
	assert.Equal(t, "caller.org_id", mc.Attributes.ClientOrgID)
	assert.Equal(t, "app.software_statement_id", mc.Attributes.ClientSSID)
	assert.Equal(t, "app.journey_id", mc.Attributes.CorrelationID)
	assert.Equal(t, "pcm.info.", mc.Attributes.AdditionalInfoPrefix)
	assert.Equal(t, "app.oauth_client_id", mc.Attributes.CallerID)
}

func TestMinimalConfigUsesEnvironmentDefaults(t *testing.T) {
	cfg, err := loadConfig(t, "minimal")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	cfg.Environment = EnvironmentProduction
	assert.Equal(t, "https://api.pcm.openfinancebrasil.org.br", cfg.APIEndpoint())
	assert.Equal(t, "https://auth.pcm.openfinancebrasil.org.br/token/", cfg.TokenURL())
}

func TestInvalidConfigs(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{
			name: "bad_ids",
			wantErr: `org_id: must be a UUID (your OrganisationId in the Directory), got "banco-a"
software_statement_id: must be a UUID (the software statement id reported as clientSSId), got "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4"`,
		},
		{
			name: "bad_urls",
			wantErr: `endpoint: must be an absolute https URL, got "http://api.pcm.example.com"
token.url: not a URL: parse "::not a url": missing protocol scheme`,
		},
		{
			name: "no_token",
			wantErr: `token.client_id: required (the client_id of the software statement bound to the certificate)
token.tls.cert_file: required (the mTLS transport certificate; or token.tls.cert_pem)
token.tls.key_file: required (the key of the transport certificate; or token.tls.key_pem)
token.timeout: must be positive, got 0s
token.expiry_buffer: must not be negative, got -1m0s`,
		},
		{
			name: "bad_batch",
			wantErr: `private_report_path: must start with "/", got "report-api/v1/private/report/"
max_batch_size: must be between 1 and 5000, got 5001`,
		},
		{
			name: "bad_maps",
			wantErr: `security_endpoints: "/oauth/userinfo" maps to "/userinfo", which is not a security template (/token, /register, /register/{clientId}, /pushed-authorization-request, /revocation, /introspection)
security_endpoints: path "oauth/token" must start with "/"
counterparts.hosts: "api.banco-b.example" maps to "banco-b", which is not a UUID`,
		},
		{
			name: "bad_watch",
			wantErr: `token.client_id: has leading or trailing white space
reconciliation_watch.sample_ratio: must be in (0, 1], got 1.5
reconciliation_watch.delay: must not be negative, got -1m0s
reconciliation_watch.rate_limit: must be positive, got 0
reconciliation_watch.max_pending: must be at least 1, got 0
reconciliation_watch.attempts: must be at least 1, got 0`,
		},
		{
			name: "old_tls",
			wantErr: `tls.min_version: must be 1.2 or 1.3, got "1.1"
token.tls.min_version: must be 1.2 or 1.3, got "1.0"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.name)
			require.NoError(t, err)
			assert.EqualError(t, confmap.Validate(cfg), tt.wantErr)
		})
	}
}

func TestUnknownEnvironmentFailsWhileLoading(t *testing.T) {
	_, err := loadConfig(t, "bad_environment")
	require.ErrorContains(t, err, `unknown environment "piloto": use sandbox or production`)
}

func TestDefaultQueuePassesCollectorValidation(t *testing.T) {
	// The collector validates sending_queue too; make sure our default passes its rules.
	cfg := createDefaultConfig().(*Config)
	q := cfg.QueueConfig.Get()
	require.NoError(t, q.Validate())
	require.Equal(t, exporterhelper.RequestSizerTypeItems, q.Sizer)
}
