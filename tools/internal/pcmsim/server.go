package pcmsim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Defaults of Config.
const (
	DefaultTokenLifetime = 6 * time.Hour
	DefaultRateLimit     = 300      // requests per second
	DefaultMaxBodyBytes  = 10 << 20 // 10 MB
	DefaultMaxItems      = 5000
	DefaultAddr          = "127.0.0.1:0"
)

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// AuthAddr and APIAddr are the listen addresses (default 127.0.0.1:0, a free port).
	AuthAddr string
	APIAddr  string
	// ServerCertificate is the TLS certificate of both listeners (required).
	ServerCertificate tls.Certificate
	// ClientCAs verifies client certificates on the auth listener (required).
	ClientCAs *x509.CertPool
	// Directory lists the registered organisations and clients. Nil selects the permissive
	// directory: any client_id gets a token for the organisation of its certificate and every
	// organisation exists.
	Directory *Directory
	// Catalog lists the accepted endpoints (default: the list embedded in the exporter module).
	Catalog *Catalog
	// TokenLifetime is the access token lifetime (default 6h, PCM's 21600 s).
	TokenLifetime time.Duration
	// RateLimit is the API request limit per second (default 300; negative disables it).
	RateLimit int
	// MaxBodyBytes and MaxItems bound a report POST (defaults 10 MB and 5000 items → 413).
	MaxBodyBytes int64
	MaxItems     int
	// ClosingDelay, when positive, turns reports still UNPAIRED this long after their arrival
	// into SINGLE (PCM's periodic closing). Zero keeps them UNPAIRED.
	ClosingDelay time.Duration
	// Faults is the initial fault injection (counted from New).
	Faults Faults
	// Participants, if any, are served as a Directory participants file at
	// /directory/participants, with their authorisation servers' OpenID discovery documents.
	Participants []Participant
	// Logger receives request logs at debug level (default: no logging).
	Logger *zap.Logger
	// Now is the clock (default time.Now); tests use it for token expiry and report age.
	Now func() time.Time
}

// Server is a running (or startable) PCM simulator.
type Server struct {
	cfg       Config
	log       *zap.Logger
	now       func() time.Time
	catalog   *Catalog
	dir       *dirIndex
	validator *validator
	tokens    *tokenIssuer
	store     *store
	faults    *faultState
	limiter   *rateLimiter
	stats     *statsCounter

	closing   chan struct{}
	closeOnce sync.Once

	mu              sync.Mutex
	started         bool
	authSrv, apiSrv *http.Server
	authURL, apiURL string
	done            sync.WaitGroup
}

// New checks cfg and returns a Server that is not listening yet.
func New(cfg Config) (*Server, error) {
	if len(cfg.ServerCertificate.Certificate) == 0 {
		return nil, errors.New("pcmsim: Config.ServerCertificate is required")
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("pcmsim: Config.ClientCAs is required")
	}
	if cfg.AuthAddr == "" {
		cfg.AuthAddr = DefaultAddr
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = DefaultAddr
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.TokenLifetime < time.Second {
		return nil, fmt.Errorf("pcmsim: token lifetime %s is shorter than 1s", cfg.TokenLifetime)
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Catalog == nil {
		c, err := DefaultCatalog()
		if err != nil {
			return nil, err
		}
		cfg.Catalog = c
	}
	if cfg.Directory != nil {
		if err := cfg.Directory.Validate(); err != nil {
			return nil, fmt.Errorf("pcmsim: directory: %w", err)
		}
	}
	tokens, err := newTokenIssuer(cfg.TokenLifetime)
	if err != nil {
		return nil, err
	}
	dir := newDirIndex(cfg.Directory)
	s := &Server{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, catalog: cfg.Catalog, dir: dir,
		validator: &validator{catalog: cfg.Catalog, dir: dir},
		tokens:    tokens, store: newStore(cfg.ClosingDelay), faults: &faultState{},
		limiter: newRateLimiter(cfg.RateLimit), stats: newStatsCounter(), closing: make(chan struct{}),
	}
	if err := s.faults.set(cfg.Faults, s.now()); err != nil {
		return nil, fmt.Errorf("pcmsim: faults: %w", err)
	}
	return s, nil
}

// Start binds both listeners and serves them in the background until Shutdown. When Start
// returns without error both listeners accept connections.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("pcmsim: server already started")
	}
	var lc net.ListenConfig
	authLn, err := lc.Listen(ctx, "tcp", s.cfg.AuthAddr)
	if err != nil {
		return fmt.Errorf("pcmsim: auth listener: %w", err)
	}
	apiLn, err := lc.Listen(ctx, "tcp", s.cfg.APIAddr)
	if err != nil {
		_ = authLn.Close()
		return fmt.Errorf("pcmsim: api listener: %w", err)
	}
	s.authURL, s.apiURL = "https://"+urlHost(authLn.Addr()), "https://"+urlHost(apiLn.Addr())
	s.tokens.mu.Lock()
	s.tokens.issuer = s.authURL
	s.tokens.mu.Unlock()

	// TLS handshake failures on the token listener (missing or untrusted client certificate)
	// are the usual set-up mistake, so they are logged at warn level.
	authLog, err := zap.NewStdLogAt(s.log.Named("auth"), zap.WarnLevel)
	if err != nil {
		return err
	}
	apiLog, err := zap.NewStdLogAt(s.log.Named("api"), zap.DebugLevel)
	if err != nil {
		return err
	}
	s.authSrv = &http.Server{
		Handler:           http.HandlerFunc(s.handleToken),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          authLog,
		TLSConfig: &tls.Config{
			MinVersion:       tls.VersionTLS12,
			Certificates:     []tls.Certificate{s.cfg.ServerCertificate},
			ClientAuth:       tls.RequireAndVerifyClientCert,
			ClientCAs:        s.cfg.ClientCAs,
			VerifyConnection: s.verifyTokenConnection,
		},
	}
	s.apiSrv = &http.Server{
		Handler:           http.HandlerFunc(s.handleAPI),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          apiLog,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{s.cfg.ServerCertificate},
		},
	}
	for _, p := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{s.authSrv, authLn}, {s.apiSrv, apiLn}} {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			if err := p.srv.ServeTLS(p.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("pcmsim listener stopped", zap.Error(err))
			}
		}()
	}
	s.started = true
	s.log.Info("pcmsim started", zap.String("auth", s.authURL), zap.String("api", s.apiURL))
	return nil
}

// Shutdown stops both listeners, waiting for in-flight requests until ctx ends (injected
// latency is cut short).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	err := errors.Join(s.authSrv.Shutdown(ctx), s.apiSrv.Shutdown(ctx))
	s.done.Wait()
	return err
}

// AuthURL is the base URL of the auth listener, e.g. https://127.0.0.1:8443 (empty before Start).
func (s *Server) AuthURL() string { s.mu.Lock(); defer s.mu.Unlock(); return s.authURL }

// TokenURL is AuthURL + "/token/".
func (s *Server) TokenURL() string { return s.AuthURL() + "/token/" }

// APIURL is the base URL of the report API, e.g. https://127.0.0.1:8444 (empty before Start).
func (s *Server) APIURL() string { s.mu.Lock(); defer s.mu.Unlock(); return s.apiURL }

// Summary returns the totals of stored and discarded reports.
func (s *Server) Summary() Summary {
	return buildSummary(s.store.list(ReportFilter{}, s.now()), s.store.listDiscarded(), s.now())
}

// Reports returns every stored (accepted) report in arrival order.
func (s *Server) Reports() []Report { return s.store.list(ReportFilter{}, s.now()) }

// FindReports returns the stored reports matching f in arrival order.
func (s *Server) FindReports(f ReportFilter) []Report { return s.store.list(f, s.now()) }

// Discarded returns the discarded items in arrival order.
func (s *Server) Discarded() []DiscardedReport { return s.store.listDiscarded() }

// Stats returns the request counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// SetFaults replaces the fault injection; counts and durations start now.
func (s *Server) SetFaults(f Faults) error { return s.faults.set(f, s.now()) }

// Faults returns the active faults with what remains of their counts and durations.
func (s *Server) Faults() Faults { return s.faults.current(s.now()) }

// Reset clears stored reports, discarded items, statistics, the token cache, the rate limiter
// and the faults. Tokens already issued stay valid.
func (s *Server) Reset() {
	s.store.reset()
	s.stats.reset()
	s.tokens.reset()
	s.limiter.reset()
	_ = s.faults.set(Faults{}, s.now())
}

// VerifyToken checks an access token issued by this server and returns its claims.
func (s *Server) VerifyToken(token string) (TokenClaims, error) {
	return s.tokens.verify(token, s.now())
}

// verifyTokenConnection implements the "handshake" token fault.
func (s *Server) verifyTokenConnection(tls.ConnectionState) error {
	if _, _, ok := s.faults.takeToken(s.now(), true); ok {
		s.stats.update(func(st *Stats) { st.TokenRequests[TokenOutcomeHandshakeRefused]++ })
		return errors.New("pcmsim: client certificate refused (fault injection)")
	}
	return nil
}

// urlHost is the host:port to put in URLs; an unspecified listen address becomes 127.0.0.1.
func urlHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}
