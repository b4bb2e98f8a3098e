package directory

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// These tests run the discoverer in a synctest bubble with an in-memory transport: the bubble's
// fake clock drives the per-document timeout, and synctest.Wait tells when nothing else can
// happen, so the concurrency bound is checked at every step rather than sampled.

// heldTransport answers every document, each only once released (or never, for hang).
type heldTransport struct {
	release        chan struct{}
	hang           string // a URL that never answers
	inflight, most atomic.Int32
}

func (h *heldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cur := h.inflight.Add(1)
	defer h.inflight.Add(-1)
	for old := h.most.Load(); cur > old && !h.most.CompareAndSwap(old, cur); old = h.most.Load() {
	}
	var wait <-chan struct{} = h.release
	if req.URL.String() == h.hang {
		wait = nil
	}
	select {
	case <-wait:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	body := discoveryJSON("https://"+req.URL.Host, "", "https://matls-"+req.URL.Host)
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: -1, Header: http.Header{}, Request: req}, nil
}

func heldOrgs(t *testing.T, n int) (*Index, []testOrg) {
	orgs := make([]testOrg, n)
	for i := range orgs {
		orgs[i] = testOrg{id: testOrgID(200 + i), discovery: "https://as-" + string(rune('a'+i)) + "y.example.com/.well-known/openid-configuration"}
	}
	ix, err := Parse(participantsJSON(t, orgs...))
	require.NoError(t, err)
	return ix, orgs
}

// TestDiscoveryConcurrencyExact: at every step exactly min(Concurrency, documents left) fetches
// are in flight, never more.
func TestDiscoveryConcurrencyExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, bound = 10, 3
		ix, orgs := heldOrgs(t, n)
		rt := &heldTransport{release: make(chan struct{})}
		d := newDiscoverer(DiscoveryConfig{Enabled: true, Concurrency: bound, Client: &http.Client{Transport: rt}}, "", zap.NewNop())
		d.useIndex(ix)
		done := make(chan struct{})
		go func() {
			d.round(context.Background())
			close(done)
		}()
		for left := n; left > 0; left-- {
			synctest.Wait()
			require.Equal(t, int32(min(bound, left)), rt.inflight.Load(), "%d documents left", left)
			rt.release <- struct{}{}
		}
		<-done
		assert.Equal(t, int32(bound), rt.most.Load())
		assert.Equal(t, n, d.stats.Fetched)
		id, ok := d.orgByURL(mustParseURL(t, "https://matls-as-ay.example.com/token"))
		assert.True(t, ok)
		assert.Equal(t, orgs[0].id, id)
	})
}

// TestDiscoveryTimeoutFakeClock: a document that never answers is abandoned exactly when
// DiscoveryConfig.Timeout has passed; the round ends and the other documents are read.
func TestDiscoveryTimeoutFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ix, orgs := heldOrgs(t, 3)
		rt := &heldTransport{release: make(chan struct{}), hang: orgs[1].discovery}
		close(rt.release) // the others answer at once
		d := newDiscoverer(DiscoveryConfig{Enabled: true, Timeout: 7 * time.Second, Client: &http.Client{Transport: rt}}, "", zap.NewNop())
		d.useIndex(ix)
		start := time.Now()
		d.round(context.Background())
		assert.Equal(t, 7*time.Second, time.Since(start))
		assert.Equal(t, 2, d.stats.Fetched)
		assert.Equal(t, 1, d.stats.Failed)
	})
}

// TestDiscoveryDefaultTimeout: each fetch's deadline is Timeout after it starts, 10s when unset.
func TestDiscoveryDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tt := range []struct{ cfg, want time.Duration }{{0, DefaultDiscoveryTimeout}, {time.Hour, time.Hour}} {
			d := newDiscoverer(DiscoveryConfig{Enabled: true, Timeout: tt.cfg}, "", zap.NewNop())
			ctx, cancel := d.timeoutCtx(context.Background(), "https://as.example.com/")
			dl, ok := ctx.Deadline()
			cancel()
			require.True(t, ok)
			assert.Equal(t, tt.want, dl.Sub(time.Now()))
		}
	})
}

func mustParseURL(t *testing.T, raw string) parsedURL {
	u, ok := parseURL(raw)
	require.True(t, ok, raw)
	return u
}
