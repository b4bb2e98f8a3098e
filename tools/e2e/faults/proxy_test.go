//go:build e2e

package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// holdProxy is a TLS reverse proxy in front of the simulator's report API (same server
// certificate, so the exporter's tls.ca_file trusts it). Normally transparent; while holding,
// it lets PCM process each report POST and keeps the answer back until released — the
// exporter's batch is "in flight": PCM has stored its reports, the exporter does not know yet.
// A held answer whose client goes away (a killed collector) is lost, and its reports are the
// only ones a resend may duplicate.
type holdProxy struct {
	srv *http.Server
	ln  net.Listener
	url string

	mu        sync.Mutex
	intercept func(w http.ResponseWriter, r *http.Request) bool // answers instead of PCM when it returns true
	holding   bool
	release   chan struct{}
	held      int      // answers being held back now
	lost      []string // fapiInteractionIds of stored reports whose answer never reached the client
	lostReq   int      // POSTs whose answer was lost
}

type ctxKey struct{}

// startHoldProxy serves on a free loopback port until Close.
func startHoldProxy(t *testing.T, target string, pki *pcmsim.DevPKI) *holdProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	cert, err := pki.Server.TLSCertificate()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)

	p := &holdProxy{ln: ln, url: "https://" + ln.Addr().String(), release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: pki.RootTLS(), ForceAttemptHTTP2: true}
	rp.ModifyResponse = p.modifyResponse
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// keep the interaction ids of the POSTed reports, to know what a lost answer concerned
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			p.mu.Lock()
			intercept := p.intercept
			p.mu.Unlock()
			if intercept != nil && intercept(w, r) {
				return // answered by the proxy itself: PCM never saw this request
			}
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, interactionIDs(body)))
			rp.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          nil,
	}
	go func() { _ = p.srv.ServeTLS(ln, "", "") }()
	return p
}

// URL is the proxy's base URL (the exporter's endpoint).
func (p *holdProxy) URL() string { return p.url }

// Intercept lets fn answer report requests in PCM's place (a WAF page, a redirect): when fn
// returns true the request is not forwarded. nil forwards everything again.
func (p *holdProxy) Intercept(fn func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.intercept = fn
}

// Hold makes the proxy keep every report answer back from now on.
func (p *holdProxy) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holding = true
}

// Release lets held answers through and stops holding.
func (p *holdProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holding {
		p.holding = false
		close(p.release)
		p.release = make(chan struct{})
	}
}

// Held is the number of answers being held back now.
func (p *holdProxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// Lost returns the interaction ids of reports PCM stored whose answer never reached the
// exporter, and the number of POSTs they came in.
func (p *holdProxy) Lost() ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lost...), p.lostReq
}

func (p *holdProxy) Close() {
	p.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}

var errAnswerLost = errors.New("the client went away while its answer was held")

func (p *holdProxy) modifyResponse(resp *http.Response) error {
	p.mu.Lock()
	if !p.holding || resp.Request.Method != http.MethodPost {
		p.mu.Unlock()
		return nil
	}
	release := p.release
	p.held++
	p.mu.Unlock()

	// PCM has answered (and, on 2xx, stored the reports): read it all before holding.
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))

	ctx := resp.Request.Context()
	select {
	case <-release:
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held--
	if ctx.Err() != nil {
		if resp.StatusCode/100 == 2 {
			ids, _ := ctx.Value(ctxKey{}).([]string)
			p.lost = append(p.lost, ids...)
			p.lostReq++
		}
		return errAnswerLost
	}
	return err
}

// interactionIDs reads the fapiInteractionId of every report of a POSTed JSON array.
func interactionIDs(body []byte) []string {
	var items []struct {
		FapiInteractionID string `json:"fapiInteractionId"`
	}
	if json.Unmarshal(body, &items) != nil {
		return nil
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, strings.ToLower(it.FapiInteractionID))
	}
	return ids
}
