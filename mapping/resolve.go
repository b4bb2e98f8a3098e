package mapping

import (
	"strconv"
	"strings"
)

// Endpoint resolution: which template a span's path (or route) matches, and the
// endpointUriPrefix that goes with it.

type resKind uint8

const (
	resNone     resKind = iota // not an Open Finance path
	resMatched                 // template found
	resUnlisted                // has an /open-banking/ segment but no template
)

type resolution struct {
	kind     resKind
	template string
	class    EndpointClass
	reduced  string // cleaned path from the first /open-banking/ on (or the whole cleaned path)
	obIndex  int    // index of /open-banking/ in the cleaned path, -1 when absent
}

// resolve maps a URL path without query or fragment to a template: Open Finance paths (from their
// first /open-banking/ segment) against the catalog, other paths against the catalog's bare
// templates and then the security rules.
func (m *Mapper) resolve(path string) resolution {
	return m.resolveMasked(path, 0)
}

// resolveMasked is resolve where bit i of paramMask says that segment i of path is a router
// parameter (routeFits), so it matches only a template's {param}.
func (m *Mapper) resolveMasked(path string, paramMask uint64) resolution {
	p := trimSlash(path)
	if p == "" || p[0] != '/' {
		return resolution{obIndex: -1}
	}
	if i := strings.Index(p, obSegment); i >= 0 {
		reduced := p[i:]
		if paramMask != 0 {
			paramMask >>= strings.Count(p[:i], "/") // the segments before /open-banking/
		}
		if t, c, ok := m.catalog.lookupClean(reduced, paramMask); ok {
			return resolution{kind: resMatched, template: t, class: c, reduced: reduced, obIndex: i}
		}
		return resolution{kind: resUnlisted, reduced: reduced, obIndex: i}
	}
	if t, c, ok := m.catalog.lookupClean(p, paramMask); ok {
		return resolution{kind: resMatched, template: t, class: c, reduced: p, obIndex: -1}
	}
	if t, ok := m.rules.match(p); ok {
		return resolution{kind: resMatched, template: t, class: ClassSecurity, reduced: p, obIndex: -1}
	}
	return resolution{obIndex: -1}
}

// resolveServer matches the request path (url.path, else http.target, else url.full), which is
// what every instrumentation gives. http.route is used only when it is a real template of that
// path (routeFits): its parameters then tell which path segments are values, so a value that
// equals another template's literal cannot pick that template. Without any request path, a
// route that is a template on its own is all there is.
func (m *Mapper) resolveServer(a *spanAttrs) resolution {
	path := requestPath(a.urlPath, a.target)
	if path == "" {
		if raw := firstStr(a.urlFull, a.urlFullLegacy); raw != "" {
			path = parseURL(raw).path
		}
	}
	route, relative, ok := serverRoute(a.route.str())
	if path == "" {
		if !ok || !isPlainRoute(route) {
			return resolution{obIndex: -1}
		}
		if relative {
			route = "/" + route // rare: a route but no path at all
		}
		return m.resolve(pathOnly(route))
	}
	if ok {
		if mask, fits := routeFits(route, path); fits && mask != 0 {
			// A generic route (a parameter where the catalog has a literal) is no template of
			// ours: the concrete path is then more specific.
			if byRoute := m.resolveMasked(path, mask); byRoute.kind == resMatched {
				return byRoute
			}
		}
	}
	return m.resolve(path)
}

// requestPath returns url.path, else the path of the legacy http.target (which carries the query,
// and in proxies may be an absolute URL).
func requestPath(urlPath, target attr) string {
	if p := urlPath.str(); p != "" {
		return pathOnly(p)
	}
	t := target.str()
	if t == "" || strings.HasPrefix(t, "/") {
		return pathOnly(t)
	}
	return parseURL(t).path
}

// endpointURIPrefix (Decision 16): the URL up to, not including, the first /open-banking (no
// slash added); for security endpoints the full URL without query or fragment. When url.full is
// missing (or is a bare path) the URL is rebuilt from url.scheme/server.address/server.port
// (legacy http.scheme/net.peer.*).
func endpointURIPrefix(res *resolution, u *urlParts, haveURL bool, a *spanAttrs, security bool) string {
	whole := security || res.obIndex < 0
	if haveURL && u.hostPort != "" {
		if whole {
			return u.upTo(len(u.path))
		}
		return u.upTo(res.obIndex)
	}
	base := builtURLBase(a)
	if base == "" {
		return ""
	}
	path := u.path
	if !haveURL {
		path = requestPath(a.urlPath, a.target)
	}
	if !whole {
		path = path[:res.obIndex]
	}
	return base + path
}

// builtURLBase rebuilds "scheme://host[:port]" for CLIENT spans without url.full, leaving out the
// scheme's default port as a URL would.
func builtURLBase(a *spanAttrs) string {
	host := firstStr(a.serverAddr, a.peerName)
	if host == "" {
		return ""
	}
	scheme := firstStr(a.scheme, a.schemeLegacy)
	if scheme == "" {
		scheme = "https"
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if port := attrPort(a); port != 0 && port != defaultPort(scheme) {
		host += ":" + strconv.Itoa(port)
	}
	return scheme + "://" + host
}
