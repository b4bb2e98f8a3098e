package mapping

import "strings"

// http.route is the router's template for a SERVER request. It is only worth using when it
// really is a template of the request path: same number of segments, equal literals, and a
// single-segment router parameter wherever the path has a value. Catch-all routes ("/*",
// "/**", "{*path}", "<path:p>", …), regex routes of gateways and routes of mounted sub-routers
// that miss part of the path say nothing about which template was called, and matching them
// against the catalog (where any segment fits a {param}) would pick a wrong one.

type routeSegKind uint8

const (
	routeSegOther   routeSegKind = iota // wildcard, regex, partial parameter: not a template
	routeSegLiteral                     // plain text, must equal the path segment
	routeSegParam                       // one router parameter: any non-empty segment
)

// routeSegment classifies one segment of a route in the syntaxes of the common routers:
// {id}, {id:int}, {id:[0-9]+}, {id?} (chi, gorilla/mux, Spring, ASP.NET Core, Go ServeMux);
// :id, :id?, :id(\d+) (Express, Fastify); <id>, <int:id> (Flask, Django). Their catch-alls
// ({*p}, {**p}, {p...}, {p:.*}, :p*, :p(*), <path:p>, *, **, *splat) and anything regex-like
// are routeSegOther.
func routeSegment(s string) routeSegKind {
	if s == "" {
		return routeSegOther
	}
	switch s[0] {
	case '{':
		if len(s) < 3 || s[len(s)-1] != '}' {
			return routeSegOther
		}
		inner := s[1 : len(s)-1]
		if inner[0] == '*' || strings.HasSuffix(inner, "...") || strings.ContainsAny(inner, "{}") {
			return routeSegOther
		}
		if _, pattern, found := strings.Cut(inner, ":"); found && spansSegments(pattern) {
			return routeSegOther
		}
		return routeSegParam
	case ':':
		if len(s) < 2 || s[len(s)-1] == '*' || s[len(s)-1] == '+' {
			return routeSegOther
		}
		if i := strings.IndexByte(s, '('); i >= 0 && spansSegments(s[i:]) {
			return routeSegOther
		}
		return routeSegParam
	case '<':
		if len(s) < 3 || s[len(s)-1] != '>' {
			return routeSegOther
		}
		inner := s[1 : len(s)-1]
		if converter, _, found := strings.Cut(inner, ":"); (found && converter == "path") || strings.ContainsAny(inner, "<>") {
			return routeSegOther
		}
		return routeSegParam
	}
	if strings.ContainsAny(s, "{}<>*()[]^$|\\~?+") {
		return routeSegOther
	}
	return routeSegLiteral
}

// spansSegments reports whether a parameter's regular expression can match across "/".
func spansSegments(pattern string) bool {
	return strings.Contains(pattern, ".*") || strings.Contains(pattern, ".+") ||
		strings.Contains(pattern, "*)") || strings.Contains(pattern, "**")
}

// serverRoute turns an http.route into the route's path. It strips a Go 1.22 ServeMux method
// ("GET /…") and host ("api.bank/…") and a trailing "{$}". relative is true for routes written
// without the leading slash (ASP.NET Core's RoutePattern.RawText, Django's ResolverMatch.route).
// ok is false for what cannot be a path template at all (e.g. NGINX "~ ^/open-banking/.*$").
func serverRoute(route string) (path string, relative, ok bool) {
	if i := strings.IndexByte(route, ' '); i >= 0 {
		if !isMethodToken(route[:i]) {
			return "", false, false
		}
		route = strings.TrimLeft(route[i+1:], " ")
	}
	route = strings.TrimSuffix(route, "{$}")
	switch {
	case route == "":
		return "", false, false
	case route[0] == '/':
		return route, false, true
	}
	if i := strings.IndexByte(route, '/'); i > 0 && isHostPattern(route[:i]) {
		return route[i:], false, true
	}
	return route, true, true
}

func isMethodToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// isHostPattern recognises the host of a ServeMux pattern: a name with a dot or a port.
func isHostPattern(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']' {
			return false
		}
	}
	return strings.ContainsAny(s, ".:")
}

// routeFits reports whether route (from serverRoute) is a template of path (a URL path without
// query): the same segments, literal for literal, a parameter for each other non-empty segment.
// One trailing slash on either side is ignored. Bit i of mask is set when route segment i is a
// parameter; paths deeper than 64 segments never fit.
func routeFits(route, path string) (mask uint64, fits bool) {
	route = strings.TrimPrefix(trimSlash(route), "/")
	path = strings.TrimPrefix(trimSlash(path), "/")
	if route == "" || path == "" {
		return 0, false
	}
	for i := 0; i < 64; i++ {
		rs, rrest, rmore := cutRouteSegment(route)
		ps, prest, pmore := strings.Cut(path, "/")
		switch routeSegment(rs) {
		case routeSegLiteral:
			if rs != ps {
				return 0, false
			}
		case routeSegParam:
			if ps == "" {
				return 0, false
			}
			mask |= 1 << i
		default:
			return 0, false
		}
		if rmore != pmore {
			return 0, false
		}
		if !rmore {
			return mask, true
		}
		route, path = rrest, prest
	}
	return 0, false
}

// cutRouteSegment cuts route at the first "/" outside brackets: a parameter's pattern may
// contain one ({id:[^/]+}).
func cutRouteSegment(route string) (seg, rest string, more bool) {
	depth := 0
	for i := 0; i < len(route); i++ {
		switch route[i] {
		case '{', '<', '(', '[':
			depth++
		case '}', '>', ')', ']':
			depth--
		case '/':
			if depth <= 0 {
				return route[:i], route[i+1:], true
			}
		}
	}
	return route, "", false
}

// isPlainRoute reports whether every segment of route is a literal or a single-segment
// parameter: a template on its own, for spans that carry no request path to check it against.
func isPlainRoute(route string) bool {
	route = strings.TrimPrefix(trimSlash(route), "/")
	if route == "" {
		return false
	}
	for {
		seg, rest, more := cutRouteSegment(route)
		if routeSegment(seg) == routeSegOther {
			return false
		}
		if !more {
			return true
		}
		route = rest
	}
}
