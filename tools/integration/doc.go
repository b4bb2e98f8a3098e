// Package integration holds the tests that run the pcm exporter in-process, as a collector
// would build it (NewFactory, CreateTraces, ConsumeTraces), against the PCM simulator
// (internal/pcmsim): what PCM stores and pairs, and what the exporter's self-telemetry says.
// They need no collector binary; e2e/ has the tests that do.
package integration
