package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TracingConfig says where an institution's spans go.
type TracingConfig struct {
	// ServiceName is the resource attribute service.name.
	ServiceName string
	// Endpoint is the host:port of an OTLP/HTTP receiver (plain HTTP, path /v1/traces).
	Endpoint string
	// Exporter replaces the OTLP exporter (tests capture spans in memory with it).
	Exporter sdktrace.SpanExporter
	// BatchTimeout is how long the batch span processor waits before it exports; default 200ms
	// so that a demo's reports reach the collector quickly.
	BatchTimeout time.Duration
}

// propagator is the W3C trace context: the client bank's trace continues in the server bank,
// which lets the demo tell which server report belongs to which call. (Real institutions may
// start a new trace at their edge; PCM does not care, it pairs by fapiInteractionId.)
var propagator = propagation.TraceContext{}

// newTracerProvider builds the SDK TracerProvider of one institution: its own resource, an
// OTLP/HTTP exporter and a batch span processor with a short timeout.
func newTracerProvider(ctx context.Context, cfg TracingConfig) (*sdktrace.TracerProvider, error) {
	if cfg.ServiceName == "" {
		return nil, errors.New("demo: tracing: service name is required")
	}
	exp := cfg.Exporter
	if exp == nil {
		if cfg.Endpoint == "" {
			return nil, errors.New("demo: tracing: an OTLP endpoint or an exporter is required")
		}
		var err error
		exp, err = otlptracehttp.New(ctx,
			otlptracehttp.WithEndpoint(cfg.Endpoint),
			otlptracehttp.WithInsecure(),
			otlptracehttp.WithTimeout(5*time.Second),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
				Enabled: true, InitialInterval: 100 * time.Millisecond,
				MaxInterval: time.Second, MaxElapsedTime: 10 * time.Second,
			}),
		)
		if err != nil {
			return nil, fmt.Errorf("demo: OTLP exporter for %s: %w", cfg.ServiceName, err)
		}
	}
	timeout := cfg.BatchTimeout
	if timeout <= 0 {
		timeout = 200 * time.Millisecond
	}
	res := resource.NewSchemaless(attribute.String("service.name", cfg.ServiceName))
	return sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(timeout), sdktrace.WithExportTimeout(5*time.Second)),
	), nil
}

// shutdownTracerProvider flushes the spans still buffered and stops the exporter.
func shutdownTracerProvider(ctx context.Context, tp *sdktrace.TracerProvider) error {
	if tp == nil {
		return nil
	}
	return errors.Join(tp.ForceFlush(ctx), tp.Shutdown(ctx))
}
