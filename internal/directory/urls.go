package directory

import "strings"

// parsedURL is a URL reduced to what the resolution compares.
type parsedURL struct {
	scheme string // lower case; "https" when the URL had none
	host   string // lower case, no brackets, no trailing dot
	port   int    // explicit, else the scheme's default (0 for an unknown scheme)
	path   string // raw path, without query or fragment
}

// parseURL reads "scheme://[userinfo@]host[:port]/path?query#fragment", "//host/path" or a
// schemeless "host[:port]/path" (both read as https). It allocates only to lower-case a host or
// scheme that has upper-case letters. A bare path, an empty host or an invalid port is not a URL
// here.
func parseURL(raw string) (parsedURL, bool) {
	var u parsedURL
	s := strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(s, "//"):
		u.scheme, s = "https", s[2:]
	case strings.HasPrefix(s, "/"), s == "":
		return u, false
	default:
		if i := schemeEnd(s); i > 0 && strings.HasPrefix(s[i:], "://") {
			u.scheme, s = normScheme(s[:i]), s[i+3:]
		} else {
			u.scheme = "https"
		}
	}
	end := len(s)
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		end = i
	}
	authority, rest := s[:end], s[end:]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host, portText, ok := splitHostPort(authority)
	if !ok {
		return u, false
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return u, false
	}
	u.host = lowerASCII(host)
	if portText != "" {
		if u.port = parsePort(portText); u.port == 0 {
			return u, false
		}
	} else {
		u.port = defaultPort(u.scheme)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	u.path = rest
	return u, true
}

// parseIndexURL parses a URL read from the participants file; it bounds the length.
func parseIndexURL(raw string) (parsedURL, bool) {
	if len(raw) > maxURLLen {
		return parsedURL{}, false
	}
	return parseURL(raw)
}

// splitHostPort splits "host", "host:port", "host:" (default port), "[v6]" or "[v6]:port". A bare
// IPv6 address (several colons, no brackets) is a host without a port.
func splitHostPort(hp string) (host, port string, ok bool) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", false
		}
		host, rest := hp[1:end], hp[end+1:]
		switch {
		case rest == "":
			return host, "", true
		case rest[0] == ':':
			return host, rest[1:], true
		}
		return "", "", false
	}
	i := strings.IndexByte(hp, ':')
	if i < 0 || strings.IndexByte(hp[i+1:], ':') >= 0 {
		return hp, "", true
	}
	return hp[:i], hp[i+1:], true
}

// parsePort parses 1–65535; anything else is 0.
func parsePort(s string) int {
	if len(s) > 5 {
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

// schemeEnd returns the length of the scheme at the start of s (ALPHA *( ALPHA / DIGIT / "+" /
// "-" / "." ), RFC 3986), 0 if there is none.
func schemeEnd(s string) int {
	if s == "" || !isAlpha(s[0]) {
		return 0
	}
	i := 1
	for i < len(s) && (isAlpha(s[i]) || '0' <= s[i] && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.') {
		i++
	}
	return i
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// normScheme lower-cases a scheme without allocating for the usual ones.
func normScheme(s string) string {
	switch {
	case strings.EqualFold(s, "https"):
		return "https"
	case strings.EqualFold(s, "http"):
		return "http"
	}
	return lowerASCII(s)
}

func defaultPort(scheme string) int {
	switch scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}
