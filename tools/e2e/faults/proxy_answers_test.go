//go:build e2e

package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyAnswersConfirmNothing puts a proxy in front of PCM that answers some report POSTs
// itself, as WAFs and misconfigured gateways do: a 200 HTML block page, a 200 with an empty
// body, a 200 with an array shorter than the request, and a 302 to another host. None of these
// is PCM's word (docs/pcm-rules.md §15.1, §15.2): the reports are retried, every accepted span
// reaches PCM exactly once, nothing is dead-lettered, the redirect target never sees a request
// (nor the Bearer token), and the log names the redirect's Location.
func TestProxyAnswersConfirmNothing(t *testing.T) {
	e := newEnv(t, envConfig{Proxy: true})
	ctx := context.Background()

	var elsewhereMu sync.Mutex
	var elsewhereHits []string
	elsewhere := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereMu.Lock()
		elsewhereHits = append(elsewhereHits, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		elsewhereMu.Unlock()
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("[]"))
	}))
	defer elsewhere.Close()

	answers := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html><body>Request blocked by policy</body></html>"))
		},
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
		func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`[{"reportId":"7d7c7a3e-1111-4111-8111-000000000001","status":"ACCEPTED"}]`))
		},
		func(w http.ResponseWriter) {
			w.Header().Set("Location", elsewhere.URL+"/report-api/v1/private/report/")
			w.WriteHeader(http.StatusFound)
		},
	}
	var mu sync.Mutex
	intercepted := 0
	e.proxy.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if intercepted >= len(answers) {
			return false
		}
		answers[intercepted](w)
		intercepted++
		return true
	})

	for range 3 {
		require.True(t, e.send.post(ctx, batchMaxSize))
	}
	e.waitDelivered(60 * time.Second)
	e.waitSettled(20 * time.Second)
	mu.Lock()
	assert.Equal(t, len(answers), intercepted, "every kind of non-PCM answer was met")
	mu.Unlock()

	got := e.checkDelivery() // every accepted span at PCM, nothing dead-lettered, nothing discarded
	extra, ids := duplicates(got)
	assert.Zero(t, extra, "PCM never saw the intercepted POSTs, so a retry cannot duplicate (e.g. %v)", ids)

	elsewhereMu.Lock()
	assert.Empty(t, elsewhereHits, "a redirect is never followed: the token stays with the configured endpoint")
	elsewhereMu.Unlock()

	m := e.metrics()
	assert.GreaterOrEqual(t, metric(m, mReports, "outcome", "accepted"), float64(3*batchMaxSize))
	assert.Zero(t, metric(m, mSendFailedSpans), "nothing given up")
	redirectLogged := false
	for _, l := range readLog(t, e.logPath()) {
		if strings.Contains(l.Msg, "redirect") && strings.Contains(fmt.Sprint(l.Fields["location"]), elsewhere.URL) {
			redirectLogged = true
		}
	}
	assert.True(t, redirectLogged, "the redirect is logged with its Location")
}
