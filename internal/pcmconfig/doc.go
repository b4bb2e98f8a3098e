// Package pcmconfig is the pcm exporter's configuration (the component exports its types) and
// what derives from it, shared by the exporter and the tools so that both read a configuration
// alike: the mapper and validator (Mapping), the PCM clients (NewPCMClients), the Directory
// source (NewDirectory) and the URLs in use (APIEndpoint, TokenURL). Validate asks the package
// that applies each rule.
package pcmconfig // import "github.com/pcm-otel/pcmexporter/internal/pcmconfig"
