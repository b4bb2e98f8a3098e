package mapping

import "strings"

// urlParts is a URL split into substrings of the original, without allocating. net/url would
// copy and unescape; PCM wants the raw text (endpointUriPrefix is "the URL up to /open-banking").
type urlParts struct {
	raw       string
	scheme    string // "" when the URL has none
	userinfo  bool   // authority had "user[:pass]@" (semconv may leave REDACTED:REDACTED@)
	host      string // without userinfo, port or IPv6 brackets
	hostPort  string // host[:port] as written (with brackets), without userinfo
	port      int    // explicit port, 0 when absent or invalid
	pathStart int    // index in raw where the path starts
	path      string // raw path without query or fragment ("" when the URL has none)
}

// parseURL splits an absolute URL ("scheme://authority/path?query#fragment"), a
// scheme-relative one ("//authority/path") or a bare path. Anything else is read as
// "authority/path" so that a schemeless "host/open-banking/…" still yields its path.
func parseURL(raw string) urlParts {
	u := urlParts{raw: raw}
	rest := raw
	off := 0
	switch {
	case strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, "//"):
		u.pathStart = 0
		u.path = pathOnly(rest)
		return u
	case strings.HasPrefix(rest, "//"):
		off = 2
	default:
		if i := schemeEnd(rest); i > 0 && strings.HasPrefix(rest[i:], "://") {
			u.scheme = rest[:i]
			off = i + 3
		}
	}
	rest = raw[off:]
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if q := indexQuery(rest[:end]); q < end { // "host?query" without a path
		end = q
	}
	authority := rest[:end]
	if at := strings.IndexByte(authority, '@'); at >= 0 { // RFC 3986: userinfo has no raw '@'
		if last := strings.LastIndexByte(authority, '@'); last > at {
			at = last // be lenient with a malformed one
		}
		u.userinfo = true
		authority = authority[at+1:]
	}
	u.hostPort = authority
	u.host, u.port = splitHostPort(authority)
	u.pathStart = off + end
	u.path = pathOnly(raw[u.pathStart:])
	return u
}

// base returns "scheme://host[:port]" without userinfo; it allocates only when userinfo had
// to be removed (a redacted URL would otherwise put "REDACTED:REDACTED@" into endpointUriPrefix).
func (u *urlParts) base() string {
	if !u.userinfo {
		return u.raw[:u.pathStart]
	}
	if u.scheme == "" {
		return "//" + u.hostPort
	}
	return u.scheme + "://" + u.hostPort
}

// upTo returns the URL up to (not including) index i of its path, without userinfo.
func (u *urlParts) upTo(i int) string {
	if !u.userinfo {
		return u.raw[:u.pathStart+i]
	}
	return u.base() + u.path[:i]
}

// pathOnly cuts a query or fragment.
func pathOnly(p string) string {
	return p[:indexQuery(p)]
}

// indexQuery returns the index of the first '?' or '#', or len(p). Two vectorised IndexByte
// scans beat strings.IndexAny, which builds its character set on every call.
func indexQuery(p string) int {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if i := strings.IndexByte(p, '#'); i >= 0 {
		return i
	}
	return len(p)
}

// schemeEnd returns the length of the URL scheme at the start of s (ALPHA *( ALPHA / DIGIT / "+" /
// "-" / "." ), RFC 3986), 0 if s does not start with one. Scanning just the scheme is much cheaper
// than searching the whole URL for "://".
func schemeEnd(s string) int {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return 0
	}
	i := 1
	for i < len(s) && (isAlnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') {
		i++
	}
	return i
}

// splitHostPort splits "host:port", "[v6]:port", "[v6]" or a bare host (a bare IPv6 address
// with several colons has no port). An invalid port yields port 0.
func splitHostPort(hp string) (host string, port int) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return hp[1:], 0
		}
		host = hp[1:end]
		if rest := hp[end+1:]; strings.HasPrefix(rest, ":") {
			port = parsePort(rest[1:])
		}
		return host, port
	}
	i := strings.IndexByte(hp, ':')
	if i < 0 || strings.IndexByte(hp[i+1:], ':') >= 0 {
		return hp, 0
	}
	return hp[:i], parsePort(hp[i+1:])
}

// parsePort parses 1–65535; anything else is 0.
func parsePort(s string) int {
	if s == "" || len(s) > 5 {
		return 0
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	if n > 65535 {
		return 0
	}
	return n
}

// defaultPort is the port a URL without one uses, so that a hosts entry "api.bank:443" also
// matches "https://api.bank/…".
func defaultPort(scheme string) int {
	switch {
	case strings.EqualFold(scheme, "https"):
		return 443
	case strings.EqualFold(scheme, "http"):
		return 80
	}
	return 0
}
