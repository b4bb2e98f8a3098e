package pcmexporter // import "github.com/pcm-otel/pcmexporter"

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/directory"
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
	"github.com/pcm-otel/pcmexporter/mapping"
)

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

// ServerOrgPending: the participants are not loaded yet, or discovery documents are still
// arriving (they may name an mTLS alias host).
func (d *directoryResolver) ServerOrgPending(string) bool {
	s := d.source.Load()
	return s != nil && (s.Index() == nil || s.DiscoveryPending())
}

// ClientOrgPending: the participants are not loaded yet.
func (d *directoryResolver) ClientOrgPending(string) bool {
	s := d.source.Load()
	return s != nil && s.Index() == nil
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
	if !cfg.Enabled() {
		return nil
	}
	src, err := pcmconfig.NewDirectory(ctx, e.cfg, host, e.settings.TelemetrySettings, cfg.RefreshInterval)
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
