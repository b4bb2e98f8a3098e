package mapping

import (
	"fmt"
	"strings"
)

// Counterpart resolution for CLIENT spans: Config.Hosts maps the host we called to its
// OrganisationId when no serverOrgId attribute says who it is.

// hostOrgs is one host of Config.Hosts: the org for any port, and per-port overrides. One map
// lookup by host (no "host:port" string to build) and a scan of a tiny slice.
type hostOrgs struct {
	any   string
	ports []portOrg
}

type portOrg struct {
	port int
	org  string
}

// parseHostsKey normalises a hosts entry: "api.bank", "api.bank:8443", "[2001:db8::1]:443",
// "2001:db8::1", or a URL whose host is taken ("https://api.bank:8443/"). Hosts are compared
// case-insensitively.
func parseHostsKey(raw string) (string, int, error) {
	k := strings.ToLower(strings.TrimSpace(raw))
	if strings.Contains(k, "://") {
		k = parseURL(k).hostPort
	}
	if k == "" {
		return "", 0, fmt.Errorf("hosts entry %q: empty host", raw)
	}
	host, port := splitHostPort(k)
	hasPortText := strings.HasPrefix(k, "[") && strings.Contains(k, "]:") ||
		!strings.HasPrefix(k, "[") && strings.Count(k, ":") == 1
	if hasPortText && port == 0 {
		return "", 0, fmt.Errorf("hosts entry %q: invalid port", raw)
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", 0, fmt.Errorf("hosts entry %q: invalid host", raw)
	}
	return host, port, nil
}

// hostOrg resolves the counterpart of a CLIENT span from Config.Hosts: host:port first, then the
// host alone. The host comes from the URL, else from server.address / net.peer.name; the port
// from the URL, else server.port / net.peer.port, else the scheme's default.
func (m *Mapper) hostOrg(a *spanAttrs, u *urlParts, haveURL bool) string {
	if len(m.hosts) == 0 {
		return ""
	}
	var host, scheme string
	var port int
	if haveURL && u.host != "" {
		host, port, scheme = u.host, u.port, u.scheme
	} else {
		host = firstStr(a.serverAddr, a.peerName)
		scheme = firstStr(a.scheme, a.schemeLegacy)
	}
	if host == "" {
		return ""
	}
	if port == 0 {
		port = attrPort(a)
	}
	if port == 0 {
		port = defaultPort(scheme)
	}
	// Hosts are usually lower case already; lowering allocates only when a lookup misses.
	h, ok := m.hosts[host]
	if !ok {
		if h, ok = m.hosts[lowerASCII(host)]; !ok {
			return ""
		}
	}
	for _, p := range h.ports {
		if p.port == port {
			return p.org
		}
	}
	return h.any
}

func attrPort(a *spanAttrs) int {
	for _, at := range [...]attr{a.serverPort, a.peerPort} {
		if n, ok := at.intValue(); ok && n > 0 && n <= 65535 {
			return int(n)
		}
	}
	return 0
}

// lowerASCII lower-cases s, allocating only when s has an upper-case letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
