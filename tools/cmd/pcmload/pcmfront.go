package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// pcmFront is the PCM report API the pcm exporter posts to in the benchmark. It passes every
// Nth POST to the PCM simulator, which validates, reconciles and stores those reports in full,
// and answers the others itself the way PCM does (Bearer token checked with the simulator,
// one ACCEPTED item per report, correlationId echoed) without validating their fields.
//
// The simulator validates a report with encoding/json in about 30 µs of CPU, several times what
// the collector spends on the span; on a 2-core machine shared with the collector it would be
// the bottleneck, not the exporter. Counting reports (like the OTLP sink counts spans without
// decoding them) keeps the two far ends comparably cheap; the validated sample still shows that
// the reports are what PCM accepts.
type pcmFront struct {
	srv   *http.Server
	url   string
	sim   *pcmsim.Server
	every int64
	proxy *http.Client

	requests atomic.Int64 // report POSTs received
	counted  atomic.Int64 // reports answered ACCEPTED by the front itself
	proxied  atomic.Int64 // POSTs passed to the simulator
	ids      atomic.Uint64
	bufs     sync.Pool
	done     chan struct{}
}

func startPCMFront(cert tls.Certificate, simTLS *tls.Config, sim *pcmsim.Server, every int) (*pcmFront, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &pcmFront{
		url: "https://" + ln.Addr().String(), sim: sim, every: int64(max(every, 1)), done: make(chan struct{}),
		proxy: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			TLSClientConfig: simTLS, MaxIdleConnsPerHost: 8, ForceAttemptHTTP2: false,
		}},
	}
	f.bufs.New = func() any { return new(bytes.Buffer) }
	f.srv = &http.Server{
		Handler:           http.HandlerFunc(f.handle),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	go func() {
		defer close(f.done)
		_ = f.srv.ServeTLS(ln, "", "")
	}()
	return f, nil
}

func (f *pcmFront) shutdown(ctx context.Context) error {
	err := f.srv.Shutdown(ctx)
	<-f.done
	f.proxy.CloseIdleConnections()
	return err
}

func (f *pcmFront) handle(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case pcmsim.PrivateReportPath, strings.TrimSuffix(pcmsim.PrivateReportPath, "/"), pcmsim.OpendataReportPath:
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body := f.bufs.Get().(*bytes.Buffer)
	defer f.bufs.Put(body)
	body.Reset()
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.requests.Add(1)%f.every == 0 {
		f.proxied.Add(1)
		f.forward(w, r, body.Bytes())
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	if _, err := f.sim.VerifyToken(token); err != nil {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	items, err := splitArray(body.Bytes())
	if err != nil {
		http.Error(w, `{"message":"Invalid payload format: MUST be an array"}`, http.StatusBadRequest)
		return
	}
	out := f.bufs.Get().(*bytes.Buffer)
	defer f.bufs.Put(out)
	out.Reset()
	out.WriteByte('[')
	var id [36]byte
	for i, it := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		f.reportID(&id)
		out.WriteString(`{"reportId":"`)
		out.Write(id[:])
		out.WriteString(`","status":"ACCEPTED"`)
		if c, ok := correlationID(it); ok {
			out.WriteString(`,"correlationId":"`)
			out.Write(c)
			out.WriteByte('"')
		}
		out.WriteByte('}')
	}
	out.WriteString("]\n")
	f.counted.Add(int64(len(items)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// forward passes the POST to the simulator and relays its answer.
func (f *pcmFront) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, f.sim.APIURL()+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept", "User-Agent"} {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	resp, err := f.proxy.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Retry-After", "WWW-Authenticate"} {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// reportID writes a UUID that is unique for this front.
func (f *pcmFront) reportID(dst *[36]byte) {
	const prefix = "5e1ec7ed-0000-4000-8000-"
	copy(dst[:], prefix)
	var hex [12]byte
	formatHex48(&hex, f.ids.Add(1))
	copy(dst[len(prefix):], hex[:])
}

var errNotArray = errors.New("not a JSON array of objects")

// splitArray returns the top-level objects of a JSON array without decoding them. It checks
// the nesting of brackets and strings only: enough to count what the exporter sends.
func splitArray(b []byte) ([][]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, errNotArray
	}
	var items [][]byte
	depth, start := 0, -1
	inString, escaped := false, false
	expectItem := true
	for i := 1; i < len(b)-1; i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			if depth == 0 {
				return nil, errNotArray
			}
			inString = true
		case '{', '[':
			if depth == 0 {
				if c != '{' || !expectItem {
					return nil, errNotArray
				}
				start, expectItem = i, false
			}
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return nil, errNotArray
			}
			if depth == 0 {
				items = append(items, b[start:i+1])
			}
		case ',':
			if depth == 0 {
				if expectItem {
					return nil, errNotArray
				}
				expectItem = true
			}
		case ' ', '\t', '\r', '\n':
		default:
			if depth == 0 {
				return nil, errNotArray
			}
		}
	}
	if depth != 0 || inString || (expectItem && len(items) > 0) {
		return nil, errNotArray
	}
	return items, nil
}

// correlationID returns the raw (still JSON-escaped) value of the item's "correlationId"
// string, as the exporter writes it (compact JSON).
func correlationID(item []byte) ([]byte, bool) {
	const key = `"correlationId":"`
	i := bytes.Index(item, []byte(key))
	if i < 0 {
		return nil, false
	}
	v := item[i+len(key):]
	for j := 0; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return v[:j], true
		}
	}
	return nil, false
}
