package directory

import (
	"sort"
)

// aliasIndex resolves the hosts named by the authorisation servers' discovery documents
// (token, PAR and registration endpoints, their mtls_endpoint_aliases included) to the
// organisation whose participants entry lists that document. It is built against one
// participants Index, whose organisations its claims index, and is immutable afterwards.
//
// It is consulted only for a URL the participants Index has no claim on: a document is served
// by the institution itself, so it may add hosts for its own organisation but never take a
// host or base the Directory assigns (to it or to another organisation). Ambiguity follows the
// participants rules: an endpoint base or host named by several organisations' documents
// resolves nothing.
type aliasIndex struct {
	ix       *Index
	bases    map[originKey][]prefix // endpoint URLs as bases, longest first
	hosts    map[string]claim
	maxDepth int
	stats    aliasStats
}

type aliasStats struct {
	documents int // documents of listed authorisation servers in use
	hosts     int // distinct endpoint hosts
	ambiguous int // hosts and endpoint bases named by several organisations
}

// buildAliases indexes the endpoints of docs for the discovery URLs ix lists. Only https
// endpoints count: RFC 8705 endpoints are TLS by definition, and a plain-http URL in a document
// is a mistake no CLIENT call should be attributed through.
func buildAliases(ix *Index, docs map[string]discoveryDoc) *aliasIndex {
	a := &aliasIndex{ix: ix, hosts: make(map[string]claim)}
	if ix == nil {
		return a
	}
	bases := make(map[originKey]map[string]*prefix)
	for rawURL, c := range ix.discovery {
		doc, ok := docs[rawURL]
		if !ok {
			continue
		}
		a.stats.documents++
		for _, ep := range doc.endpoints() {
			u, ok := parseIndexURL(ep)
			if !ok || u.scheme != "https" {
				continue
			}
			addClaim(a.hosts, u.host, c)
			addBase(bases, u, splitSegments(u.path, maxBaseDepth+1, nil), c)
		}
	}
	a.bases = make(map[originKey][]prefix, len(bases))
	type keyed struct {
		key string // the joined segments: sorts ties without joining again
		p   prefix
	}
	for origin, byPath := range bases {
		tmp := make([]keyed, 0, len(byPath))
		for k, p := range byPath {
			tmp = append(tmp, keyed{k, *p})
			if p.org == ambiguous {
				a.stats.ambiguous++
			}
			a.maxDepth = max(a.maxDepth, len(p.segs))
		}
		sort.Slice(tmp, func(i, j int) bool {
			if len(tmp[i].p.segs) != len(tmp[j].p.segs) {
				return len(tmp[i].p.segs) > len(tmp[j].p.segs)
			}
			return tmp[i].key < tmp[j].key
		})
		list := make([]prefix, len(tmp))
		for i := range tmp {
			list[i] = tmp[i].p
		}
		a.bases[origin] = list
	}
	a.stats.hosts = len(a.hosts)
	for _, c := range a.hosts {
		if c == ambiguous {
			a.stats.ambiguous++
		}
	}
	return a
}

// orgByURL resolves u from the endpoints: the longest endpoint base that prefixes it on a
// segment boundary (two realms of one shared mTLS host told apart), else its host. The first
// rule that finds a claim decides; an ambiguous claim resolves nothing.
func (a *aliasIndex) orgByURL(u parsedURL) (string, bool) {
	if a == nil || a.ix == nil {
		return "", false
	}
	if list := a.bases[originKey{u.scheme, u.host, u.port}]; len(list) > 0 {
		var buf [8]string
		if c, found := longestPrefix(list, splitSegments(u.path, a.maxDepth, buf[:0])); found {
			return a.ix.orgOf(c)
		}
	}
	if c, found := a.hosts[u.host]; found {
		return a.ix.orgOf(c)
	}
	return "", false
}
