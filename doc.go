//go:generate mdatagen metadata.yaml

// Package pcmexporter is an OpenTelemetry Collector trace exporter that turns the HTTP
// CLIENT and SERVER spans of an Open Finance Brasil participant into PCM (Plataforma de
// Coleta de Métricas) reports and delivers them with a token obtained over mTLS.
package pcmexporter // import "github.com/pcm-otel/pcmexporter"
