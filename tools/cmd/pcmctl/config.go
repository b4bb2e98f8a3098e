package main

import (
	"github.com/pcm-otel/pcmexporter/internal/directory"
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
	"github.com/pcm-otel/pcmexporter/mapping"

	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pcm-otel/pcmexporter"
)

// exporterConfig is the pcm exporter section the commands work with.
type exporterConfig struct {
	cfg  *pcmexporter.Config
	name string // e.g. "pcm/banco_a"
	path string // the configuration file
}

// configError is a problem with the configuration that is the operator's invocation (no
// -config, an ambiguous or unknown -exporter): exit code 2. Anything else is exit code 1.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// exitCodeOf maps a loadConfig error to an exit code.
func exitCodeOf(err error) int {
	var ce *configError
	if errors.As(err, &ce) {
		return exitUsage
	}
	return exitProblem
}

// loadConfig resolves the collector configuration like the collector does (file, env and file
// providers, "env" as the default scheme), picks the pcm exporter section, unmarshals it over
// the factory defaults and validates it with confmap.Validate. Every error names the file and
// the exporter; validation errors are printed one per line, prefixed like the collector's.
func (c *cli) loadConfig(ctx context.Context) (*exporterConfig, error) {
	if c.configPath == "" {
		return nil, &configError{"no configuration: use -config collector.yaml"}
	}
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + c.configPath},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
		ProviderSettings:  confmap.ProviderSettings{Logger: warnLogger(c.stderr)},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.configPath, err)
	}
	conf, err := resolver.Resolve(ctx)
	_ = resolver.Shutdown(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.configPath, err)
	}
	exporters, err := conf.Sub("exporters")
	if err != nil {
		return nil, fmt.Errorf("%s: exporters: %w", c.configPath, err)
	}
	name, err := pickExporter(exporters, c.exporterName)
	if err != nil {
		return nil, &configError{fmt.Sprintf("%s: %v", c.configPath, err)}
	}
	section, err := exporters.Sub(name)
	if err != nil {
		return nil, fmt.Errorf("%s: exporters::%s: %w", c.configPath, name, err)
	}
	cfg := pcmexporter.NewFactory().CreateDefaultConfig().(*pcmexporter.Config)
	if err := section.Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("%s: exporters::%s: %w", c.configPath, name, err)
	}
	if err := confmap.Validate(cfg); err != nil {
		return nil, fmt.Errorf("%s: invalid configuration:\n%s", c.configPath, prefixLines(err.Error(), "  exporters::"+name+": "))
	}
	return &exporterConfig{cfg: cfg, name: name, path: c.configPath}, nil
}

// pickExporter returns the exporter key for want ("pcm/banco_a", "banco_a", "pcm"), or the only
// pcm exporter when want is empty.
func pickExporter(exporters *confmap.Conf, want string) (string, error) {
	var names []string
	for key := range exporters.ToStringMap() {
		if id := strings.TrimSpace(key); id == "pcm" || strings.HasPrefix(id, "pcm/") {
			names = append(names, key)
		}
	}
	slices.Sort(names)
	list := strings.Join(names, ", ")
	if want != "" {
		for _, candidate := range []string{want, "pcm/" + want} {
			if slices.Contains(names, candidate) {
				return candidate, nil
			}
		}
		if len(names) == 0 {
			return "", fmt.Errorf("no exporter %q: the file has no pcm exporter", want)
		}
		return "", fmt.Errorf("no exporter %q; pcm exporters in the file: %s", want, list)
	}
	switch len(names) {
	case 0:
		return "", errors.New("no pcm exporter (exporters::pcm or exporters::pcm/NAME)")
	case 1:
		return names[0], nil
	}
	return "", fmt.Errorf("several pcm exporters (%s): choose one with -exporter", list)
}

func prefixLines(text, prefix string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// warnLogger prints the configuration providers' warnings (e.g. "Configuration references
// unset environment variable") to w: an unset ${env:PCM_CLIENT_ID} explains an empty key.
func warnLogger(w io.Writer) *zap.Logger {
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		MessageKey: "msg", LevelKey: "level", NameKey: "logger",
		EncodeLevel:      func(l zapcore.Level, e zapcore.PrimitiveArrayEncoder) { e.AppendString("pcmctl: " + l.String() + ":") },
		ConsoleSeparator: " ",
	})
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zap.WarnLevel))
}

// reportURL is the full URL of a report path, as pcmapi builds it.
func reportURL(cfg *pcmexporter.Config, path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return strings.TrimRight(pcmconfig.APIEndpoint(cfg), "/") + path
}

// nopHost is the component.Host of a process without extensions: a configuration that uses
// an authenticator extension (auth:) cannot be used by pcmctl, and says so when the client is
// built.
type nopHost struct{}

func (nopHost) GetExtensions() map[component.ID]component.Component { return nil }

// newClients builds the PCM clients exactly as the exporter does.
func newClients(ctx context.Context, ec *exporterConfig) (*pcmconfig.PCMClients, error) {
	clients, err := pcmconfig.NewPCMClients(ctx, ec.cfg, nopHost{}, component.TelemetrySettings{Logger: zap.NewNop()},
		pcmconfig.ClientHooks{UserAgent: "pcmctl"})
	if err != nil {
		return nil, fmt.Errorf("%s: exporters::%s: %w", ec.path, ec.name, err)
	}
	return clients, nil
}

// loadMapping loads the exporter's configuration and builds its mapper and validator, as the
// exporter does. On failure it has printed the error and returns the exit code (else 0).
func (c *cli) loadMapping(ctx context.Context) (*exporterConfig, *mapping.Mapper, mapping.Validator, int) {
	ec, err := c.loadConfig(ctx)
	if err != nil {
		c.errorf("%v", err)
		return nil, nil, mapping.Validator{}, exitCodeOf(err)
	}
	mapper, validator, err := pcmconfig.Mapping(ec.cfg, nil)
	if err != nil {
		c.errorf("%s: exporters::%s: %v", ec.path, ec.name, err)
		return nil, nil, mapping.Validator{}, exitProblem
	}
	return ec, mapper, validator, 0
}

// loadDirectory loads the participants of counterparts.directory once, as the exporter does at
// start; nil when none is configured. offline reads only the file or the cache file.
func loadDirectory(ctx context.Context, ec *exporterConfig, offline bool) (*directory.Source, error) {
	cfg := ec.cfg
	if offline {
		copied := *cfg
		dc := &copied.Counterparts.Directory
		if dc.File == "" {
			dc.File = dc.CacheFile
		}
		dc.URL, dc.CacheFile = "", ""
		cfg = &copied
	}
	src, err := pcmconfig.NewDirectory(ctx, cfg, nopHost{}, component.TelemetrySettings{Logger: zap.NewNop()}, 0)
	if err != nil || src == nil {
		return nil, err
	}
	if err := src.Start(ctx); err != nil {
		_ = src.Shutdown(ctx)
		return nil, fmt.Errorf("counterparts.directory: %w (reports missing their counterpart stay invalid)", err)
	}
	return src, nil
}
