package mapping

import (
	"fmt"
	"net/netip"
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

// ParseHostsKey normalises a Config.Hosts key into a lower-case host and a port (0: any port).
// The documented forms are "api.bank", "api.bank:8443", "[2001:db8::1]:443", "2001:db8::1" and
// a URL whose host and port are taken ("https://api.bank:8443/"); a trailing dot ("api.bank.")
// is dropped. Anything the lookup could never match is an error rather than an entry that
// silently never applies: a port outside 1-65535, a URL with a path, query, fragment or user
// information, a host with characters no host name has (a wildcard "*.bank" among them), an
// unbalanced bracket. NewMapper applies it; the exporter's Config.Validate asks it too, so
// both judge a key by the same rule.
func ParseHostsKey(raw string) (host string, port int, err error) {
	fail := func(reason string) (string, int, error) {
		return "", 0, fmt.Errorf("hosts entry %q: %s", raw, reason)
	}
	k := strings.ToLower(strings.TrimSpace(raw))
	if strings.Contains(k, "://") {
		u := parseURL(k)
		if rest := k[u.pathStart:]; rest != "" && rest != "/" {
			return fail("a URL with a path, query or fragment (entries match host and port only)")
		}
		if u.userinfo {
			return fail("a URL with user information (entries match host and port only)")
		}
		k = u.hostPort
	}
	if k == "" {
		return fail("empty host")
	}
	var portText string
	hasPort := false
	switch {
	case strings.HasPrefix(k, "["):
		end := strings.IndexByte(k, ']')
		if end < 0 {
			return fail("invalid host (unclosed \"[\")")
		}
		host = k[1:end]
		switch rest := k[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			portText, hasPort = rest[1:], true
		default:
			return fail("invalid host (text after \"]\")")
		}
		if host = canonicalIPv6(host); host == "" {
			return fail("invalid host (not an IPv6 address between brackets)")
		}
	case strings.Count(k, ":") > 1: // a bare IPv6 address has no port
		if host = canonicalIPv6(k); host == "" {
			return fail("invalid host (several \":\" but not an IPv6 address; write [IPv6]:port)")
		}
	default:
		host = k
		if i := strings.IndexByte(k, ':'); i >= 0 {
			host, portText, hasPort = k[:i], k[i+1:], true
		}
		host = strings.TrimSuffix(host, ".") // "api.bank." is the same host as "api.bank"
		if !isHostName(host) {
			return fail("invalid host (letters, digits, \"-\", \"_\" and \".\" only; no wildcards)")
		}
	}
	if hasPort {
		if port = parsePort(portText); port == 0 {
			return fail("invalid port (1-65535)")
		}
	}
	return host, port, nil
}

// parseHostsKey is ParseHostsKey under the name NewMapper calls.
func parseHostsKey(raw string) (string, int, error) { return ParseHostsKey(raw) }

// isHostName accepts a lower-case DNS name or IPv4 address: labels of [a-z0-9_-] (underscores
// occur in internal names) separated by single dots.
func isHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			label++
		default:
			return false
		}
	}
	return label > 0
}

// canonicalIPv6 returns the RFC 5952 form of an IPv6 address ("2001:db8::1", what URLs and
// instrumentations write), so that an entry written in full ("0:0:0:0:0:0:0:1") matches too;
// "" if h is not one.
func canonicalIPv6(h string) string {
	a, err := netip.ParseAddr(h)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return ""
	}
	return a.String()
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
	host = strings.TrimSuffix(host, ".") // a fully qualified "api.bank." is the host "api.bank"
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
