// Package e2e holds the end-to-end tests: the ocb-built collector (with the pcm exporter) runs
// as a real process between two instrumented Open Finance institutions (internal/demo) and the
// PCM simulator (internal/pcmsim), and the tests check what PCM made of every scenario of the
// PCM integration manual, the exporter's dead letters and its self-telemetry.
//
// The tests carry the build tag e2e and need the collector binary:
//
//	make build && cd tools
//	OTELCOL_BINARY=$PWD/../_build/otelcol-pcm go test -tags e2e ./e2e/...
//
// (`make e2e` does both.) Without OTELCOL_BINARY they are skipped.
package e2e
