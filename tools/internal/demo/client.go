package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

var noopMeterProvider = noop.NewMeterProvider()

// ClientConfig configures the client bank.
type ClientConfig struct {
	Org     Org
	Tracing TracingConfig
	// KnownHost is host:port of the server bank under a name the collector's
	// counterparts.hosts maps to the server's OrganisationId (e.g. localhost:8443).
	KnownHost string
	// UnknownHost reaches the same server under a name the collector does not know (e.g.
	// 127.0.0.1:8443): the CLIENT report then has no serverOrgId.
	UnknownHost string
	// GatewayURL is the egress gateway (an HTTP forward proxy) every call goes through; empty
	// means direct calls.
	GatewayURL string
}

// Call is one request of the client bank to the server bank.
type Call struct {
	Method string
	// Path is the request path (with a query if any), e.g. /open-banking/consents/v3/consents.
	Path string
	// Body is sent as application/json (or form data for the token endpoint).
	Body string
	// ContentType defaults to application/json when Body is set.
	ContentType string
	// UnknownHost sends the call to ClientConfig.UnknownHost instead of KnownHost.
	UnknownHost bool
	// ClientID is the client_id presented to the server; "" means the bank's own
	// (Org.AppClientID); "-" means no Authorization header (open data).
	ClientID string
	// BasicAuth presents ClientID with HTTP Basic (token endpoint) instead of Bearer.
	BasicAuth bool
	// NoInteractionID: the client sends no x-fapi-interaction-id (the server generates one).
	NoInteractionID bool
	// ServerDelay asks the server to take this long before answering.
	ServerDelay time.Duration
	// Timeout is the client's timeout for this call (default 10s).
	Timeout time.Duration
	// AdditionalInfo becomes pcm.additional_info.<key> attributes on the client span.
	AdditionalInfo map[string]string
	// Attributes are set on the client span as they are (what the instrumentation would take
	// from the response, e.g. pcm.credit_portability.*).
	Attributes map[string]string
}

// CallResult is what the client bank saw.
type CallResult struct {
	Call Call
	URL  string
	// TraceID and SpanID identify the otelhttp CLIENT span.
	TraceID string
	SpanID  string
	// SentInteractionID is the x-fapi-interaction-id the client sent ("" when none).
	SentInteractionID string
	// ReceivedInteractionID is the one in the response ("" when none or no response).
	ReceivedInteractionID string
	// StatusCode is 0 when no response arrived.
	StatusCode int
	TimedOut   bool
	Err        error
	Start      time.Time
	Duration   time.Duration
}

// InteractionID is the id both sides should report: the one sent, else the one received.
func (r CallResult) InteractionID() string {
	if r.SentInteractionID != "" {
		return r.SentInteractionID
	}
	return r.ReceivedInteractionID
}

// ClientBank is banco A: an http.Client instrumented with otelhttp.NewTransport around a
// RoundTripper that adds x-fapi-interaction-id and records the captured-header attributes.
type ClientBank struct {
	cfg       ClientConfig
	tp        *sdktrace.TracerProvider
	tracer    trace.Tracer
	transport *http.Transport
	client    *http.Client
}

// NewClientBank creates the client bank.
func NewClientBank(ctx context.Context, cfg ClientConfig) (*ClientBank, error) {
	if cfg.KnownHost == "" {
		return nil, errors.New("demo: client bank: KnownHost is required")
	}
	tp, err := newTracerProvider(ctx, cfg.Tracing)
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	if cfg.GatewayURL != "" {
		gw, err := url.Parse(cfg.GatewayURL)
		if err != nil {
			_ = shutdownTracerProvider(ctx, tp)
			return nil, fmt.Errorf("demo: client bank: gateway URL: %w", err)
		}
		base.Proxy = http.ProxyURL(gw)
	}
	c := &ClientBank{cfg: cfg, tp: tp, tracer: tp.Tracer("github.com/pcm-otel/pcmexporter/tools/internal/demo"), transport: base}
	c.client = &http.Client{
		Transport: otelhttp.NewTransport(&fapiTransport{base: base},
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(propagator),
			otelhttp.WithMeterProvider(noopMeterProvider),
		),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Org is the client bank's organisation.
func (c *ClientBank) Org() Org { return c.cfg.Org }

// Shutdown closes idle connections and flushes the client bank's spans.
func (c *ClientBank) Shutdown(ctx context.Context) error {
	c.transport.CloseIdleConnections()
	return shutdownTracerProvider(ctx, c.tp)
}

// callState carries per-call choices into the fapiTransport and its findings back out.
type callState struct {
	noInteractionID bool
	additionalInfo  map[string]string
	attributes      map[string]string
	sentID          string
	receivedID      string
	traceID, spanID string
}

type callStateKey struct{}

// Do performs the call inside an application span, reads the whole response and reports what
// happened. Errors (timeouts included) are in the result, never returned: a failed call is a
// normal outcome for PCM.
func (c *ClientBank) Do(ctx context.Context, name string, call Call) CallResult {
	host := c.cfg.KnownHost
	if call.UnknownHost {
		host = c.cfg.UnknownHost
	}
	res := CallResult{Call: call, URL: "http://" + host + call.Path, Start: time.Now()}
	timeout := call.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	st := &callState{noInteractionID: call.NoInteractionID, additionalInfo: call.AdditionalInfo, attributes: call.Attributes}
	ctx, span := c.tracer.Start(ctx, name, trace.WithAttributes(attribute.String("demo.scenario", name)))
	defer span.End()
	ctx = context.WithValue(ctx, callStateKey{}, st)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if call.Body != "" {
		body = bytes.NewBufferString(call.Body)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, res.URL, body)
	if err != nil {
		res.Err = err
		return res
	}
	if call.Body != "" {
		ct := call.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	switch clientID := call.ClientID; {
	case clientID == "-":
	case call.BasicAuth:
		req.SetBasicAuth(c.clientID(clientID), "demo-secret")
	default:
		req.Header.Set("Authorization", "Bearer "+c.clientID(clientID))
	}
	if call.ServerDelay > 0 {
		req.Header.Set(HeaderDelay, call.ServerDelay.String())
	}

	resp, err := c.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close() // ends the otelhttp client span
		res.StatusCode = resp.StatusCode
	}
	res.Duration = time.Since(res.Start)
	res.Err = err
	res.TimedOut = err != nil && isTimeout(err)
	res.SentInteractionID, res.ReceivedInteractionID = st.sentID, st.receivedID
	res.TraceID, res.SpanID = st.traceID, st.spanID
	if err != nil {
		span.RecordError(err)
	}
	span.SetAttributes(attribute.Int("demo.status_code", res.StatusCode))
	return res
}

func (c *ClientBank) clientID(id string) string {
	if id == "" {
		return c.cfg.Org.AppClientID
	}
	return id
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// fapiTransport runs inside otelhttp.NewTransport, so trace.SpanFromContext(req.Context()) is
// the CLIENT span: it sets x-fapi-interaction-id and records the captured-header attributes.
type fapiTransport struct {
	base http.RoundTripper
}

func (t *fapiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	span := trace.SpanFromContext(req.Context())
	st, _ := req.Context().Value(callStateKey{}).(*callState)
	if st == nil {
		st = &callState{}
	}
	st.traceID = span.SpanContext().TraceID().String()
	st.spanID = span.SpanContext().SpanID().String()
	for k, v := range st.additionalInfo {
		span.SetAttributes(attribute.String(AttrAdditionalInfoPrefix+k, v))
	}
	for k, v := range st.attributes {
		span.SetAttributes(attribute.String(k, v))
	}
	if !st.noInteractionID {
		id := NewInteractionID()
		req = req.Clone(req.Context())
		req.Header.Set(HeaderInteractionID, id)
		st.sentID = id
	}
	if ids := req.Header.Values(HeaderInteractionID); len(ids) > 0 {
		span.SetAttributes(attribute.StringSlice(AttrRequestInteractionID, ids))
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if ids := resp.Header.Values(HeaderInteractionID); len(ids) > 0 {
		span.SetAttributes(attribute.StringSlice(AttrResponseInteractionID, ids))
		st.receivedID = ids[0]
	}
	return resp, nil
}

// hostPort joins a host and a port.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
