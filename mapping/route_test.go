package mapping

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// mustCatalog extends the default catalog with a catalog file.
func mustCatalog(t testing.TB, file string) *Catalog {
	t.Helper()
	c, err := ParseCatalog([]byte(file), DefaultCatalog())
	require.NoError(t, err)
	return c
}

const extendsTmpl = "/open-banking/consents/v3/consents/{consentId}/extends"

// Router syntaxes, each as its router documents it:
//
//   - Express 4: `:id`, `:id?`, `:id(\d+)`, catch-alls `*` and `:p(*)` —
//     https://expressjs.com/en/4x/api.html#path-examples (path-to-regexp 0.1.x).
//   - Express 5: catch-alls `/*splat` and `/{*splat}` — https://expressjs.com/en/guide/migrating-5.html#path-syntax.
//   - Fastify: `:id`, regex `:id(^\d+)`, catch-all `*` — https://fastify.dev/docs/latest/Reference/Routes/#url-building.
//   - Spring (PathPattern): `{id}`, `{id:[a-z]+}`, catch-alls `/**` and `{*path}` —
//     https://docs.spring.io/spring-framework/docs/current/javadoc-api/org/springframework/web/util/pattern/PathPattern.html.
//   - ASP.NET Core: `{id}`, `{id:int}`, `{id?}`, catch-alls `{*slug}` and `{**slug}`; http.route is
//     RoutePattern.RawText, usually without a leading slash —
//     https://learn.microsoft.com/aspnet/core/fundamentals/routing#route-templates.
//   - Flask/Werkzeug: `<id>`, `<int:id>`, catch-all `<path:p>` — https://flask.palletsprojects.com/en/stable/quickstart/#variable-rules;
//     Django: `<int:id>`, `<path:p>`, ResolverMatch.route without a leading slash, which
//     opentelemetry-python-contrib instrumentation/opentelemetry-instrumentation-django/.../otel_middleware.py
//     (commit 466ae4c0) sets as http.route.
//   - chi: `{id}`, `{id:[0-9]+}`, catch-all `/*` — https://github.com/go-chi/chi#router-interface.
//   - gorilla/mux: `{id}`, `{id:[0-9]+}`, catch-all `{rest:.*}` — https://github.com/gorilla/mux#matching-routes.
//   - Go 1.22 ServeMux: `[METHOD ][HOST]/path/{id}`, catch-all `{rest...}`, exact `{$}` — https://pkg.go.dev/net/http#hdr-Patterns.
//   - NGINX `location ~ ^/open-banking/.*$` — https://nginx.org/en/docs/http/ngx_http_core_module.html#location;
//     Kong regex paths `~/…(?<id>…)` — https://github.com/Kong/kong/pull/2681 and Kong 3.0's "~" prefix.
func TestMapServerRoutes(t *testing.T) {
	const deep = "/open-banking/consents/v3/consents/urn:bancoa:C1DD33123/extends"
	catchAll := []struct{ router, route string }{
		{"Express 4 *", "/open-banking/consents/v3/consents/*"},
		{"Express 4 :p(*)", "/open-banking/consents/v3/consents/:path(*)"},
		{"Express 4 :p*", "/open-banking/consents/v3/consents/:path*"},
		{"Express 5 *splat", "/open-banking/consents/v3/consents/*splat"},
		{"Express 5 {*splat}", "/open-banking/consents/v3/consents/{*splat}"},
		{"Fastify *", "GET /open-banking/consents/v3/consents/*"},
		{"Spring **", "/open-banking/consents/v3/consents/**"},
		{"Spring {*path}", "/open-banking/consents/v3/consents/{*path}"},
		{"ASP.NET {**slug}", "/open-banking/consents/v3/consents/{**slug}"},
		{"ASP.NET {*slug}", "/open-banking/consents/v3/consents/{*slug}"},
		{"Flask <path:p>", "/open-banking/consents/v3/consents/<path:rest>"},
		{"chi /*", "/open-banking/consents/v3/consents/*"},
		{"gorilla {rest:.*}", "/open-banking/consents/v3/consents/{rest:.*}"},
		{"gorilla {rest:.+}", "/open-banking/consents/v3/consents/{rest:.+}"},
		{"Go ServeMux {rest...}", "GET /open-banking/consents/v3/consents/{rest...}"},
		{"Spring {id:regex across slashes}", "/open-banking/consents/v3/consents/{id:**}"},
		{"NGINX regex location", "~ ^/open-banking/.*$"},
		{"Kong regex path", "~/open-banking/consents/v3/consents/(?<consentId>[^/]+)/extends"},
		{"regex with named group", "/open-banking/consents/v3/consents/(?<consentId>[^/]+)/extends"},
		{"a route with fewer segments than the path", "/open-banking/consents/v3/consents/{consentId}"},
		{"a route with more segments than the path", "/open-banking/consents/v3/consents/{consentId}/extends/{x}"},
		{"a literal that differs", "/open-banking/consents/v3/consents/{consentId}/revoke"},
		{"root catch-all", "/*"},
		{"Express 5 optional group", "/open-banking/consents/v3/consents/:consentId{/:action}"},
	}
	var cases []mapCase
	for _, c := range catchAll {
		cases = append(cases, mapCase{
			name: "falls back to url.path: " + c.router, kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(deep), map[string]any{"http.route": c.route}),
			result: report, want: wantServer(extendsTmpl),
		})
	}

	// Router parameters match as parameters: with a catalog where the path's value is also a
	// literal template, only the route can pick the {itemId} template.
	items := func(c *Config) {
		c.Catalog = mustCatalog(t, `{"private": ["/open-banking/items/v1/items/{itemId}", "/open-banking/items/v1/items/summary"]}`)
	}
	params := []struct{ router, route string }{
		{"OpenAPI/chi/gorilla/Spring {id}", "/open-banking/items/v1/items/{itemId}"},
		{"Express/Fastify :id", "/open-banking/items/v1/items/:itemId"},
		{"Express optional :id?", "/open-banking/items/v1/items/:itemId?"},
		{"Express regex :id(\\w+)", "/open-banking/items/v1/items/:itemId(\\w+)"},
		{"Flask <id>", "/open-banking/items/v1/items/<itemId>"},
		{"Flask/Django <int:id>", "/open-banking/items/v1/items/<int:itemId>"},
		{"ASP.NET {id:int}", "/open-banking/items/v1/items/{itemId:int}"},
		{"ASP.NET {id?}", "/open-banking/items/v1/items/{itemId?}"},
		{"gorilla/chi {id:[a-z]+}", "/open-banking/items/v1/items/{itemId:[a-z]+}"},
		{"gorilla default [^/]+", "/open-banking/items/v1/items/{itemId:[^/]+}"},
		{"Go ServeMux with method", "GET /open-banking/items/v1/items/{itemId}"},
		{"Go ServeMux with method and host", "GET api.our-bank.example:8443/open-banking/items/v1/items/{itemId}"},
		{"trailing slash", "/open-banking/items/v1/items/{itemId}/"},
	}
	for _, p := range params {
		cases = append(cases, mapCase{
			name: "parameter: " + p.router, kind: ptrace.SpanKindServer, cfg: items,
			attrs:  merge(serverAttrs("/open-banking/items/v1/items/summary"), map[string]any{"http.route": p.route}),
			result: report, want: wantServer("/open-banking/items/v1/items/{itemId}"),
		})
	}
	cases = append(cases,
		mapCase{
			// ASP.NET Core and Django routes have no leading slash.
			name: "parameter: relative route (ASP.NET Core, Django)", kind: ptrace.SpanKindServer, cfg: items,
			attrs:  merge(serverAttrs("/open-banking/items/v1/items/summary"), map[string]any{"http.route": "open-banking/items/v1/items/{itemId:required}"}),
			result: report, want: wantServer("/open-banking/items/v1/items/{itemId}"),
		},
		mapCase{
			name: "a generic route (parameter where the catalog has a literal) yields to the path", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(conPath), map[string]any{"http.route": "/open-banking/{api}/v3/{resource}/{id}"}),
			result: report, want: wantServer(conTmpl),
		},
		mapCase{
			name: "no path: a plain route is all there is", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(""), map[string]any{"url.path": nil, "http.route": "/open-banking/consents/v3/consents/:consentId"}),
			result: report, want: wantServer(conTmpl),
		},
		mapCase{
			name: "no path: a relative route", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(""), map[string]any{"url.path": nil, "http.route": "open-banking/consents/v3/consents/{consentId}"}),
			result: report, want: wantServer(conTmpl),
		},
		mapCase{
			name: "no path: a catch-all route says nothing", kind: ptrace.SpanKindServer,
			attrs:  merge(serverAttrs(""), map[string]any{"url.path": nil, "http.route": "/open-banking/consents/v3/consents/**"}),
			result: skip(SkipNotOpenFinance),
		},
	)
	runMapCases(t, cases)
}

func TestRouteSegment(t *testing.T) {
	for seg, want := range map[string]routeSegKind{
		"consents": routeSegLiteral, "token.oauth2": routeSegLiteral, "v3": routeSegLiteral, "urn:x": routeSegLiteral,
		"{id}": routeSegParam, ":id": routeSegParam, "<id>": routeSegParam, "<int:id>": routeSegParam, "{id:int}": routeSegParam,
		"*": routeSegOther, "**": routeSegOther, "*splat": routeSegOther, "{*p}": routeSegOther, "{**p}": routeSegOther,
		"{p...}": routeSegOther, "<path:p>": routeSegOther, ":p(*)": routeSegOther, ":p+": routeSegOther, "{}": routeSegOther,
		"": routeSegOther, "{id": routeSegOther, "<id": routeSegOther, ":": routeSegOther, "a{b}": routeSegOther, "\\d+": routeSegOther,
	} {
		assert.Equal(t, want, routeSegment(seg), seg)
	}
}

func TestServerRoute(t *testing.T) {
	for route, want := range map[string]struct {
		path         string
		relative, ok bool
	}{
		"/x":                  {"/x", false, true},
		"GET /x":              {"/x", false, true},
		"GET  /x/{$}":         {"/x/", false, true},
		"api.bank/x":          {"/x", false, true},
		"POST api.bank:443/x": {"/x", false, true},
		"api/x":               {"api/x", true, true},
		"x":                   {"x", true, true},
		"GET":                 {"GET", true, true},
		"":                    {"", false, false},
		"{$}":                 {"", false, false},
		"~ ^/x/.*$":           {"", false, false},
		"GET ":                {"", false, false},
	} {
		path, relative, ok := serverRoute(route)
		assert.Equal(t, want.path, path, route)
		assert.Equal(t, want.relative, relative, route)
		assert.Equal(t, want.ok, ok, route)
	}
}

func TestRouteFits(t *testing.T) {
	fits := func(route, path string) bool { _, ok := routeFits(route, path); return ok }
	mask, ok := routeFits("/a/{id}/c/:x", "/a/1/c/2")
	assert.True(t, ok)
	assert.Equal(t, uint64(0b1010), mask)
	assert.True(t, fits("a/{id}/c/", "/a/1/c"), "relative, trailing slash")
	assert.True(t, fits("/a/{id:[^/]+}/c", "/a/1/c"), "a slash inside a parameter's pattern")
	assert.False(t, fits("/a/{id}/c", "/a//c"), "an empty segment is no value")
	assert.False(t, fits("/a/{id}", "/a/1/c"))
	assert.False(t, fits("/a/{id}/c", "/a/1"))
	assert.False(t, fits("/", "/"))
	assert.False(t, fits("/A/{id}", "/a/1"), "literals are case-sensitive")
	deep := strings.Repeat("/{x}", 65)
	assert.False(t, fits(deep, strings.Repeat("/1", 65)), "deeper than the mask")
	assert.True(t, isPlainRoute("/a/:id/<int:n>"))
	assert.False(t, isPlainRoute("/a/*"))
	assert.False(t, isPlainRoute("/"))
}
