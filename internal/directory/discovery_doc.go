package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// discoveryDoc is what is read from an authorisation server's OpenID discovery document
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): the endpoints a client calls back-channel.
// The same shape is what the discovery cache file holds per document, so the cache reads like
// a trimmed copy of the documents.
//
// Why the aliases: RFC 8705 §5 lets an authorisation server publish, in mtls_endpoint_aliases,
// other URLs for its endpoints where clients authenticate with mutual TLS, so that a public
// client and a certificate-bound one can use different hosts. The Open Finance Brasil security
// profile (FAPI 1.0 Advanced with private_key_jwt or tls_client_auth, certificate-bound tokens)
// makes every token, PAR and dynamic registration call mutual TLS, and the institutions publish
// those calls' hosts (typically "matls-…" or "mtls-…") only there, not in the Directory's
// participants file: without the documents, such a CLIENT call names no counterpart.
type discoveryDoc struct {
	TokenEndpoint string       `json:"token_endpoint,omitempty"`
	PAREndpoint   string       `json:"pushed_authorization_request_endpoint,omitempty"`
	RegEndpoint   string       `json:"registration_endpoint,omitempty"`
	MTLSAliases   *mtlsAliases `json:"mtls_endpoint_aliases,omitempty"`
}

// mtlsAliases is the mtls_endpoint_aliases object of RFC 8705 §5 (only the endpoints a CLIENT
// report names: token, PAR, registration).
type mtlsAliases struct {
	TokenEndpoint string `json:"token_endpoint,omitempty"`
	PAREndpoint   string `json:"pushed_authorization_request_endpoint,omitempty"`
	RegEndpoint   string `json:"registration_endpoint,omitempty"`
}

// endpoints returns the non-empty endpoint URLs of the document, aliases included.
func (d *discoveryDoc) endpoints() []string {
	out := make([]string, 0, 6)
	for _, s := range []string{d.TokenEndpoint, d.PAREndpoint, d.RegEndpoint} {
		if s != "" {
			out = append(out, s)
		}
	}
	if a := d.MTLSAliases; a != nil {
		for _, s := range []string{a.TokenEndpoint, a.PAREndpoint, a.RegEndpoint} {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// errNoEndpoints: a document that names none of the endpoints read is not a discovery
// document (an HTML error page served with 200, say); the last good copy is kept instead.
var errNoEndpoints = errors.New("no token, PAR or registration endpoint in the document")

// parseDiscovery reads a discovery document. Keys not read are ignored; a read key of the
// wrong JSON type, or an endpoint longer than the URLs the participants file may hold, fails
// the document (the last good copy is kept).
func parseDiscovery(data []byte) (discoveryDoc, error) {
	var d discoveryDoc
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if err := json.Unmarshal(data, &d); err != nil {
		return discoveryDoc{}, fmt.Errorf("discovery document: %w", err)
	}
	eps := d.endpoints()
	if len(eps) == 0 {
		return discoveryDoc{}, errNoEndpoints
	}
	for _, ep := range eps {
		if len(ep) > maxURLLen {
			return discoveryDoc{}, fmt.Errorf("discovery document: an endpoint is longer than %d bytes", maxURLLen)
		}
	}
	return d, nil
}

// discoveryCache is the discovery cache file: the last good copy of each document, keyed by
// the OpenIDDiscoveryDocument URL it was fetched from.
type discoveryCache struct {
	Version   int                     `json:"version"`
	Documents map[string]discoveryDoc `json:"documents"`
}

const discoveryCacheVersion = 1

// encodeDiscoveryCache renders the cache deterministically (encoding/json sorts map keys), so
// that an unchanged set of documents gives the same bytes and is not rewritten.
func encodeDiscoveryCache(docs map[string]discoveryDoc) ([]byte, error) {
	return json.MarshalIndent(discoveryCache{Version: discoveryCacheVersion, Documents: docs}, "", " ")
}

func decodeDiscoveryCache(data []byte) (map[string]discoveryDoc, error) {
	var c discoveryCache
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("discovery cache: %w", err)
	}
	if c.Version != discoveryCacheVersion {
		return nil, fmt.Errorf("discovery cache: version %d, want %d", c.Version, discoveryCacheVersion)
	}
	docs := make(map[string]discoveryDoc, len(c.Documents))
	for u, d := range c.Documents {
		if len(d.endpoints()) > 0 && len(u) <= maxURLLen {
			docs[u] = d
		}
	}
	return docs, nil
}
