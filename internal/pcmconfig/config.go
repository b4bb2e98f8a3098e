package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pcm-otel/pcmexporter/internal/watch"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// MaxItemsPerPOST is PCM's limit of items in one report array.
const MaxItemsPerPOST = 5000

// Environment selects the default PCM API and token URLs.
type Environment string

const (
	EnvironmentSandbox    Environment = "sandbox"
	EnvironmentProduction Environment = "production"
)

// environmentDefaults are the published PCM hosts (docs/pcm-rules.md §2). Piloto expired in 2023.
var environmentDefaults = map[Environment]struct{ api, token string }{
	EnvironmentSandbox: {
		api:   "https://api.pcm.sandbox.openfinancebrasil.org.br",
		token: "https://auth.pcm.sandbox.openfinancebrasil.org.br/token/",
	},
	EnvironmentProduction: {
		api:   "https://api.pcm.openfinancebrasil.org.br",
		token: "https://auth.pcm.openfinancebrasil.org.br/token/",
	},
}

// UnmarshalText rejects unknown environments while the YAML is read.
func (e *Environment) UnmarshalText(text []byte) error {
	v := Environment(strings.ToLower(strings.TrimSpace(string(text))))
	if _, ok := environmentDefaults[v]; !ok {
		return fmt.Errorf("unknown environment %q: use sandbox or production", string(text))
	}
	*e = v
	return nil
}

// Config is the pcm exporter configuration (README "Configuration reference"; the YAML keys are
// a public contract).
type Config struct {
	// ClientConfig is the HTTP client for the PCM API: endpoint, tls (server trust), timeout,
	// headers, proxy_url, ... Its endpoint defaults to the environment's API base URL.
	ClientConfig confighttp.ClientConfig                                  `mapstructure:",squash"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	Environment         Environment `mapstructure:"environment"`
	Token               TokenConfig `mapstructure:"token"`
	OrgID               string      `mapstructure:"org_id"`
	SoftwareStatementID string      `mapstructure:"software_statement_id"`
	PrivateReportPath   string      `mapstructure:"private_report_path"`
	OpendataReportPath  string      `mapstructure:"opendata_report_path"`
	// The credit-portability API takes CLIENT and SERVER reports on paths of their own
	// (docs/pcm-rules.md §12.1).
	CreditPortabilityClientPath string             `mapstructure:"credit_portability_client_path"`
	CreditPortabilityServerPath string             `mapstructure:"credit_portability_server_path"`
	MaxBatchSize                int                `mapstructure:"max_batch_size"`
	EndpointsFile               string             `mapstructure:"endpoints_file"`
	SecurityEndpoints           map[string]string  `mapstructure:"security_endpoints"`
	Counterparts                CounterpartsConfig `mapstructure:"counterparts"`
	Attributes                  AttributesConfig   `mapstructure:"attributes"`
	DeadLetter                  DeadLetterConfig   `mapstructure:"dead_letter"`
	ReconciliationWatch         WatchConfig        `mapstructure:"reconciliation_watch"`

	// DeliveryRecord is used only with sending_queue.storage.
	DeliveryRecord DeliveryRecordConfig `mapstructure:"delivery_record"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TokenConfig is the OAuth2 client_credentials grant over mTLS. It is not called "auth":
// confighttp owns that key.
type TokenConfig struct {
	// URL defaults to the environment's token URL; kept verbatim (PCM needs the trailing slash).
	URL      string `mapstructure:"url"`
	ClientID string `mapstructure:"client_id"`
	// TLS carries the transport certificate PCM identifies the organisation by.
	TLS          configtls.ClientConfig `mapstructure:"tls"`
	Timeout      time.Duration          `mapstructure:"timeout"`
	ExpiryBuffer time.Duration          `mapstructure:"expiry_buffer"`
	// FreshURL, when set (PCM's <auth>/token-fresh/), is where the token is fetched again after
	// PCM refused one with 401: /token/ may hand back the same cached token. Off by default.
	FreshURL string `mapstructure:"fresh_url"`
}

// CounterpartsConfig says how the other institution of a call is identified.
type CounterpartsConfig struct {
	ServerOrgIDAttribute string            `mapstructure:"server_org_id_attribute"`
	ClientOrgIDAttribute string            `mapstructure:"client_org_id_attribute"`
	Hosts                map[string]string `mapstructure:"hosts"`
	// Directory resolves what the attributes and hosts do not, from the Open Finance Brasil
	// Directory's participants file.
	Directory DirectoryConfig `mapstructure:"directory"`
}

// Unmarshal reads counterparts.hosts keys that contain "::", as IPv6 addresses do
// ("[::1]:8443", "2001:db8::2"): the collector's configuration splits keys on "::", its path
// separator, and would hand over a nested map that no string value fits. The nested keys are
// joined back, so every documented form can be written as is.
func (c *CounterpartsConfig) Unmarshal(conf *confmap.Conf) error {
	var hosts map[string]string
	if conf.IsSet("hosts") {
		sub, err := conf.Sub("hosts")
		if err != nil {
			return fmt.Errorf("hosts: %w", err)
		}
		if flat := sub.ToStringMap(); flat != nil {
			hosts = make(map[string]string, len(flat))
			if err := joinHostsKeys(hosts, "", flat); err != nil {
				return err
			}
		}
		conf.Delete("hosts")
	}
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	if hosts != nil {
		c.Hosts = hosts
	}
	return nil
}

// joinHostsKeys flattens m into dst, joining nested keys with the "::" they were split on.
func joinHostsKeys(dst map[string]string, prefix string, m map[string]any) error {
	for k, v := range m {
		key := prefix + k
		switch v := v.(type) {
		case map[string]any:
			if err := joinHostsKeys(dst, key+confmap.KeyDelimiter, v); err != nil {
				return err
			}
		case string:
			dst[key] = v
		default:
			return fmt.Errorf("hosts: %q maps to %v, which is not a string (an OrganisationId)", key, v)
		}
	}
	return nil
}

// DirectoryConfig says where the participants file comes from. With both file and url, the
// url is tried first and the file is the fallback.
type DirectoryConfig struct {
	File            string                  `mapstructure:"file"`
	URL             string                  `mapstructure:"url"`
	RefreshInterval time.Duration           `mapstructure:"refresh_interval"`
	CacheFile       string                  `mapstructure:"cache_file"` // last good copy fetched from url
	Client          confighttp.ClientConfig `mapstructure:"client"`     // TLS, proxy_url, timeout for url
	// Discovery reads the participants' OpenID discovery documents for the hosts of their mTLS
	// endpoint aliases (token, PAR, registration; RFC 8705 §5), which the participants file does
	// not list. Only with url.
	Discovery DirectoryDiscoveryConfig `mapstructure:"discovery"`
}

// DirectoryDiscoveryConfig bounds the background fetch of the discovery documents; a zero
// concurrency or timeout takes the default (8, 10s).
type DirectoryDiscoveryConfig struct {
	Enabled     bool          `mapstructure:"enabled"`
	Concurrency int           `mapstructure:"concurrency"` // documents fetched at once
	Timeout     time.Duration `mapstructure:"timeout"`     // per document, body included
}

// maxDiscoveryConcurrency keeps the fetch polite to the institutions' servers.
const maxDiscoveryConcurrency = 64

// Enabled reports whether a Directory source is configured.
func (d DirectoryConfig) Enabled() bool { return d.File != "" || d.URL != "" }

// AttributesConfig renames the other span attributes the mapping reads.
type AttributesConfig struct {
	InteractionID        []string `mapstructure:"interaction_id"`
	ClientSSID           string   `mapstructure:"client_ss_id"`
	CallerID             string   `mapstructure:"caller_id"`
	CorrelationID        string   `mapstructure:"correlation_id"`
	AdditionalInfoPrefix string   `mapstructure:"additional_info_prefix"`
}

// WatchSettings are the reconciliation watcher's settings for this configuration.
func WatchSettings(w WatchConfig) watch.Config {
	return watch.Config{SampleRatio: w.SampleRatio, Delay: w.Delay, Rate: w.RateLimit, MaxPending: w.MaxPending, Attempts: w.Attempts}
}

// DeadLetterConfig keeps what PCM will never accept as it is.
type DeadLetterConfig struct {
	// Path of a JSON Lines file; empty disables the dead letter (the reports are still logged and counted).
	Path string `mapstructure:"path"`
	// MaxSizeMB: the file is rotated before it grows past this size. With MaxBackups, it bounds
	// the disk a flood of dead letters can take: max_size_mb × (max_backups + 1).
	MaxSizeMB int `mapstructure:"max_size_mb"`
	// MaxBackups is how many rotated files are kept (the oldest are removed).
	MaxBackups int `mapstructure:"max_backups"`
	// MaxAge removes rotated files older than this (whole days); 0 keeps them.
	MaxAge time.Duration `mapstructure:"max_age"`
	// Compress gzips the rotated files.
	Compress bool `mapstructure:"compress"`
}

// WatchConfig samples delivered private reports and looks them up at PCM after a delay, to
// count their reconciliation status (PAIRED, PAIRED_INCONSISTENT, UNPAIRED, SINGLE).
type WatchConfig struct {
	Enabled     bool          `mapstructure:"enabled"`
	SampleRatio float64       `mapstructure:"sample_ratio"`
	Delay       time.Duration `mapstructure:"delay"`
	RateLimit   float64       `mapstructure:"rate_limit"` // lookups per second
	MaxPending  int           `mapstructure:"max_pending"`
	Attempts    int           `mapstructure:"attempts"` // lookups of an id PCM does not know yet
}

var _ component.Config = (*Config)(nil)

// APIEndpoint is the PCM API base URL in use: endpoint, or the environment's default.
func APIEndpoint(cfg *Config) string {
	if cfg.ClientConfig.Endpoint != "" {
		return cfg.ClientConfig.Endpoint
	}
	return environmentDefaults[cfg.environment()].api
}

// TokenURL is the token URL in use: token.url, or the environment's default.
func TokenURL(cfg *Config) string {
	if cfg.Token.URL != "" {
		return cfg.Token.URL
	}
	return environmentDefaults[cfg.environment()].token
}

func (cfg *Config) environment() Environment {
	if cfg.Environment == "" {
		return EnvironmentSandbox
	}
	return cfg.Environment
}

// MappingConfig translates the YAML into the mapping package's configuration.
func MappingConfig(cfg *Config, catalog *mapping.Catalog) mapping.Config {
	names := mapping.DefaultAttributeNames()
	if len(cfg.Attributes.InteractionID) > 0 {
		names.InteractionID = cfg.Attributes.InteractionID
	}
	setIfNotEmpty(&names.ServerOrgID, cfg.Counterparts.ServerOrgIDAttribute)
	setIfNotEmpty(&names.ClientOrgID, cfg.Counterparts.ClientOrgIDAttribute)
	setIfNotEmpty(&names.ClientSSID, cfg.Attributes.ClientSSID)
	setIfNotEmpty(&names.CorrelationID, cfg.Attributes.CorrelationID)
	setIfNotEmpty(&names.CallerID, cfg.Attributes.CallerID)
	setIfNotEmpty(&names.AdditionalInfoPrefix, cfg.Attributes.AdditionalInfoPrefix)
	return mapping.Config{
		OrgID:               cfg.OrgID,
		SoftwareStatementID: cfg.SoftwareStatementID,
		Attributes:          names,
		Hosts:               cfg.Counterparts.Hosts,
		SecurityRules:       cfg.SecurityEndpoints,
		Catalog:             catalog,
	}
}

func setIfNotEmpty(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// endpointCatalog is the endpoint catalog the configuration describes: the embedded one,
// extended or replaced by endpoints_file. Mapping builds the mapper with it and Validate judges
// security_endpoints against it, so a rule may point at a template only the file defines.
func (cfg *Config) endpointCatalog() (*mapping.Catalog, error) {
	catalog := mapping.DefaultCatalog()
	if cfg.EndpointsFile == "" {
		return catalog, nil
	}
	data, err := os.ReadFile(cfg.EndpointsFile)
	if err != nil {
		return nil, fmt.Errorf("endpoints_file: %w", err)
	}
	// Parsed alone first: a file whose lists are all empty or misspelt would otherwise extend
	// the embedded catalog by nothing, silently.
	if _, err := mapping.ParseCatalog(data, nil); err != nil {
		return nil, fmt.Errorf("endpoints_file: %s: %w", cfg.EndpointsFile, err)
	}
	if catalog, err = mapping.ParseCatalog(data, catalog); err != nil {
		return nil, fmt.Errorf("endpoints_file: %s: %w", cfg.EndpointsFile, err)
	}
	return catalog, nil
}

// Validate reports every problem at once, each naming its YAML key. Nested sections
// (sending_queue, retry_on_failure, tls, token.tls) are validated by the collector itself.
func (cfg *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if err := checkHTTPSURL(APIEndpoint(cfg)); err != nil {
		add("endpoint", "%v", err)
	} else if u, _ := url.Parse(APIEndpoint(cfg)); u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		// The report paths are appended to it: "https://h/?x" + "/report-api/…" loses them.
		add("endpoint", "must not have a query or fragment (the report paths are appended to it), got %q", APIEndpoint(cfg))
	}
	if err := checkHTTPSURL(TokenURL(cfg)); err != nil {
		add("token.url", "%v", err)
	}
	if cfg.Token.FreshURL != "" {
		if err := checkHTTPSURL(cfg.Token.FreshURL); err != nil {
			add("token.fresh_url", "%v", err)
		}
	}
	switch id := cfg.Token.ClientID; {
	case strings.TrimSpace(id) == "":
		add("token.client_id", "required (the client_id of the software statement bound to the certificate)")
	case strings.TrimSpace(id) != id:
		// A ${file:...} value read from a file that ends in a newline is the usual cause.
		add("token.client_id", "has leading or trailing white space")
	}
	if cfg.Token.TLS.CertFile == "" && cfg.Token.TLS.CertPem == "" {
		add("token.tls.cert_file", "required (the mTLS transport certificate; or token.tls.cert_pem)")
	}
	if cfg.Token.TLS.KeyFile == "" && cfg.Token.TLS.KeyPem == "" {
		add("token.tls.key_file", "required (the key of the transport certificate; or token.tls.key_pem)")
	}
	if cfg.Token.Timeout <= 0 {
		add("token.timeout", "must be positive, got %s", cfg.Token.Timeout)
	}
	if cfg.Token.ExpiryBuffer < 0 {
		add("token.expiry_buffer", "must not be negative, got %s", cfg.Token.ExpiryBuffer)
	}
	// PCM and the Open Finance security profile require TLS 1.2 or later.
	for _, t := range []struct{ key, version string }{
		{"tls.min_version", cfg.ClientConfig.TLS.MinVersion},
		{"tls.max_version", cfg.ClientConfig.TLS.MaxVersion},
		{"token.tls.min_version", cfg.Token.TLS.MinVersion},
		{"token.tls.max_version", cfg.Token.TLS.MaxVersion},
	} {
		if t.version == "1.0" || t.version == "1.1" {
			add(t.key, "must be 1.2 or 1.3, got %q", t.version)
		}
	}
	// confighttp reads 0 as "no timeout": one PCM call that never answers would hold a
	// sending_queue consumer forever.
	if cfg.ClientConfig.Timeout <= 0 {
		add("timeout", "must be positive (0 means no timeout: a hung PCM call would block a sending_queue consumer forever), got %s", cfg.ClientConfig.Timeout)
	}
	if !mapping.IsUUID(cfg.OrgID) {
		add("org_id", "must be a UUID (your OrganisationId in the Directory), got %q", cfg.OrgID)
	}
	if !mapping.IsUUID(cfg.SoftwareStatementID) {
		add("software_statement_id", "must be a UUID (the software statement id reported as clientSSId), got %q", cfg.SoftwareStatementID)
	}
	for _, p := range []struct{ key, path string }{
		{"private_report_path", cfg.PrivateReportPath},
		{"opendata_report_path", cfg.OpendataReportPath},
		{"credit_portability_client_path", cfg.CreditPortabilityClientPath},
		{"credit_portability_server_path", cfg.CreditPortabilityServerPath},
	} {
		switch {
		case !strings.HasPrefix(p.path, "/"):
			add(p.key, "must start with \"/\", got %q", p.path)
		case strings.ContainsFunc(p.path, func(r rune) bool { return r <= ' ' || r == '?' || r == '#' || r == 0x7f }):
			add(p.key, "must be a plain path (no white space, control character, \"?\" or \"#\"), got %q", p.path)
		}
	}
	if cfg.MaxBatchSize < 1 || cfg.MaxBatchSize > MaxItemsPerPOST {
		add("max_batch_size", "must be between 1 and %d, got %d", MaxItemsPerPOST, cfg.MaxBatchSize)
	}
	// endpoints_file, security_endpoints and counterparts.hosts are judged by the code that
	// applies them (Mapping, mapping.NewMapper), so what passes here also builds the mapper.
	catalog, err := cfg.endpointCatalog()
	if err != nil {
		errs = append(errs, err) // already names endpoints_file
	} else {
		for _, rule := range sortedKeys(cfg.SecurityEndpoints) {
			if err := mapping.ValidateSecurityRule(rule, cfg.SecurityEndpoints[rule], catalog); err != nil {
				add("security_endpoints", "%v", err)
			}
		}
	}
	errs = append(errs, validateHosts(cfg.Counterparts.Hosts)...)
	if cfg.Counterparts.ServerOrgIDAttribute == "" {
		add("counterparts.server_org_id_attribute", "must not be empty")
	}
	if cfg.Counterparts.ClientOrgIDAttribute == "" {
		add("counterparts.client_org_id_attribute", "must not be empty")
	}
	for i, name := range cfg.Attributes.InteractionID {
		if strings.TrimSpace(name) == "" {
			add(fmt.Sprintf("attributes.interaction_id[%d]", i), "must not be empty")
		}
	}
	if d := cfg.Counterparts.Directory; d.URL != "" {
		if err := checkHTTPSURL(d.URL); err != nil {
			add("counterparts.directory.url", "%v", err)
		}
	}
	// The Directory is re-read every refresh_interval; 0 would load it once and never retry
	// after a failed start.
	if d := cfg.Counterparts.Directory; d.RefreshInterval <= 0 {
		add("counterparts.directory.refresh_interval", "must be positive (0 would load the Directory once and never retry), got %s", d.RefreshInterval)
	}
	if d := cfg.Counterparts.Directory.Discovery; d.Concurrency < 0 || d.Concurrency > maxDiscoveryConcurrency {
		add("counterparts.directory.discovery.concurrency", "must be between 1 and %d (0: 8), got %d", maxDiscoveryConcurrency, d.Concurrency)
	}
	if d := cfg.Counterparts.Directory.Discovery; d.Timeout < 0 {
		add("counterparts.directory.discovery.timeout", "must not be negative (0: 10s), got %s", d.Timeout)
	}
	if d := cfg.Counterparts.Directory; d.CacheFile != "" && d.URL == "" {
		add("counterparts.directory.cache_file", "needs counterparts.directory.url (it keeps the last copy fetched from the url)")
	}
	if w := cfg.ReconciliationWatch; w.Enabled {
		for _, p := range WatchSettings(w).Check() {
			add("reconciliation_watch."+p.Key, "%s", p.Message)
		}
	}
	errs = append(errs, cfg.DeadLetter.validate()...)
	errs = append(errs, cfg.DeliveryRecord.validate()...)
	return errors.Join(errs...)
}

// checkHTTPSURL accepts what net/http can call over TLS as written: a host name, a port in
// 1-65535 if any, and no user information (net/http would send it as Basic credentials).
func checkHTTPSURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %w", err)
	case u.Scheme != "https":
		return fmt.Errorf("must be an absolute https URL, got %q", raw)
	case u.Hostname() == "":
		return fmt.Errorf("has no host: %q", raw)
	case u.User != nil:
		return fmt.Errorf("must not carry user information, got %q", u.Redacted())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("invalid port %q (1-65535) in %q", p, raw)
		}
	}
	return nil
}

// validateHosts asks mapping.ParseHostsKey, the rule NewMapper applies, about every key, and
// refuses two keys that name the same host and port for different organisations: NewMapper
// would keep one of them silently.
func validateHosts(hosts map[string]string) []error {
	type hostPort struct {
		host string
		port int
	}
	var errs []error
	seen := make(map[hostPort]string, len(hosts))
	for _, key := range sortedKeys(hosts) {
		org := hosts[key]
		if !mapping.IsUUID(org) {
			errs = append(errs, fmt.Errorf("counterparts.hosts: %q maps to %q, which is not a UUID", key, org))
		}
		host, port, err := mapping.ParseHostsKey(key)
		if err != nil {
			errs = append(errs, fmt.Errorf("counterparts.hosts: %w", err))
			continue
		}
		hp := hostPort{host, port}
		if first, dup := seen[hp]; dup && !strings.EqualFold(strings.TrimSpace(hosts[first]), strings.TrimSpace(org)) {
			errs = append(errs, fmt.Errorf("counterparts.hosts: %q and %q name the same host and port for different organisations", first, key))
		} else if !dup {
			seen[hp] = key
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
