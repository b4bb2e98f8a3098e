package mapping

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Security endpoints (/token, /register, …) have no fixed path: every authorization server
// publishes its own URLs in .well-known (e.g. https://as.bank/as/token.oauth2). PCM wants the
// bare template, so the mapper recognises them by the end of the URL path.

// securityTemplates are the security templates of PCM's list; a rule may point at one of these
// or at any template in the catalog's security list.
var securityTemplates = []string{
	"/introspection",
	"/pushed-authorization-request",
	"/register",
	"/register/{clientId}",
	"/revocation",
	"/token",
}

// DefaultSecurityRules returns the built-in authorization-server path suffix → security template
// rules. They cover the names used by the common OpenID providers of the ecosystem (plain
// names, PingFederate's *.oauth2, Keycloak's revoke/introspect, the short /par and /reg). A
// rule matches when the URL path ends with its key on a segment boundary; `{param}` in a key
// matches one non-empty segment. Config.SecurityRules adds to or overrides these.
func DefaultSecurityRules() map[string]string {
	return map[string]string{
		"/token":                        "/token",
		"/token.oauth2":                 "/token",
		"/register":                     "/register",
		"/register/{clientId}":          "/register/{clientId}",
		"/reg":                          "/register",
		"/reg/{clientId}":               "/register/{clientId}",
		"/clients.oauth2":               "/register",
		"/clients.oauth2/{clientId}":    "/register/{clientId}",
		"/pushed-authorization-request": "/pushed-authorization-request",
		"/par":                          "/pushed-authorization-request",
		"/par.oauth2":                   "/pushed-authorization-request",
		"/par/request":                  "/pushed-authorization-request",
		"/revocation":                   "/revocation",
		"/revoke":                       "/revocation",
		"/revoke_token.oauth2":          "/revocation",
		"/introspection":                "/introspection",
		"/introspect":                   "/introspection",
		"/introspect.oauth2":            "/introspection",
	}
}

type securityRule struct {
	key      string
	segs     []string // "" for a {param} segment
	literals int
	template string
}

// securityRules is sorted most specific first, so the first match wins: more segments, then
// more literal segments, then the key for determinism.
type securityRules []securityRule

// ValidateSecurityRule checks one rule (a path suffix → a security template) against catalog:
// the key must be a valid template path ("/" first, no empty segment, {param} segments whole)
// and the template one of PCM's security templates or of the catalog's security list (a
// template that only an endpoints_file defines is valid with that catalog). NewMapper applies
// it to every rule; the exporter's Config.Validate asks it with the same catalog.
func ValidateSecurityRule(key, template string, catalog *Catalog) error {
	if err := checkTemplate(key); err != nil {
		return fmt.Errorf("security rule %q: %w", key, err)
	}
	if !slices.Contains(securityTemplates, template) && !slices.Contains(catalog.Templates(ClassSecurity), template) {
		return fmt.Errorf("security rule %q: %q is not a security template (one of %s, or of the catalog's security list)",
			key, template, strings.Join(securityTemplates, ", "))
	}
	return nil
}

// compileSecurityRules merges extra over DefaultSecurityRules and validates every rule with
// ValidateSecurityRule.
func compileSecurityRules(extra map[string]string, catalog *Catalog) (securityRules, error) {
	merged := DefaultSecurityRules()
	maps.Copy(merged, extra)
	var errs []error
	rules := make(securityRules, 0, len(merged))
	for _, key := range slices.Sorted(maps.Keys(merged)) {
		template := merged[key]
		if err := ValidateSecurityRule(key, template, catalog); err != nil {
			errs = append(errs, err)
			continue
		}
		r := securityRule{key: key, template: template}
		for rest := key; rest != ""; {
			var seg string
			seg, rest = nextSegment(rest)
			if isParamSegment(seg) {
				seg = ""
			} else {
				r.literals++
			}
			r.segs = append(r.segs, seg)
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(rules, func(a, b securityRule) int {
		if c := cmp.Compare(len(b.segs), len(a.segs)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.literals, a.literals); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return rules, nil
}

// match returns the template of the most specific rule whose key ends path (a cleaned path:
// no query, no trailing slash) on a segment boundary.
func (rs securityRules) match(path string) (string, bool) {
	for i := range rs {
		if rs[i].matchSuffix(path) {
			return rs[i].template, true
		}
	}
	return "", false
}

func (r *securityRule) matchSuffix(path string) bool {
	end := len(path)
	for i := len(r.segs) - 1; i >= 0; i-- {
		j := strings.LastIndexByte(path[:end], '/')
		if j < 0 {
			return false
		}
		seg := path[j+1 : end]
		if seg == "" || r.segs[i] != "" && seg != r.segs[i] {
			return false
		}
		end = j
	}
	return true
}
