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
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
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
	assert.Equal(t, "https://api.pcm.sandbox.openfinancebrasil.org.br", pcmconfig.APIEndpoint(cfg))
	assert.Equal(t, "https://auth.pcm.sandbox.openfinancebrasil.org.br/token/", pcmconfig.TokenURL(cfg))
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
	assert.Equal(t, "https://pcm.example.com:8443", pcmconfig.APIEndpoint(cfg))
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
	assert.Equal(t, "/report-api/v1/credit-portabilities/client", cfg.CreditPortabilityClientPath, "default kept")
	assert.Equal(t, "/report-api/v1/credit-portabilities/server/", cfg.CreditPortabilityServerPath)
	assert.Equal(t, 1000, cfg.MaxBatchSize)
	assert.Equal(t, "testdata/endpoints/extra-security.json", cfg.EndpointsFile)
	assert.Equal(t, map[string]string{
		"/as/token.oauth2": "/token", "/connect/par": "/pushed-authorization-request",
		"/oauth/userinfo": "/userinfo", // a security template only endpoints_file defines
	}, cfg.SecurityEndpoints)
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

	mc := pcmconfig.MappingConfig(cfg, nil)
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
	assert.Equal(t, "https://api.pcm.openfinancebrasil.org.br", pcmconfig.APIEndpoint(cfg))
	assert.Equal(t, "https://auth.pcm.openfinancebrasil.org.br/token/", pcmconfig.TokenURL(cfg))
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
			wantErr: `security_endpoints: security rule "/oauth/userinfo": "/userinfo" is not a security template (one of /introspection, /pushed-authorization-request, /register, /register/{clientId}, /revocation, /token, or of the catalog's security list)
security_endpoints: security rule "oauth/token": template "oauth/token" must start with "/"
counterparts.hosts: "api.banco-b.example" maps to "banco-b", which is not a UUID`,
		},
		{
			name: "bad_watch",
			wantErr: `token.client_id: has leading or trailing white space
reconciliation_watch.sample_ratio: must be in (0, 1], got 1.5
reconciliation_watch.delay: must not be negative, got -1m0s
reconciliation_watch.rate_limit: must be between 0.001 and 300 lookups per second, got 0
reconciliation_watch.max_pending: must be at least 1, got 0
reconciliation_watch.attempts: must be at least 1, got 0`,
		},
		{
			name: "bad_hosts",
			wantErr: `counterparts.hosts: hosts entry "": empty host
counterparts.hosts: hosts entry "*.bank": invalid host (letters, digits, "-", "_" and "." only; no wildcards)
counterparts.hosts: "API.banco-c.example." and "api.banco-c.example" name the same host and port for different organisations
counterparts.hosts: hosts entry "api.bank:0": invalid port (1-65535)
counterparts.hosts: hosts entry "api.bank:65536": invalid port (1-65535)
counterparts.hosts: hosts entry "api.bank:https": invalid port (1-65535)
counterparts.hosts: hosts entry "https://api.bank/open-banking": a URL with a path, query or fragment (entries match host and port only)`,
		},
		{
			// /oauth/userinfo → /userinfo is valid: endpoints_file defines that security template.
			name: "bad_security",
			wantErr: `security_endpoints: security rule "/as/token/": template "/as/token/" has an empty segment
security_endpoints: security rule "/connect/session": "/session" is not a security template (one of /introspection, /pushed-authorization-request, /register, /register/{clientId}, /revocation, /token, or of the catalog's security list)`,
		},
		{
			name:    "security_without_file",
			wantErr: `security_endpoints: security rule "/oauth/userinfo": "/userinfo" is not a security template (one of /introspection, /pushed-authorization-request, /register, /register/{clientId}, /revocation, /token, or of the catalog's security list)`,
		},
		{
			name:    "bad_endpoints_file",
			wantErr: `endpoints_file: testdata/endpoints/no-lists.json: endpoints catalog: no templates`,
		},
		{
			name: "zero_durations",
			wantErr: `token.timeout: must be positive, got 0s
timeout: must be positive (0 means no timeout: a hung PCM call would block a sending_queue consumer forever), got 0s
counterparts.directory.refresh_interval: must be positive (0 would load the Directory once and never retry), got 0s
counterparts.directory.cache_file: needs counterparts.directory.url (it keeps the last copy fetched from the url)`,
		},
		{
			name: "nan_watch",
			wantErr: `reconciliation_watch.sample_ratio: must be in (0, 1], got NaN
reconciliation_watch.rate_limit: must be between 0.001 and 300 lookups per second, got NaN`,
		},
		{
			name: "inf_watch",
			wantErr: `reconciliation_watch.sample_ratio: must be in (0, 1], got +Inf
reconciliation_watch.rate_limit: must be between 0.001 and 300 lookups per second, got +Inf`,
		},
		{
			name: "negative_watch",
			wantErr: `reconciliation_watch.sample_ratio: must be in (0, 1], got -Inf
reconciliation_watch.rate_limit: must be between 0.001 and 300 lookups per second, got -0.5
reconciliation_watch.max_pending: must be at least 1, got -1
reconciliation_watch.attempts: must be at least 1, got -3`,
		},
		{
			name: "bad_url_parts",
			wantErr: `endpoint: invalid port "0" (1-65535) in "https://api.pcm.example.com:0"
token.url: invalid port "65536" (1-65535) in "https://auth.pcm.example.com:65536/token/"
token.fresh_url: must not carry user information, got "https://user:xxxxx@auth.pcm.example.com/token-fresh/"
counterparts.directory.url: has no host: "https://:443/participants"`,
		},
		{
			// The last four lines are configtls' own (min_version defaults to 1.2).
			name: "bad_paths",
			wantErr: `endpoint: must not have a query or fragment (the report paths are appended to it), got "https://api.pcm.example.com/?tenant=a"
tls.max_version: must be 1.2 or 1.3, got "1.0"
token.tls.max_version: must be 1.2 or 1.3, got "1.1"
private_report_path: must be a plain path (no white space, control character, "?" or "#"), got "/report-api/v1/private report/"
opendata_report_path: must be a plain path (no white space, control character, "?" or "#"), got "/report-api/v1/opendata/report?x=1"
clientconfig::tls: invalid TLS configuration: min_version cannot be greater than max_version
clientconfig::tls::config: invalid TLS configuration: min_version cannot be greater than max_version
token::tls: invalid TLS configuration: min_version cannot be greater than max_version
token::tls::config: invalid TLS configuration: min_version cannot be greater than max_version`,
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

// Every documented form of a hosts key loads, validates and builds the mapper. IPv6 keys hold
// "::", which the collector's configuration splits keys on: CounterpartsConfig.Unmarshal
// joins them back.
func TestHostsKeysInEveryDocumentedForm(t *testing.T) {
	cfg, err := loadConfig(t, "hosts_forms")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, map[string]string{
		"api.banco-b.example":               "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d",
		"API.Banco-C.example.":              "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
		"api.banco-c.example:8443":          "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
		"[::1]:8443":                        "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d",
		"2001:db8::2":                       "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d",
		"https://api.banco-d.example:8443/": "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d",
		"10.0.0.7:443":                      "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d",
	}, cfg.Counterparts.Hosts)
	_, _, err = pcmconfig.Mapping(cfg, nil)
	require.NoError(t, err)
}

func TestHostsValueThatIsNotAStringFailsWhileLoading(t *testing.T) {
	cm := confmap.NewFromStringMap(map[string]any{"counterparts": map[string]any{"hosts": map[string]any{"api.bank": 42}}})
	cfg := createDefaultConfig().(*Config)
	require.ErrorContains(t, cm.Unmarshal(cfg), `hosts: "api.bank" maps to 42, which is not a string (an OrganisationId)`)
}

func TestDefaultConfigDurationsPassValidate(t *testing.T) {
	// factory.go's defaults must pass the zero/negative duration and rate rules, with the
	// Directory and the watch switched on.
	cfg := createDefaultConfig().(*Config)
	cfg.Token.ClientID, cfg.Token.TLS.CertFile, cfg.Token.TLS.KeyFile = "my-client", "/c.crt", "/c.key"
	cfg.OrgID, cfg.SoftwareStatementID = "5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60", "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	cfg.Counterparts.Directory.URL = "https://data.directory.openbankingbrasil.org.br/participants"
	cfg.ReconciliationWatch.Enabled = true
	require.NoError(t, confmap.Validate(cfg))
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
