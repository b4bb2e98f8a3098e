package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Gateway is the client bank's egress gateway: an HTTP forward proxy (httputil.ReverseProxy)
// every outgoing Open Finance call goes through. It "normalises" the answer of one route,
// rewriting 201 Created into 200 OK: the realistic way a client ends up reporting a status
// different from the server's (PCM manual scenario 2, PAIRED_INCONSISTENT). It emits no spans.
type Gateway struct {
	ln       net.Listener
	srv      *http.Server
	wg       sync.WaitGroup
	rewrites atomic.Int64
	rules    map[string]bool // "METHOD /path"
}

// DefaultGatewayRewrites is the route whose 201 the demo gateway turns into 200.
var DefaultGatewayRewrites = []string{RouteCreateConsent}

// StartGateway starts the gateway on 127.0.0.1:0. rewrite lists "METHOD /exact/path" routes
// whose 201 answers become 200.
func StartGateway(rewrite ...string) (*Gateway, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: gateway: %w", err)
	}
	g := &Gateway{ln: ln, rules: map[string]bool{}}
	for _, r := range rewrite {
		g.rules[r] = true
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// A forward proxy receives absolute-form targets; Out is a copy of In, so its URL
			// already names the destination. Keep the Host the client asked for.
			pr.Out.Host = pr.In.Host
		},
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusCreated && g.rules[resp.Request.Method+" "+resp.Request.URL.Path] {
				resp.StatusCode = http.StatusOK
				resp.Status = "200 OK"
				g.rewrites.Add(1)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return // the caller gave up (client timeout): nobody to answer
			}
			http.Error(w, "bad gateway", http.StatusBadGateway)
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	g.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !r.URL.IsAbs() || !strings.HasPrefix(r.URL.Scheme, "http") {
				http.Error(w, "this is a forward proxy: send absolute-form requests", http.StatusBadRequest)
				return
			}
			proxy.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		_ = g.srv.Serve(ln)
	}()
	return g, nil
}

// URL is the proxy URL clients use.
func (g *Gateway) URL() string { return "http://" + g.ln.Addr().String() }

// Rewrites counts the 201 answers turned into 200.
func (g *Gateway) Rewrites() int64 { return g.rewrites.Load() }

// Shutdown stops the gateway.
func (g *Gateway) Shutdown(ctx context.Context) error {
	err := g.srv.Shutdown(ctx)
	if err != nil {
		err = g.srv.Close()
	}
	g.wg.Wait()
	return err
}
