package directory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Where an Index came from, as passed to SourceConfig.OnLoad.
const (
	SourceURL   = "url"
	SourceCache = "cache"
	SourceFile  = "file"
)

// DefaultMaxBytes caps a participants document (the real file is 10–20 MB).
const DefaultMaxBytes int64 = 64 << 20

// defaultTimeout bounds a fetch when SourceConfig.Client is nil or has no timeout of its own.
const defaultTimeout = 2 * time.Minute

// maxRedirects bounds the redirects a fetch follows: a CDN or a moved bucket needs one or two.
const maxRedirects = 3

// SourceConfig says where a Source loads the participants file from.
type SourceConfig struct {
	File string // participants file on disk (read at start and at every refresh)
	URL  string // participants URL, fetched with Client
	// Client is built by the caller from a collector confighttp.ClientConfig (TLS, proxy,
	// timeout); nil: a plain client; without a Timeout a fetch is bounded to 2 minutes. The
	// Source uses a copy that follows only https redirects (see httpsRedirectsOnly), after the
	// Client's own CheckRedirect, which may refuse more.
	Client    *http.Client
	Refresh   time.Duration // how often to re-read/re-fetch; 0 = load once
	CacheFile string        // where the last good fetched copy is written (atomically) and read from at start when the URL fails
	Logger    *zap.Logger
	OnLoad    func(source string, st Stats, err error) // optional: called after every load attempt (telemetry)
	MaxBytes  int64                                    // cap on a document's size; 0 = DefaultMaxBytes
	// Discovery reads the authorisation servers' discovery documents for their mTLS endpoint
	// aliases (RFC 8705 §5) in the background; see DiscoveryConfig.
	Discovery DiscoveryConfig
}

// Source keeps an Index current from a file and/or a URL. Lookups read the current Index with
// one atomic load.
//
// Sources are tried in the order URL, CacheFile, File and the first that yields an Index with at
// least one organisation wins. A refresh never replaces the Index with one from a less preferred
// source: once the URL has answered, a failing URL keeps the Index it gave (the cache file and
// File are older, or at best equal), while an Index from File is re-read from File (and replaced
// by the URL's as soon as it answers). Each attempt is reported to OnLoad with the source name
// and the Stats of the Index in use after it.
type Source struct {
	cfg    SourceConfig
	log    *zap.Logger
	client *http.Client
	url    string // cfg.URL without userinfo, for logs and errors
	idx    atomic.Pointer[Index]
	disc   *discoverer // nil unless Discovery.Enabled

	loadMu   sync.Mutex // serialises loads and guards what follows
	from     string     // source of the current Index, "" before the first
	sum      [32]byte   // SHA-256 of the document the current Index was parsed from
	cacheSum [32]byte   // SHA-256 of what the cache file holds, as far as we know
	loadedAt time.Time  // when the current document was loaded
	etag     string     // validators of the URL's document, set only while from == SourceURL
	lastMod  string

	lifeMu  sync.Mutex
	started bool
	stopped bool
	stop    context.CancelFunc
	done    chan struct{}
}

// NewSource returns a Source; nothing is read before Start.
func NewSource(cfg SourceConfig) *Source {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	s := &Source{cfg: cfg, log: cfg.Logger, client: cfg.Client, url: cfg.URL}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: defaultTimeout}
	}
	c := *s.client // the caller's client keeps its own policy
	c.CheckRedirect = httpsRedirectsOnly(s.client.CheckRedirect)
	s.client = &c
	if u, err := url.Parse(cfg.URL); err == nil && cfg.URL != "" {
		s.url = u.Redacted()
	}
	if cfg.Discovery.Enabled {
		s.disc = newDiscoverer(cfg.Discovery, cfg.CacheFile, s.log)
	}
	return s
}

// Index returns the current Index: never nil after a successful Start, nil before a first
// successful load (every method of a nil *Index resolves nothing, so callers need not check).
// Safe for concurrent use; lock-free.
func (s *Source) Index() *Index { return s.idx.Load() }

// ServerOrg and ClientOrg let a Source serve as the mapping package's CounterpartResolver: they
// resolve with the current Index and return "" when it does not know. ServerOrg also consults
// the mTLS endpoint aliases of the discovery documents (when Discovery is enabled) for a URL the
// participants file has no claim on: see OrgByURL.
func (s *Source) ServerOrg(rawURL string) string {
	id, _ := s.OrgByURL(rawURL)
	return id
}

// OrgByURL resolves the organisation serving a URL we called: the participants Index first
// (Index.OrgByURL; a base or host it finds ambiguous stays unresolved), then, for a URL it has no
// claim on at all, the endpoints of the discovery documents — token, PAR and registration, their
// mtls_endpoint_aliases included — by the longest endpoint base, then the host, each claimed by
// exactly one organisation. Lock-free; documents still loading simply resolve nothing yet.
func (s *Source) OrgByURL(rawURL string) (orgID string, ok bool) {
	u, valid := parseURL(rawURL)
	if !valid {
		return "", false
	}
	ix := s.Index()
	if c, claimed := ix.lookupURL(u); claimed {
		return ix.orgOf(c)
	}
	if s.disc == nil {
		return "", false
	}
	return s.disc.orgByURL(u)
}

// DiscoveryPending reports whether discovery is enabled and no round over loaded participants
// has ended yet: a token, PAR or registration host unresolved now may resolve once it has.
func (s *Source) DiscoveryPending() bool {
	return s.disc != nil && !s.disc.settled.Load()
}

// DiscoveryStats returns the counts of the last ended discovery round (zero before the first,
// or without Discovery).
func (s *Source) DiscoveryStats() DiscoveryStats {
	if s.disc == nil {
		return DiscoveryStats{}
	}
	s.disc.mu.Lock()
	defer s.disc.mu.Unlock()
	return s.disc.stats
}

// ClientOrg: see ServerOrg.
func (s *Source) ClientOrg(callerID string) string {
	id, _ := s.Index().OrgByClient(callerID)
	return id
}

// Start loads once synchronously: URL (if set) → on failure the cache file → the File. If it
// has nothing at all it returns an error naming what failed (the caller decides whether that is
// fatal). With Refresh > 0 it then refreshes in the background — also after an error, so that a
// Directory down at start is picked up later; call Shutdown in every case.
func (s *Source) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	if s.started {
		s.lifeMu.Unlock()
		return errors.New("directory: source already started")
	}
	s.started = true
	s.lifeMu.Unlock()

	if s.cfg.File == "" && s.cfg.URL == "" {
		return errors.New("directory: neither a file nor a url is configured")
	}
	if s.disc != nil {
		s.disc.loadCache() // a local file: the first Index resolves with the last good documents
	}
	err := s.load(ctx)
	if err != nil {
		err = fmt.Errorf("directory: no participants loaded: %w", err)
	}

	fetchDocs := s.disc != nil && !s.cfg.Discovery.CacheOnly
	if s.cfg.Refresh > 0 || fetchDocs {
		s.lifeMu.Lock()
		if !s.stopped {
			rctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			if fetchDocs {
				// The documents are fetched in the background: Start does not wait for them.
				s.disc.trigger()
				wg.Go(func() { s.disc.run(rctx) })
			}
			if s.cfg.Refresh > 0 {
				wg.Go(func() { s.refreshLoop(rctx) })
			}
			done := make(chan struct{})
			go func() {
				wg.Wait()
				close(done)
			}()
			s.stop, s.done = cancel, done
		}
		s.lifeMu.Unlock()
	}
	return err
}

// Shutdown stops the background refresh and discovery and waits for them (in-flight fetches are
// cancelled),
// or until ctx is done. It is safe to call more than once, and without Start.
func (s *Source) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	s.stopped = true
	stop, done := s.stop, s.done
	s.stop = nil
	s.lifeMu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Source) refreshLoop(ctx context.Context) {
	t := time.NewTimer(s.nextRefresh())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// One warning per failed refresh: at most one per Refresh interval.
		if err := s.load(ctx); err != nil && ctx.Err() == nil {
			s.loadMu.Lock()
			from, age := s.from, time.Since(s.loadedAt).Round(time.Second)
			s.loadMu.Unlock()
			if from == "" {
				s.log.Warn("Directory refresh failed; no participants loaded yet", zap.Error(err))
			} else {
				s.log.Warn("Directory refresh failed; keeping the last good participants",
					zap.Error(err), zap.String("loaded_from", from), zap.Duration("age", age))
			}
		}
		if s.disc != nil {
			s.disc.trigger() // the documents are re-read every refresh, changed participants or not
		}
		t.Reset(s.nextRefresh())
	}
}

// nextRefresh is Refresh plus up to 10 % of jitter, so that replicas started together do not
// fetch together.
func (s *Source) nextRefresh() time.Duration {
	d := s.cfg.Refresh
	if j := int64(d / 10); j > 0 {
		d += time.Duration(rand.Int64N(j))
	}
	return d
}

// rank orders the sources: a refresh tries only those ranked at least as high as the current.
func rank(source string) int {
	switch source {
	case SourceURL:
		return 3
	case SourceCache:
		return 2
	case SourceFile:
		return 1
	}
	return 0
}

// load tries the sources in order of preference and stops at the first that works.
func (s *Source) load(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	cur := rank(s.from)
	var errs loadErrors
	attempt := func(source string, f func() error) bool {
		if rank(source) < cur {
			return false
		}
		err := f()
		s.report(source, err)
		if err != nil {
			errs = append(errs, err)
			return false
		}
		return true
	}
	if s.cfg.URL != "" {
		if attempt(SourceURL, func() error { return s.loadURL(ctx) }) {
			return nil
		}
		if s.cfg.CacheFile != "" && attempt(SourceCache, func() error { return s.loadFile(SourceCache, s.cfg.CacheFile) }) {
			s.log.Warn("Directory URL failed; using the cached copy", zap.String("cache_file", s.cfg.CacheFile), zap.Error(errs[0]))
			return nil
		}
	}
	if s.cfg.File != "" && attempt(SourceFile, func() error { return s.loadFile(SourceFile, s.cfg.File) }) {
		if s.cfg.URL != "" {
			s.log.Warn("Directory URL failed; using the participants file", zap.String("file", s.cfg.File), zap.Error(errs))
		}
		return nil
	}
	if len(errs) == 0 {
		return nil // nothing ranked high enough to try
	}
	return errs
}

func (s *Source) report(source string, err error) {
	if s.cfg.OnLoad != nil {
		s.cfg.OnLoad(source, s.Index().Stats(), err)
	}
}

// loadURL fetches the URL, conditionally when the current Index came from it.
func (s *Source) loadURL(ctx context.Context) error {
	var etag, lastMod string
	if s.from == SourceURL {
		etag, lastMod = s.etag, s.lastMod
	}
	data, resp, err := s.fetch(ctx, etag, lastMod)
	if err != nil {
		return fmt.Errorf("url %s: %w", s.url, err)
	}
	if data == nil { // 304
		s.log.Debug("Directory participants not modified", zap.String("url", s.url))
		return nil
	}
	if err := s.install(SourceURL, s.url, data); err != nil {
		return fmt.Errorf("url %s: %w", s.url, err)
	}
	s.etag, s.lastMod = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if s.cfg.CacheFile != "" && s.cacheSum != s.sum {
		if err := writeFileAtomic(s.cfg.CacheFile, data); err != nil {
			s.log.Warn("Directory cache file not written", zap.String("cache_file", s.cfg.CacheFile), zap.Error(err))
		} else {
			s.cacheSum = s.sum
		}
	}
	return nil
}

// fetch GETs the URL. It returns nil data for 304 Not Modified.
func (s *Source) fetch(ctx context.Context, etag, lastMod string) ([]byte, *http.Response, error) {
	if s.client.Timeout <= 0 { // a confighttp client without a timeout must not hang Start
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastMod != "" {
		req.Header.Set("If-Modified-Since", lastMod)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in our message
		}
		return nil, nil, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		_ = resp.Body.Close()
	}()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		if etag == "" && lastMod == "" {
			return nil, nil, errors.New("HTTP 304 Not Modified to an unconditional request")
		}
		return nil, resp, nil
	default:
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return nil, nil, fmt.Errorf("HTTP %s: redirect to %s not followed; set counterparts.directory.url to the final URL", resp.Status, redactURL(loc))
		}
		return nil, nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > s.cfg.MaxBytes {
		return nil, nil, fmt.Errorf("%w: Content-Length %d > %d bytes", errTooLarge, resp.ContentLength, s.cfg.MaxBytes)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, s.cfg.MaxBytes+1)); err != nil {
		return nil, nil, fmt.Errorf("reading the body: %w", err)
	}
	if int64(buf.Len()) > s.cfg.MaxBytes {
		return nil, nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, s.cfg.MaxBytes)
	}
	if buf.Len() == 0 {
		return nil, nil, errors.New("empty body")
	}
	return buf.Bytes(), resp, nil
}

// httpsRedirectsOnly is the Source's CheckRedirect: after the caller's own policy (if any), it
// follows at most maxRedirects redirects, only to https URLs (a redirect to http would hand the
// participants, which decide whom reports name, to anyone on the path), and never with an
// Authorization header. Credentials added by the transport (a confighttp auth extension or
// headers) are not seen here: the caller refuses redirects altogether in that case.
func httpsRedirectsOnly(callers func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if callers != nil {
			if err := callers(req, via); err != nil {
				return err
			}
		}
		if len(via) > maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "https" {
			return fmt.Errorf("refusing a redirect to %s: only https redirects are followed", req.URL.Redacted())
		}
		req.Header.Del("Authorization")
		return nil
	}
}

// redactURL hides the password of a URL for a log line; anything unparsable is shown as is,
// cut short.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if len(raw) > 200 {
		raw = raw[:200]
	}
	return strings.ToValidUTF8(raw, "?")
}

var (
	errTooLarge = errors.New("participants document too large")
	errNoOrgs   = errors.New("no organisation with a valid OrganisationId")
)

// loadFile reads a file (File, or the cache file) and installs it.
func (s *Source) loadFile(source, path string) error {
	data, err := readFileCapped(path, s.cfg.MaxBytes)
	if err == nil {
		err = s.install(source, path, data)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", source, path, err)
	}
	if source == SourceCache {
		s.cacheSum = s.sum
	}
	return nil
}

// install parses data and publishes its Index, unless it is the document already in use.
func (s *Source) install(source, location string, data []byte) error {
	sum := sha256.Sum256(data)
	if s.from != "" && sum == s.sum {
		s.log.Debug("Directory participants unchanged", zap.String("source", source), zap.String("location", location))
		if rank(source) > rank(s.from) {
			s.from = source
		}
		return nil
	}
	ix, err := Parse(data)
	if err != nil {
		return err
	}
	st := ix.Stats()
	if st.Organisations == 0 {
		return fmt.Errorf("%w (%d entries skipped)", errNoOrgs, st.Skipped)
	}
	s.idx.Store(ix)
	if s.disc != nil {
		s.disc.useIndex(ix)
	}
	s.sum, s.from, s.loadedAt = sum, source, time.Now()
	s.etag, s.lastMod = "", ""
	s.log.Info("Directory participants loaded",
		zap.String("source", source), zap.String("location", location),
		zap.Int("organisations", st.Organisations), zap.Int("inactive", st.Inactive),
		zap.Int("api_bases", st.APIBases), zap.Int("auth_servers", st.AuthServers),
		zap.Int("clients", st.Clients), zap.Int("ambiguous", st.Ambiguous), zap.Int("skipped", st.Skipped))
	return nil
}

func readFileCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, fmt.Errorf("%w: %d > %d bytes", errTooLarge, fi.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, max)
	}
	return data, nil
}

// writeFileAtomic replaces path with data: a temporary file in the same directory, synced, then
// renamed over it, so that a reader (or a crash) never sees a half-written copy.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // public data; CreateTemp makes 0600
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// loadErrors joins the failures of one load on a single line (errors.Join uses newlines, which
// read badly in a log field).
type loadErrors []error

func (e loadErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e loadErrors) Unwrap() []error { return e }
