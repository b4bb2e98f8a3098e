package pcmsim

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// Catalog is the list of endpoint templates the simulator accepts, per report API. A report's
// endpoint must equal one template exactly (no matching of concrete paths), as in PCM.
type Catalog struct {
	// Version is the list version (the "version" key of the catalog JSON).
	Version     string
	private     map[string]bool
	opendata    map[string]bool
	portability map[string]bool
}

// ParseCatalog reads a catalog in the shape of endpoints.json: the top-level arrays "private",
// "opendata" and "credit_portability" are the accepted templates; every other key is ignored.
func ParseCatalog(data []byte) (*Catalog, error) {
	var raw struct {
		Version  string   `json:"version"`
		Private  []string `json:"private"`
		Opendata []string `json:"opendata"`
		// CreditPortability: the templates of the credit-portability report API.
		CreditPortability []string `json:"credit_portability"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("pcmsim: endpoint catalog: %w", err)
	}
	if len(raw.Private) == 0 && len(raw.Opendata) == 0 {
		return nil, errors.New(`pcmsim: endpoint catalog: no "private" or "opendata" templates`)
	}
	c := &Catalog{Version: raw.Version, private: set(raw.Private), opendata: set(raw.Opendata), portability: set(raw.CreditPortability)}
	return c, nil
}

// DefaultCatalog is the endpoint list embedded in the exporter module (mapping/endpoints.json).
func DefaultCatalog() (*Catalog, error) {
	return ParseCatalog(mapping.EmbeddedCatalogJSON())
}

// Accepts reports whether endpoint is an accepted template of the given API.
func (c *Catalog) Accepts(api API, endpoint string) bool {
	switch api {
	case APIPrivate:
		return c.private[endpoint]
	case APIOpendata:
		return c.opendata[endpoint]
	case APICreditPortability:
		return c.portability[endpoint]
	}
	return false
}

// Len returns the number of templates of the given API.
func (c *Catalog) Len(api API) int {
	switch api {
	case APIOpendata:
		return len(c.opendata)
	case APICreditPortability:
		return len(c.portability)
	}
	return len(c.private)
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}
