package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"

	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
)

// NewFactory creates the factory of the pcm exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultClientConfig()
	httpCfg.Timeout = 30 * time.Second // confighttp's default is no timeout at all

	return &Config{
		ClientConfig: httpCfg,
		QueueConfig:  configoptional.Some(defaultQueueConfig()),
		RetryConfig:  defaultRetryConfig(),
		Environment:  EnvironmentSandbox,
		Token: TokenConfig{
			Timeout:      10 * time.Second,
			ExpiryBuffer: 5 * time.Minute,
		},
		PrivateReportPath:           "/report-api/v1/private/report/",
		OpendataReportPath:          "/report-api/v1/opendata/report",
		CreditPortabilityClientPath: "/report-api/v1/credit-portabilities/client",
		CreditPortabilityServerPath: "/report-api/v1/credit-portabilities/server",
		MaxBatchSize:                pcmconfig.MaxItemsPerPOST,
		DeadLetter:                  pcmconfig.DefaultDeadLetterConfig(),
		DeliveryRecord:              pcmconfig.DefaultDeliveryRecordConfig(),
		Counterparts: CounterpartsConfig{
			ServerOrgIDAttribute: "pcm.server_org_id",
			ClientOrgIDAttribute: "pcm.client_org_id",
			Directory: DirectoryConfig{
				RefreshInterval: time.Hour,
				Client:          directoryClientConfig(),
				// The participants' OpenID discovery documents, for the mTLS endpoint aliases of
				// token, PAR and registration (RFC 8705 §5), which the participants file lacks.
				Discovery: DirectoryDiscoveryConfig{Enabled: true, Concurrency: 8, Timeout: 10 * time.Second},
			},
		},
		// Off by default; when on, 1 % of the reports, 15 minutes after delivery, at 2
		// lookups a second: small next to PCM's 300 req/s, which reports share.
		ReconciliationWatch: WatchConfig{
			SampleRatio: 0.01,
			Delay:       15 * time.Minute,
			RateLimit:   2,
			MaxPending:  10_000,
			Attempts:    3,
		},
	}
}

// directoryClientConfig fetches the participants file (tens of MB) with a generous timeout.
func directoryClientConfig() confighttp.ClientConfig {
	c := confighttp.NewDefaultClientConfig()
	c.Timeout = 2 * time.Minute
	return c
}

// defaultQueueConfig batches by default: PCM takes arrays of up to 5000 items, and one POST
// per span would hit its 300 req/s rate limit long before the collector is busy.
func defaultQueueConfig() exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	q.Sizer = exporterhelper.RequestSizerTypeItems
	q.QueueSize = 200_000
	q.NumConsumers = 4

	b := exporterhelper.NewDefaultBatchConfig()
	b.FlushTimeout = 5 * time.Second
	b.MinSize = 1000
	b.MaxSize = pcmconfig.MaxItemsPerPOST
	q.Batch = configoptional.Some(b)
	return q
}

// defaultRetryConfig retries without a time limit: a report waits, queued, until PCM takes it
// or until PCM's own 7-day limit, where local validation dead-letters it as "Report is too old"
// (docs/pcm-rules.md §15.3).
func defaultRetryConfig() configretry.BackOffConfig {
	r := configretry.NewDefaultBackOffConfig()
	r.InitialInterval = 5 * time.Second
	r.MaxInterval = 5 * time.Minute
	r.MaxElapsedTime = 0
	return r
}

// helperRetryConfig is what exporterhelper gets: the same backoff without a time limit.
// exporterhelper drops a request silently when its budget runs out (or when a Retry-After
// reaches past it); the exporter enforces retry_on_failure.max_elapsed_time itself, per
// report, and dead-letters what it gives up on.
func helperRetryConfig(r configretry.BackOffConfig) configretry.BackOffConfig {
	r.MaxElapsedTime = 0
	return r
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	c := cfg.(*Config)
	exp, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	// The request-based helper is experimental upstream; go.mod pins it (see README, Delivery).
	helper, err := xexporterhelper.NewTracesRequest(ctx, set, exp.converted, exp.push,
		exporterhelper.WithStart(exp.start),
		exporterhelper.WithShutdown(exp.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// Each HTTP attempt is bounded by the client timeout; an exporterhelper timeout would
		// also cut the token fetch and the 413 split loop short.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(helperRetryConfig(c.RetryConfig)),
		xexporterhelper.WithQueueBatch(c.QueueConfig, xexporterhelper.QueueBatchSettings{Encoding: queueEncoding{}}),
	)
	if err != nil {
		return nil, err
	}
	return doorTraces{Traces: helper, exp: exp}, nil
}
