package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// Routes of the server bank. They are plain Go 1.22 mux patterns; the whole mux is wrapped by
// otelhttp.NewHandler, so (as with most real services) the server spans carry url.path but no
// http.route attribute.
const (
	RouteBalances      = "GET /open-banking/accounts/v2/accounts/{accountId}/balances"
	RouteCreateConsent = "POST /open-banking/consents/v3/consents"
	RouteGetConsent    = "GET /open-banking/consents/v3/consents/{consentId}"
	RouteCreatePayment = "POST /open-banking/payments/v5/pix/payments"
	// RouteResources is the "misbehaving" route: a legacy handler behind a proxy that strips
	// x-fapi-interaction-id, so it neither receives nor returns one (PCM manual scenario 4).
	RouteResources  = "GET /open-banking/resources/v3/resources"
	RouteBranches   = "GET /open-banking/channels/v2/branches" // opendata
	RouteToken      = "POST /auth/token"                       // the authorization server's token endpoint
	RouteHealth     = "GET /health"
	RouteAccountsV1 = "GET /open-banking/accounts/v1/accounts" // outdated: v1 is not in PCM's list
	// RouteGetPortability is a credit portability's status, reported to PCM's
	// credit-portability API.
	RouteGetPortability = "GET /open-banking/credit-portability/v1/portabilities/{portabilityId}"
)

// PortabilityStatus is the status the server bank answers for every credit portability.
const PortabilityStatus = "RECEIVED"

// HeaderDelay asks the server bank to take this long (a Go duration) before answering; the
// query parameter "delay" does the same. The handler keeps working when the caller has gone,
// like a real backend, so the server still reports its own status.
const HeaderDelay = "x-demo-delay"

// maxDelay bounds a requested delay.
const maxDelay = 30 * time.Second

// ServerConfig configures the server bank.
type ServerConfig struct {
	Org     Org
	Tracing TracingConfig
	// Clients maps the client_id a caller presents (Authorization: Bearer <client_id>, or
	// Basic on the token endpoint) to its OrganisationId. Nil means the demo's default:
	// BancoA.AppClientID → BancoA.OrgID.
	Clients map[string]string
	// Addr is the listen address; default 127.0.0.1:0.
	Addr string
}

// Handled is what the server bank did for one request (what its own logs would say). The
// demo uses it to find the server's reports: the server may have generated the interaction id
// of a call whose client never saw the response.
type Handled struct {
	TraceID string
	SpanID  string
	Method  string
	Path    string
	Status  int
	// RequestInteractionID is the x-fapi-interaction-id received ("" when none).
	RequestInteractionID string
	// InteractionID is the id the server used: received, generated, or "" on the misbehaving route.
	InteractionID string
	// Generated is true when the server generated InteractionID.
	Generated   bool
	ClientID    string
	ClientOrgID string
	Duration    time.Duration
}

// ServerBank is banco B: Open Finance APIs instrumented with otelhttp.
type ServerBank struct {
	cfg     ServerConfig
	tp      *sdktrace.TracerProvider
	ln      net.Listener
	srv     *http.Server
	quit    chan struct{} // closed at shutdown: slow handlers stop waiting
	serveWG sync.WaitGroup

	mu      sync.Mutex
	handled []Handled
	byTrace map[string][]int
}

// StartServerBank starts the server bank's HTTP server.
func StartServerBank(ctx context.Context, cfg ServerConfig) (*ServerBank, error) {
	if cfg.Clients == nil {
		cfg.Clients = map[string]string{BancoA.AppClientID: BancoA.OrgID}
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	tp, err := newTracerProvider(ctx, cfg.Tracing)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = shutdownTracerProvider(ctx, tp)
		return nil, fmt.Errorf("demo: server bank: %w", err)
	}
	s := &ServerBank{cfg: cfg, tp: tp, ln: ln, quit: make(chan struct{}), byTrace: map[string][]int{}}

	mux := http.NewServeMux()
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{RouteBalances, s.balances},
		{RouteCreateConsent, s.createConsent},
		{RouteGetConsent, s.getConsent},
		{RouteCreatePayment, s.createPayment},
		{RouteResources, s.resources},
		{RouteBranches, s.branches},
		{RouteToken, s.token},
		{RouteHealth, s.health},
		{RouteAccountsV1, s.accountsV1},
		{RouteGetPortability, s.getPortability},
	} {
		mux.Handle(r.pattern, s.fapi(r.pattern, r.h))
	}
	handler := otelhttp.NewHandler(mux, cfg.Org.Name,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagator),
		otelhttp.WithMeterProvider(noopMeterProvider),
	)
	s.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Port is the TCP port the server bank listens on.
func (s *ServerBank) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Org is the server bank's organisation.
func (s *ServerBank) Org() Org { return s.cfg.Org }

// Handled returns what the server did so far, in completion order.
func (s *ServerBank) Handled() []Handled {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Handled(nil), s.handled...)
}

// HandledInTrace returns the requests handled as part of a trace (normally one per call).
func (s *ServerBank) HandledInTrace(traceID string) []Handled {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Handled
	for _, i := range s.byTrace[traceID] {
		out = append(out, s.handled[i])
	}
	return out
}

// Shutdown stops the server (slow handlers are released) and flushes its spans.
func (s *ServerBank) Shutdown(ctx context.Context) error {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = s.srv.Close()
	}
	s.serveWG.Wait()
	return errors.Join(err, shutdownTracerProvider(ctx, s.tp))
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// fapi is the Open Finance middleware of one route, running inside the otelhttp server span:
// it echoes or generates x-fapi-interaction-id, records the captured-header attributes and the
// caller's organisation on the span, and applies a requested delay.
func (s *ServerBank) fapi(pattern string, next http.HandlerFunc) http.Handler {
	misbehaving := pattern == RouteResources
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		span := trace.SpanFromContext(r.Context())
		h := Handled{
			TraceID: span.SpanContext().TraceID().String(),
			SpanID:  span.SpanContext().SpanID().String(),
			Method:  r.Method, Path: r.URL.Path,
		}
		received := r.Header.Values(HeaderInteractionID)
		if misbehaving {
			// The proxy in front of this legacy handler drops the header both ways.
			received = nil
			r.Header.Del(HeaderInteractionID)
		}
		if len(received) > 0 {
			span.SetAttributes(attribute.StringSlice(AttrRequestInteractionID, received))
			h.RequestInteractionID = received[0]
			h.InteractionID = received[0]
		} else if !misbehaving {
			h.InteractionID = NewInteractionID() // Open Finance: the server generates one
			h.Generated = true
		}
		if h.InteractionID != "" {
			w.Header().Set(HeaderInteractionID, h.InteractionID)
		}
		h.ClientID = callerClientID(r)
		if org, ok := s.cfg.Clients[h.ClientID]; ok && h.ClientID != "" {
			h.ClientOrgID = org
			span.SetAttributes(attribute.String(AttrClientOrgID, org))
		}

		if d := requestedDelay(r); d > 0 {
			t := time.NewTimer(d)
			select { // not r.Context(): the backend finishes its work when the caller has gone
			case <-t.C:
			case <-s.quit:
				t.Stop()
			}
		}

		rec := &statusRecorder{ResponseWriter: w}
		next(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if sent := w.Header().Values(HeaderInteractionID); len(sent) > 0 {
			span.SetAttributes(attribute.StringSlice(AttrResponseInteractionID, sent))
		}
		h.Status = rec.status
		h.Duration = time.Since(start)
		s.mu.Lock()
		s.byTrace[h.TraceID] = append(s.byTrace[h.TraceID], len(s.handled))
		s.handled = append(s.handled, h)
		s.mu.Unlock()
	})
}

// callerClientID reads the caller's client_id: "Bearer <client_id>" (the demo's stand-in for
// token introspection), or Basic credentials on the token endpoint.
func callerClientID(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(auth, " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		return strings.TrimSpace(cred)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return ""
		}
		id, _, _ := strings.Cut(string(raw), ":")
		return id
	}
	return ""
}

func requestedDelay(r *http.Request) time.Duration {
	v := r.Header.Get(HeaderDelay)
	if v == "" {
		v = r.URL.Query().Get("delay")
	}
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if ms, err2 := strconv.Atoi(v); err2 == nil {
			d = time.Duration(ms) * time.Millisecond
		}
	}
	return min(max(d, 0), maxDelay)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func envelope(r *http.Request, data any) map[string]any {
	return map[string]any{
		"data":  data,
		"links": map[string]string{"self": "http://" + r.Host + r.URL.Path},
		"meta":  map[string]any{"requestDateTime": time.Now().UTC().Format(time.RFC3339)},
	}
}

func (s *ServerBank) balances(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, envelope(r, map[string]any{
		"accountId":       r.PathValue("accountId"),
		"availableAmount": map[string]string{"amount": "1000.04", "currency": "BRL"},
	}))
}

func (s *ServerBank) createConsent(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusCreated, envelope(r, map[string]any{
		"consentId": "urn:bancob:" + NewInteractionID(),
		"status":    "AWAITING_AUTHORISATION",
	}))
}

func (s *ServerBank) getConsent(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, envelope(r, map[string]any{
		"consentId": r.PathValue("consentId"),
		"status":    "AUTHORISED",
	}))
}

func (s *ServerBank) createPayment(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusCreated, envelope(r, map[string]any{
		"paymentId": NewInteractionID(),
		"status":    "RCVD",
	}))
}

func (s *ServerBank) resources(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, envelope(r, []map[string]string{{"resourceId": "acc-1", "type": "ACCOUNT", "status": "AVAILABLE"}}))
}

func (s *ServerBank) branches(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, envelope(r, []map[string]string{{"name": "Agência Centro", "code": "0001"}}))
}

func (s *ServerBank) token(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": "demo-" + NewInteractionID(), "token_type": "Bearer", "expires_in": 900,
	})
}

func (s *ServerBank) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "UP"})
}

func (s *ServerBank) accountsV1(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, envelope(r, []map[string]string{{"accountId": "acc-1"}}))
}

// getPortability answers a credit portability's status and, like an instrumented service,
// records on its span the fields PCM's credit-portability report needs.
func (s *ServerBank) getPortability(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("portabilityId")
	updated := time.Now().UTC().Format(time.RFC3339)
	trace.SpanFromContext(r.Context()).SetAttributes(
		attribute.String(mapping.AttrPortabilityID, id),
		attribute.String(mapping.AttrPortabilityStatus, PortabilityStatus),
		attribute.String(mapping.AttrPortabilityStatusUpdate, updated),
	)
	writeJSON(w, http.StatusOK, envelope(r, map[string]any{
		"portabilityId": id, "status": PortabilityStatus, "statusUpdateDateTime": updated,
	}))
}
