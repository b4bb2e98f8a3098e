package mapping

import _ "embed"

// embeddedEndpoints is the PCM accepted-endpoint list (top-level lists of endpoints.json, list
// version in its "version" key). It is the default catalog; endpoints_file extends or replaces it.
//
//go:embed endpoints.json
var embeddedEndpoints []byte

// EmbeddedCatalogJSON returns a copy of the embedded endpoints.json, for tools (pcmsim, pcmctl)
// that need the same list without the matcher.
func EmbeddedCatalogJSON() []byte {
	return append([]byte(nil), embeddedEndpoints...)
}
