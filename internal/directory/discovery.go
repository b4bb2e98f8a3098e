package directory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DiscoveryConfig says how a Source reads the participants' OpenID discovery documents for
// their mTLS endpoint aliases (see discoveryDoc for why). Zero values take the defaults below.
type DiscoveryConfig struct {
	Enabled bool
	// Client fetches the documents; nil: a plain client. It must not carry the Directory's
	// credentials (an auth extension, an Authorization header): every participant's host would
	// receive them. The Source uses a copy that follows only https redirects.
	Client *http.Client
	// Concurrency bounds the documents fetched at once; 0: DefaultDiscoveryConcurrency.
	Concurrency int
	// Timeout bounds each document's fetch, body included; 0: DefaultDiscoveryTimeout.
	Timeout time.Duration
	// MaxDocuments bounds the documents read (the first by URL order); 0: DefaultMaxDocuments.
	MaxDocuments int
	// MaxDocumentBytes caps one document; 0: DefaultMaxDocumentBytes.
	MaxDocumentBytes int64
	// MaxTotalBytes caps the bytes read in one round (and the cache file); 0: DefaultMaxTotalBytes.
	MaxTotalBytes int64
	// CacheFile keeps the last good copy of every document (one JSON file, written atomically);
	// "": DiscoveryCacheFile(SourceConfig.CacheFile), none when that is empty too.
	CacheFile string
	// OnRound is called after every round (telemetry); optional.
	OnRound func(DiscoveryStats)
	// CacheOnly reads CacheFile and fetches nothing (pcmctl's offline runs).
	CacheOnly bool
}

// Defaults of DiscoveryConfig. The real participants file lists a few hundred authorisation
// servers whose documents weigh a few kB each.
const (
	DefaultDiscoveryConcurrency       = 8
	DefaultDiscoveryTimeout           = 10 * time.Second
	DefaultMaxDocuments               = 2000
	DefaultMaxDocumentBytes     int64 = 1 << 20
	DefaultMaxTotalBytes        int64 = 64 << 20
)

// DiscoveryCacheFile names the discovery cache beside the participants cache:
// /var/lib/otelcol/pcm-participants.json → /var/lib/otelcol/pcm-participants.discovery.json.
func DiscoveryCacheFile(participantsCache string) string {
	if participantsCache == "" {
		return ""
	}
	ext := filepath.Ext(participantsCache)
	if !strings.EqualFold(ext, ".json") {
		ext = ""
	}
	return strings.TrimSuffix(participantsCache, ext) + ".discovery.json"
}

// DiscoveryStats describes the last discovery round, for logs and telemetry.
type DiscoveryStats struct {
	Listed    int // distinct OpenIDDiscoveryDocument URLs of Active organisations
	Fetched   int // fetched and read in this round
	Failed    int // failed in this round (the last good copy, when there is one, is kept)
	Refused   int // not https: never fetched
	Skipped   int // beyond MaxDocuments, or past MaxTotalBytes
	Documents int // documents in use: fetched now or kept from before
	Hosts     int // distinct endpoint hosts the documents name
	Ambiguous int // hosts and endpoint bases named by several organisations (they resolve nothing)
}

var (
	errNotHTTPS    = errors.New("not an https URL: discovery documents are fetched over https only")
	errDocTooLarge = errors.New("discovery document too large")
	errRoundBytes  = errors.New("the round's byte budget (MaxTotalBytes) is spent")
)

// discoverer fetches the discovery documents in the background and publishes an aliasIndex
// with an atomic pointer: lookups never wait for it, and answers improve as documents arrive.
type discoverer struct {
	cfg    DiscoveryConfig
	log    *zap.Logger
	client *http.Client
	// timeoutCtx bounds one document's fetch; tests replace it to expire a request on cue.
	timeoutCtx func(ctx context.Context, rawURL string) (context.Context, context.CancelFunc)

	aliases atomic.Pointer[aliasIndex]
	settled atomic.Bool // a round over a loaded participants Index has ended
	kick    chan struct{}

	mu       sync.Mutex // guards what follows
	ix       *Index     // the participants the aliases were built against
	docs     map[string]discoveryDoc
	cacheSum [32]byte // SHA-256 of what the cache file holds, as far as we know
	stats    DiscoveryStats

	roundMu sync.Mutex // one round at a time
}

func newDiscoverer(cfg DiscoveryConfig, participantsCache string, log *zap.Logger) *discoverer {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultDiscoveryConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultDiscoveryTimeout
	}
	if cfg.MaxDocuments <= 0 {
		cfg.MaxDocuments = DefaultMaxDocuments
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if cfg.MaxTotalBytes <= 0 {
		cfg.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if cfg.CacheFile == "" {
		cfg.CacheFile = DiscoveryCacheFile(participantsCache)
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.CheckRedirect = httpsRedirectsOnly(client.CheckRedirect)
	d := &discoverer{
		cfg:    cfg,
		log:    log,
		client: &c,
		kick:   make(chan struct{}, 1),
		docs:   make(map[string]discoveryDoc),
	}
	d.settled.Store(cfg.CacheOnly) // nothing will arrive: nothing is pending
	d.timeoutCtx = func(ctx context.Context, _ string) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, d.cfg.Timeout)
	}
	return d
}

// loadCache reads the cache file (at start, before the participants are loaded, so that the
// first Index already resolves with the last good documents). A missing or bad cache only logs.
func (d *discoverer) loadCache() {
	if d.cfg.CacheFile == "" {
		return
	}
	data, err := readFileCapped(d.cfg.CacheFile, d.cfg.MaxTotalBytes)
	if err == nil {
		var docs map[string]discoveryDoc
		if docs, err = decodeDiscoveryCache(data); err == nil {
			d.mu.Lock()
			d.docs, d.cacheSum = docs, sha256.Sum256(data)
			d.publishLocked()
			d.mu.Unlock()
			d.log.Debug("Directory discovery documents read from the cache",
				zap.String("cache_file", d.cfg.CacheFile), zap.Int("documents", len(docs)))
			return
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		d.log.Warn("Directory discovery cache not read", zap.String("cache_file", d.cfg.CacheFile), zap.Error(err))
	}
}

// useIndex rebuilds the aliases against a new participants Index, at once and with the
// documents at hand: the claims of an aliasIndex refer to its Index's organisations.
func (d *discoverer) useIndex(ix *Index) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ix = ix
	d.publishLocked()
}

// publishLocked builds and publishes the aliases from d.ix and d.docs. Callers hold d.mu.
func (d *discoverer) publishLocked() {
	d.aliases.Store(buildAliases(d.ix, d.docs))
}

// trigger asks for a round; a round asked for while one runs starts after it.
func (d *discoverer) trigger() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run performs the rounds asked for until ctx is done.
func (d *discoverer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		}
		d.round(ctx)
	}
}

// publishEvery bounds the changed documents a round holds back before republishing.
const publishEvery = 64

// fetchResult is one document's outcome.
type fetchResult struct {
	url string
	doc discoveryDoc
	err error
}

// round fetches every listed document once, with at most Concurrency at a time, and publishes
// the aliases as documents arrive. A document that fails keeps its last good copy; documents
// no longer listed are forgotten. The cache file is rewritten when the set changed.
func (d *discoverer) round(ctx context.Context) {
	d.roundMu.Lock()
	defer d.roundMu.Unlock()
	d.mu.Lock()
	ix := d.ix
	d.mu.Unlock()
	if ix == nil {
		return // no participants yet: the next load triggers again
	}

	urls := make([]string, 0, len(ix.discovery))
	for u := range ix.discovery {
		urls = append(urls, u)
	}
	sort.Strings(urls) // the same documents are kept under MaxDocuments from round to round
	st := DiscoveryStats{Listed: len(urls)}
	if len(urls) > d.cfg.MaxDocuments {
		st.Skipped = len(urls) - d.cfg.MaxDocuments
		urls = urls[:d.cfg.MaxDocuments]
	}
	listed := make(map[string]struct{}, len(urls))
	for _, u := range urls {
		listed[u] = struct{}{}
	}

	var budget atomic.Int64
	budget.Store(d.cfg.MaxTotalBytes)
	jobs := make(chan string)
	results := make(chan fetchResult, d.cfg.Concurrency)
	var workers sync.WaitGroup
	for range min(d.cfg.Concurrency, max(len(urls), 1)) {
		workers.Go(func() {
			for u := range jobs {
				doc, err := d.fetch(ctx, u, &budget)
				results <- fetchResult{u, doc, err}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, u := range urls {
			select {
			case jobs <- u:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		workers.Wait()
		close(results)
	}()

	// The aliases are republished as documents arrive, after 1, 2, 4, … changed documents (at
	// most publishEvery): the first answers come at once, and a round of hundreds of documents
	// rebuilds a dozen times, not once per document (a rebuild of 500 documents takes ~5 ms).
	var errs []string
	unpublished, threshold := 0, 1
	for r := range results {
		if d.record(r, &st, &errs) {
			unpublished++
		}
		if unpublished >= threshold {
			d.mu.Lock()
			d.publishLocked()
			d.mu.Unlock()
			unpublished, threshold = 0, min(2*threshold, publishEvery)
		}
	}
	if ctx.Err() != nil {
		return // shutting down: keep what is known, and do not count the aborted round
	}

	d.mu.Lock()
	for u := range d.docs {
		_, fetched := listed[u]
		_, current := d.ix.discovery[u] // participants swapped during the round: their next round decides
		if !fetched && !current {
			delete(d.docs, u)
		}
	}
	d.publishLocked()
	a := d.aliases.Load()
	st.Documents, st.Hosts, st.Ambiguous = a.stats.documents, a.stats.hosts, a.stats.ambiguous
	d.stats = st
	d.writeCacheLocked()
	d.mu.Unlock()
	d.settled.Store(true)

	if len(errs) > 0 {
		sort.Strings(errs)
		const shown = 5
		more := len(errs) - min(len(errs), shown)
		d.log.Warn("Directory discovery documents not fetched; the last good copy of each, if any, is kept",
			zap.Int("failed", st.Failed), zap.Int("refused", st.Refused), zap.Strings("first", errs[:min(len(errs), shown)]), zap.Int("more", more))
	}
	d.log.Debug("Directory discovery round done", zap.Int("listed", st.Listed), zap.Int("fetched", st.Fetched),
		zap.Int("documents", st.Documents), zap.Int("hosts", st.Hosts), zap.Int("ambiguous", st.Ambiguous))
	if d.cfg.OnRound != nil {
		d.cfg.OnRound(st)
	}
}

// record counts a result and keeps a good document; true when the documents changed.
func (d *discoverer) record(r fetchResult, st *DiscoveryStats, errs *[]string) bool {
	switch {
	case r.err == nil:
		st.Fetched++
	case errors.Is(r.err, errNotHTTPS):
		st.Refused++
		*errs = append(*errs, redactURL(r.url)+": "+r.err.Error())
		return false
	case errors.Is(r.err, errRoundBytes):
		st.Skipped++
		*errs = append(*errs, redactURL(r.url)+": "+r.err.Error())
		return false
	default:
		st.Failed++
		*errs = append(*errs, redactURL(r.url)+": "+r.err.Error())
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.docs[r.url]; ok && docsEqual(old, r.doc) {
		return false
	}
	d.docs[r.url] = r.doc
	return true
}

func docsEqual(a, b discoveryDoc) bool {
	if (a.MTLSAliases == nil) != (b.MTLSAliases == nil) {
		return false
	}
	if a.MTLSAliases != nil && *a.MTLSAliases != *b.MTLSAliases {
		return false
	}
	a.MTLSAliases, b.MTLSAliases = nil, nil
	return a == b
}

// writeCacheLocked writes the documents to the cache file when they differ from what it holds.
func (d *discoverer) writeCacheLocked() {
	if d.cfg.CacheFile == "" {
		return
	}
	data, err := encodeDiscoveryCache(d.docs)
	if err == nil && int64(len(data)) > d.cfg.MaxTotalBytes {
		err = fmt.Errorf("%w: %d bytes > %d", errDocTooLarge, len(data), d.cfg.MaxTotalBytes)
	}
	if err == nil {
		sum := sha256.Sum256(data)
		if sum == d.cacheSum {
			return
		}
		if err = writeFileAtomic(d.cfg.CacheFile, data); err == nil {
			d.cacheSum = sum
			return
		}
	}
	d.log.Warn("Directory discovery cache not written", zap.String("cache_file", d.cfg.CacheFile), zap.Error(err))
}

// fetch GETs and reads one document, https only, within the timeout, the document cap and the
// round's byte budget.
func (d *discoverer) fetch(ctx context.Context, rawURL string, budget *atomic.Int64) (discoveryDoc, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return discoveryDoc{}, errNotHTTPS
	}
	if budget.Load() <= 0 {
		return discoveryDoc{}, errRoundBytes
	}
	ctx, cancel := d.timeoutCtx(ctx, rawURL)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return discoveryDoc{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the message
		}
		return discoveryDoc{}, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return discoveryDoc{}, fmt.Errorf("HTTP %s", resp.Status)
	}
	limit := d.cfg.MaxDocumentBytes
	if resp.ContentLength > limit {
		return discoveryDoc{}, fmt.Errorf("%w: Content-Length %d > %d bytes", errDocTooLarge, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1)); err != nil {
		return discoveryDoc{}, fmt.Errorf("reading the body: %w", err)
	}
	if int64(buf.Len()) > limit {
		return discoveryDoc{}, fmt.Errorf("%w: more than %d bytes", errDocTooLarge, limit)
	}
	if budget.Add(-int64(buf.Len())) < 0 {
		return discoveryDoc{}, errRoundBytes
	}
	return parseDiscovery(buf.Bytes())
}

// orgByURL resolves a URL the participants have no claim on through the aliases.
func (d *discoverer) orgByURL(u parsedURL) (string, bool) {
	return d.aliases.Load().orgByURL(u)
}
