//go:generate mdatagen metadata.yaml

// Package pcmexporter is an OpenTelemetry Collector trace exporter that turns the HTTP
// CLIENT and SERVER spans of an Open Finance Brasil participant into PCM (Plataforma de
// Coleta de Métricas) reports and delivers them with a token obtained over mTLS.
//
// It exports NewFactory and the configuration types (defined in internal/pcmconfig). A span
// takes this path:
//
//   - door.go: ConsumeTraces maps every span at once (package mapping); what is not a report is
//     counted and dropped, what PCM would discard is dead-lettered, the rest become records
//     (record.go) in a reportBatch (request.go), the request exporterhelper queues, batches,
//     persists (queue_encoding.go) and retries;
//   - delivery.go: push sends a batch to PCM (internal/pcmapi) and hands back only the reports
//     PCM has not confirmed;
//   - fate.go: what became of each report — metrics, dead letter, SLA backlog, reconciliation
//     watch — is recorded there, one call per fate.
package pcmexporter // import "github.com/pcm-otel/pcmexporter"
