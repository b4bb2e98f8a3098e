// Package mapping turns OpenTelemetry HTTP spans of an Open Finance Brasil participant into PCM
// (Plataforma de Coleta de Métricas) reports: span in, report out.
//
// The package is pure on purpose: no network, no files, no collector runtime types beyond pdata.
// The exporter feeds it spans and ships the bytes; keeping the translation here lets it be
// tested exhaustively, fuzzed and benchmarked on its own, and lets tools (the PCM simulator, a
// CLI) reuse the very same catalog and validation rules.
//
// The pieces, one file each:
//
//   - report.go: the Report model and the small enums (API, Role, Outcome, SkipReason).
//   - encode.go: AppendJSON, a hand-written encoder producing exactly PCM's field names.
//   - catalog.go, matcher.go: the accepted-endpoint catalog and its allocation-free template trie.
//   - security.go: authorization-server path rules (.../token, .../register) → security templates.
//   - attributes.go, urlparts.go, status.go: reading HTTP semantic conventions (stable and legacy)
//     and the configured pcm.* attributes.
//   - resolve.go, hosts.go: span path → template and endpointUriPrefix; host → counterpart org.
//   - mapper.go: Config, NewMapper and Map, the span → report contract (docs/pcm-rules.md §8).
//   - validate.go, patterns.go: PCM's discard rules applied locally, in PCM's message vocabulary.
//
// Map is on the exporter's hot path: it references pdata strings instead of copying them and
// reuses the caller's Report, so mapping and encoding one span costs a handful of allocations.
package mapping // import "github.com/pcm-otel/pcmexporter/mapping"
