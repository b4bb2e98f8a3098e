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
//   - attributes.go, urlparts.go: reading HTTP semantic conventions (stable and legacy) and the
//     configured pcm.* attributes.
//   - interaction.go: the captured x-fapi-interaction-id in every spelling instrumentations emit.
//   - status.go: the status code, and client timeouts and cancellations (408).
//   - route.go, resolve.go, hosts.go: span path (and http.route when it is a real template of
//     it) → template and endpointUriPrefix; host → counterpart org.
//   - additional_info.go, fixes.go: additionalInfo in the types PCM declares, and the Fixes
//     Map reports when it corrects an optional value instead of letting it sink the report.
//   - mapper.go: Config, NewMapper and Map, the span → report contract (docs/pcm-rules.md §8).
//   - validate.go, patterns.go: PCM's discard rules applied locally, in PCM's message vocabulary.
//
// Map is on the exporter's hot path: it references pdata strings instead of copying them and
// reuses the caller's Report, so mapping and encoding one span costs a handful of allocations.
package mapping // import "github.com/pcm-otel/pcmexporter/mapping"
