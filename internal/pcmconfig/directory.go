package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/directory"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
)

// directoryCredentials reports whether the Directory client sends credentials of its own: an
// auth extension or an Authorization header. The public Directory needs neither.
func directoryCredentials(c confighttp.ClientConfig) bool {
	if c.Auth.HasValue() {
		return true
	}
	for name := range c.Headers.Iter {
		if strings.EqualFold(name, "Authorization") {
			return true
		}
	}
	return false
}

// NewDirectory builds (without starting) the Directory source counterparts.directory
// describes, refreshing every refresh (0: load once); nil when none is configured. The
// exporter and pcmctl share it so that they resolve counterparts alike.
func NewDirectory(ctx context.Context, cfg *Config, host component.Host, set component.TelemetrySettings, refresh time.Duration) (*directory.Source, error) {
	dc := cfg.Counterparts.Directory
	if !dc.Enabled() {
		return nil, nil
	}
	client, err := dc.Client.ToClient(ctx, host.GetExtensions(), set)
	if err != nil {
		return nil, fmt.Errorf("counterparts.directory.client: %w", err)
	}
	if directoryCredentials(dc.Client) {
		// The transport adds these credentials to every request, a redirected one included,
		// where the Source's redirect policy cannot strip them: follow no redirect at all.
		client.CheckRedirect = pcmapi.RefuseRedirects
	}
	// Discovery documents (mTLS endpoint aliases) only with a Directory URL: file-only setups
	// and pcmctl's offline mode stay offline.
	disc := directory.DiscoveryConfig{
		Enabled:     dc.Discovery.Enabled && dc.URL != "",
		Concurrency: dc.Discovery.Concurrency,
		Timeout:     dc.Discovery.Timeout,
	}
	if disc.Enabled {
		// Every participant's host receives these requests: never the Directory's credentials.
		docClient := dc.Client
		docClient.Auth = configoptional.None[configauth.Config]()
		docClient.Headers = nil
		if disc.Client, err = docClient.ToClient(ctx, host.GetExtensions(), set); err != nil {
			return nil, fmt.Errorf("counterparts.directory.client: %w", err)
		}
	}
	logger := set.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return directory.NewSource(directory.SourceConfig{
		File:      dc.File,
		URL:       dc.URL,
		Client:    client,
		Refresh:   refresh,
		CacheFile: dc.CacheFile,
		Discovery: disc,
		Logger:    logger, // the source logs each new index and each failed refresh
	}), nil
}
