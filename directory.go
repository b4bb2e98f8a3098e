package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/directory"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/mapping"
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

// directoryResolver lets the mapper, built when the exporter is created, ask the Directory
// source, which needs the collector's extensions for its HTTP client and so exists only after
// start. Until then (and without a Directory) it knows nobody.
type directoryResolver struct {
	source atomic.Pointer[directory.Source]
}

// waiting reports whether the Directory may still name the counterpart of r, which it cannot
// name now: its participants are not loaded yet, or r is a CLIENT call to a token, PAR or
// registration endpoint — possibly on an mTLS alias host — while the first round of discovery
// documents is still running.
func (d *directoryResolver) waiting(r *mapping.Report) bool {
	s := d.source.Load()
	switch {
	case s == nil:
		return false
	case s.Index() == nil:
		return true
	}
	return r.Role == mapping.RoleClient && aliasedEndpoints[r.Endpoint] && s.DiscoveryPending()
}

// aliasedEndpoints are the templates whose calls may go to an authorisation server's mTLS
// endpoint aliases (RFC 8705 §5), known only from its discovery document.
var aliasedEndpoints = map[string]bool{
	"/token": true, "/pushed-authorization-request": true, "/register": true, "/register/{clientId}": true,
}

func (d *directoryResolver) ServerOrg(rawURL string) string {
	if s := d.source.Load(); s != nil {
		return s.ServerOrg(rawURL)
	}
	return ""
}

func (d *directoryResolver) ClientOrg(callerID string) string {
	if s := d.source.Load(); s != nil {
		return s.ClientOrg(callerID)
	}
	return ""
}

// startDirectory loads the participants file. A configured file that cannot be loaded stops
// the collector (a configuration error); a Directory URL that does not answer only warns: the
// source keeps retrying in the background, and reports whose counterpart is unknown wait for it
// (retried, up to PCM's 7-day limit).
func (e *pcmExporter) startDirectory(ctx context.Context, host component.Host) error {
	cfg := e.cfg.Counterparts.Directory
	if !cfg.enabled() {
		return nil
	}
	src, err := e.cfg.NewDirectory(ctx, host, e.settings.TelemetrySettings, cfg.RefreshInterval)
	if err != nil {
		return err
	}
	e.directory = src
	e.resolver.source.Store(src)
	if err := src.Start(ctx); err != nil {
		if cfg.URL == "" {
			return fmt.Errorf("counterparts.directory.file: %w", err)
		}
		e.logger.Warn("The Directory participants could not be loaded. Until they are (every counterparts.directory.refresh_interval), reports whose counterpart only the Directory knows are retried until it answers (or until PCM's 7-day limit).",
			zap.Duration("refresh_interval", cfg.RefreshInterval), zap.Error(err))
	}
	return nil
}

// NewDirectory builds (without starting) the Directory source counterparts.directory
// describes, refreshing every refresh (0: load once); nil when none is configured. The
// exporter and pcmctl share it so that they resolve counterparts alike.
func (cfg *Config) NewDirectory(ctx context.Context, host component.Host, set component.TelemetrySettings, refresh time.Duration) (*directory.Source, error) {
	dc := cfg.Counterparts.Directory
	if !dc.enabled() {
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
