package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// Mapping builds what the configuration says about turning spans into reports: the endpoint
// catalog (embedded, extended or replaced by endpoints_file), the mapper and the validator.
// The exporter and offline tools (pcmctl) share it so they judge spans the same way.
// counterparts, if not nil, is asked for counterparts no attribute or host names (the Directory).
func Mapping(cfg *Config, counterparts mapping.CounterpartResolver) (*mapping.Mapper, mapping.Validator, error) {
	catalog, err := cfg.endpointCatalog()
	if err != nil {
		return nil, mapping.Validator{}, err
	}
	mc := MappingConfig(cfg, catalog)
	mc.Counterparts = counterparts
	mapper, err := mapping.NewMapper(mc)
	if err != nil {
		return nil, mapping.Validator{}, fmt.Errorf("security_endpoints: %w", err)
	}
	return mapper, mapping.Validator{Catalog: catalog}, nil
}

// ClientHooks observe the PCM clients (self-telemetry); every field is optional.
type ClientHooks struct {
	OnTokenRequest func(outcome string, err error)
	OnResponse     func(path string, status int, d time.Duration)
	UserAgent      string
	Logger         *zap.Logger
}

// PCMClients are the HTTP clients a configuration describes: the report API client (server
// TLS + Bearer) and the token source (mTLS client certificate). Close releases their
// connections.
type PCMClients struct {
	API    *pcmapi.Client
	Tokens *pcmapi.TokenSource

	apiHTTP, tokenHTTP *http.Client
}

// NewPCMClients builds the clients; errors name the configuration key at fault.
func NewPCMClients(ctx context.Context, cfg *Config, host component.Host, set component.TelemetrySettings, hooks ClientHooks) (*PCMClients, error) {
	apiHTTP, err := cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), set)
	if err != nil {
		return nil, fmt.Errorf("building the PCM API client: %w", err)
	}
	// No client follows redirects: the Bearer token (and the token request) must not travel to
	// another URL. pcmapi enforces it on its own copies too; setting it here keeps any other
	// use of these clients honest.
	apiHTTP.CheckRedirect = pcmapi.RefuseRedirects
	tokenTLS, err := cfg.Token.TLS.LoadTLSConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("token.tls: %w", err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tokenTLS
	tokenHTTP := &http.Client{Transport: transport, Timeout: cfg.Token.Timeout, CheckRedirect: pcmapi.RefuseRedirects}

	tokens := pcmapi.NewTokenSource(pcmapi.TokenConfig{
		URL:          TokenURL(cfg),
		FreshURL:     cfg.Token.FreshURL,
		ClientID:     cfg.Token.ClientID,
		HTTPClient:   tokenHTTP,
		ExpiryBuffer: cfg.Token.ExpiryBuffer,
		OnRequest:    hooks.OnTokenRequest,
	})
	api := pcmapi.NewClient(pcmapi.Config{
		HTTPClient: apiHTTP,
		Endpoint:   APIEndpoint(cfg),
		Tokens:     tokens,
		OnResponse: hooks.OnResponse,
		UserAgent:  hooks.UserAgent,
		Logger:     hooks.Logger,
	})
	return &PCMClients{API: api, Tokens: tokens, apiHTTP: apiHTTP, tokenHTTP: tokenHTTP}, nil
}

// Close drops idle connections (goroutine-leak checks and clean shutdowns rely on it).
func (c *PCMClients) Close() {
	c.apiHTTP.CloseIdleConnections()
	c.tokenHTTP.CloseIdleConnections()
}

// HTTPClients are the report API's and the token endpoint's HTTP clients.
func (c *PCMClients) HTTPClients() (api, token *http.Client) { return c.apiHTTP, c.tokenHTTP }
