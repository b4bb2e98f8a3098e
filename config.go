package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

// The configuration types live in internal/pcmconfig, with what derives from them, so that the
// exporter and the tools (pcmctl) read a configuration alike; the component exports them here.
type (
	// Config is the pcm exporter configuration (README "Configuration reference"; the YAML
	// keys are a public contract).
	Config = pcmconfig.Config
	// TokenConfig is the OAuth2 client_credentials grant over mTLS (key token).
	TokenConfig = pcmconfig.TokenConfig
	// CounterpartsConfig says how the other institution of a call is identified.
	CounterpartsConfig = pcmconfig.CounterpartsConfig
	// DirectoryConfig says where the Directory's participants file comes from.
	DirectoryConfig = pcmconfig.DirectoryConfig
	// DirectoryDiscoveryConfig bounds the fetch of the participants' discovery documents.
	DirectoryDiscoveryConfig = pcmconfig.DirectoryDiscoveryConfig
	// AttributesConfig renames the other span attributes the mapping reads.
	AttributesConfig = pcmconfig.AttributesConfig
	// DeadLetterConfig keeps what PCM will never accept as it is.
	DeadLetterConfig = pcmconfig.DeadLetterConfig
	// DeliveryRecordConfig bounds the record of reports sent, beside a persistent queue.
	DeliveryRecordConfig = pcmconfig.DeliveryRecordConfig
	// WatchConfig is the reconciliation watch.
	WatchConfig = pcmconfig.WatchConfig
	// Environment selects the default PCM API and token URLs.
	Environment = pcmconfig.Environment
)

// The environments.
const (
	EnvironmentSandbox    = pcmconfig.EnvironmentSandbox
	EnvironmentProduction = pcmconfig.EnvironmentProduction
)
