//go:build e2e

// Package faults holds the fault tests of the pcm exporter ("nothing lost, nothing blocking"):
// the ocb-built collector runs as a real process with a persistent sending queue, a small OTLP
// sender in the test feeds it CLIENT spans, and the PCM simulator (internal/pcmsim) fails in the
// ways PCM can fail — a collector killed with SIGKILL while reports are in flight, the report API
// refusing connections, answering 500 or 429 with Retry-After, the token endpoint answering 500,
// refusing the certificate or answering 401, and tokens expiring mid-run.
//
// Every test checks, by fapiInteractionId, that each span the collector accepted reached the
// simulator exactly once (or, after a crash, as a counted and bounded duplicate), that nothing
// was dead-lettered, and what the collector's self-telemetry and log say.
//
// The tests carry the build tag e2e and need the collector binary:
//
//	make build && cd tools
//	OTELCOL_BINARY=$PWD/../_build/otelcol-pcm go test -count=1 -tags e2e ./e2e/faults/
//
// Without OTELCOL_BINARY they are skipped.
package faults
