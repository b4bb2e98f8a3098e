package directory

import (
	"path"
	"sort"
	"strings"
)

// Index answers counterpart questions from one participants file. It is immutable after Parse
// and safe for concurrent use. Every method of a nil *Index resolves nothing.
type Index struct {
	orgs []orgInfo        // claim → organisation
	byID map[string]claim // lower-case OrganisationId → organisation (Name)

	// ids maps OrganisationIds, SoftwareStatementIds and client_ids to an organisation.
	ids map[string]claim

	apiBases map[originKey][]prefix // longest first
	asBases  map[originKey][]prefix // longest first
	asHosts  map[string]claim
	apiHosts map[string]claim

	// discovery maps each OpenIDDiscoveryDocument URL of an Active organisation to its claim
	// (ambiguous when several organisations list it): what the discovery fetcher reads.
	discovery map[string]claim

	maxDepth int // most segments in any base: the URL path is split that far only
	stats    Stats
}

// Stats describes an Index, for logs and telemetry.
type Stats struct {
	Organisations int // distinct organisations with a valid OrganisationId, any Status
	Inactive      int // of which not Active: their identifiers resolve, their URLs do not
	APIBases      int // distinct API bases (scheme://host:port/prefix before /open-banking)
	AuthServers   int // AuthorisationServers entries of those organisations
	Clients       int // distinct SoftwareStatementIds and client_ids (the SoftwareStatements extension)
	Ambiguous     int // bases, hosts and identifiers claimed by several organisations (they resolve nothing)
	Skipped       int // entries left out: no valid OrganisationId, or read keys of the wrong JSON type
}

type orgInfo struct {
	id   string // lower-case UUID
	name string
}

// claim is an index into Index.orgs, or ambiguous.
type claim int32

const ambiguous claim = -1

// originKey is scheme://host:port, normalised.
type originKey struct {
	scheme string // lower case
	host   string // lower case, no brackets, no trailing dot
	port   int    // explicit, else the scheme's default (0 when unknown)
}

// prefix is a base path under an origin, as raw path segments.
type prefix struct {
	segs []string
	org  claim
}

// Stats returns the counts of the Index.
func (ix *Index) Stats() Stats {
	if ix == nil {
		return Stats{}
	}
	return ix.stats
}

// Name returns the organisation's name (OrganisationName, else RegisteredName, else
// LegalEntityName, else the first authorisation server's CustomerFriendlyName), "" if unknown.
func (ix *Index) Name(orgID string) string {
	if ix == nil {
		return ""
	}
	c, ok := ix.byID[idKey(orgID)]
	if !ok {
		return ""
	}
	return ix.orgs[c].name
}

// OrgByClient resolves the caller of a SERVER span from its OrganisationId, software statement
// id or OAuth client_id. An identifier claimed by several organisations resolves nothing.
func (ix *Index) OrgByClient(id string) (orgID string, ok bool) {
	if ix == nil {
		return "", false
	}
	c, found := ix.ids[idKey(id)]
	if !found {
		return "", false
	}
	return ix.orgOf(c)
}

// OrgByURL resolves the organisation serving a URL we called (CLIENT spans). First rule that
// finds a claim decides: (1) the longest API base (scheme://host:port/prefix before
// "/open-banking", from every ApiEndpoint) that prefixes the URL on a path-segment boundary;
// (2) the longest authorisation-server issuer base likewise; (3) the organisation whose
// authorisation-server host equals the URL's host; (4) the organisation that is the only one with
// an API on that host. A base or host claimed by several organisations is ambiguous: ok=false,
// never a guess. Only Active organisations' URLs are indexed. Hosts compare case-insensitively,
// default ports are normalised, query and fragment are ignored; see the package documentation.
func (ix *Index) OrgByURL(rawURL string) (orgID string, ok bool) {
	if ix == nil {
		return "", false
	}
	u, valid := parseURL(rawURL)
	if !valid {
		return "", false
	}
	c, claimed := ix.lookupURL(u)
	if !claimed {
		return "", false
	}
	return ix.orgOf(c)
}

// lookupURL applies the four rules of OrgByURL. claimed is true as soon as a rule finds a
// claim, an ambiguous one included: the mTLS aliases are consulted only for URLs the
// participants file says nothing about.
func (ix *Index) lookupURL(u parsedURL) (c claim, claimed bool) {
	if ix == nil {
		return 0, false
	}
	origin := originKey{u.scheme, u.host, u.port}
	apiBases, asBases := ix.apiBases[origin], ix.asBases[origin]
	if len(apiBases)+len(asBases) > 0 {
		var buf [8]string
		segs := splitSegments(u.path, ix.maxDepth, buf[:0])
		if c, found := longestPrefix(apiBases, segs); found {
			return c, true
		}
		if c, found := longestPrefix(asBases, segs); found {
			return c, true
		}
	}
	if c, found := ix.asHosts[u.host]; found {
		return c, true
	}
	if c, found := ix.apiHosts[u.host]; found {
		return c, true
	}
	return 0, false
}

func (ix *Index) orgOf(c claim) (string, bool) {
	if c < 0 || int(c) >= len(ix.orgs) {
		return "", false
	}
	return ix.orgs[c].id, true
}

// longestPrefix returns the claim of the longest prefix (list is longest first) whose segments
// start segs. found is true for an ambiguous claim too: it stops the search.
func longestPrefix(list []prefix, segs []string) (claim, bool) {
next:
	for _, p := range list {
		if len(p.segs) > len(segs) {
			continue
		}
		for i, s := range p.segs {
			if segs[i] != s {
				continue next
			}
		}
		return p.org, true
	}
	return 0, false
}

// splitSegments appends up to max non-empty path segments of p to buf. Dot segments are resolved
// first (allocating only for a path that has them).
func splitSegments(p string, max int, buf []string) []string {
	if hasDotSegment(p) {
		p = path.Clean("/" + p)
	}
	for len(p) > 0 && len(buf) < max {
		p = strings.TrimLeft(p, "/")
		if p == "" {
			break
		}
		i := strings.IndexByte(p, '/')
		if i < 0 {
			buf = append(buf, p)
			break
		}
		buf = append(buf, p[:i])
		p = p[i:]
	}
	return buf
}

// hasDotSegment reports whether p has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for i := 0; i < len(p); {
		j := strings.IndexByte(p[i:], '/')
		seg := p[i:]
		if j >= 0 {
			seg = p[i : i+j]
		}
		if seg == "." || seg == ".." {
			return true
		}
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

// builder collects claims while Parse reads the entries.
type builder struct {
	ix       *Index
	apiBases map[originKey]map[string]*prefix // origin → joined segments → prefix
	asBases  map[originKey]map[string]*prefix
	clients  map[string]struct{}
}

func newBuilder() *builder {
	return &builder{
		ix: &Index{
			byID:      make(map[string]claim),
			ids:       make(map[string]claim),
			asHosts:   make(map[string]claim),
			apiHosts:  make(map[string]claim),
			discovery: make(map[string]claim),
		},
		apiBases: make(map[originKey]map[string]*prefix),
		asBases:  make(map[originKey]map[string]*prefix),
		clients:  make(map[string]struct{}),
	}
}

// org returns the claim of an organisation, adding it on first sight.
func (b *builder) org(id, name string) claim {
	if c, ok := b.ix.byID[id]; ok {
		if b.ix.orgs[c].name == "" {
			b.ix.orgs[c].name = name
		}
		return c
	}
	c := claim(len(b.ix.orgs))
	b.ix.orgs = append(b.ix.orgs, orgInfo{id: id, name: name})
	b.ix.byID[id] = c
	addClaim(b.ix.ids, id, c)
	return c
}

// addClaim records that key belongs to c; a key claimed by two organisations becomes ambiguous.
func addClaim(m map[string]claim, key string, c claim) {
	if old, ok := m[key]; ok && old != c {
		c = ambiguous
	}
	m[key] = c
}

func (b *builder) addClient(id string, c claim) {
	k := idKey(id)
	if k == "" || len(k) > maxIDLen {
		return
	}
	addClaim(b.ix.ids, k, c)
	b.clients[k] = struct{}{}
}

// maxIDLen bounds identifiers and URLs read from the file (the schema allows 40 and 256).
const (
	maxIDLen  = 256
	maxURLLen = 2048
)

// addAPIEndpoint records an ApiEndpoint: its base (before the "open-banking" segment) and host.
func (b *builder) addAPIEndpoint(raw string, c claim) {
	u, ok := parseIndexURL(raw)
	if !ok {
		return
	}
	addClaim(b.ix.apiHosts, u.host, c)
	segs := splitSegments(u.path, maxBaseDepth+1, nil)
	for i, s := range segs {
		if strings.EqualFold(s, "open-banking") {
			addBase(b.apiBases, u, segs[:i], c)
			return
		}
	}
}

// addASURL records an OpenIDDiscoveryDocument or Issuer: its issuer base and host.
func (b *builder) addASURL(raw string, discovery bool, c claim) {
	u, ok := parseIndexURL(raw)
	if !ok {
		return
	}
	addClaim(b.ix.asHosts, u.host, c)
	segs := splitSegments(u.path, maxBaseDepth+3, nil)
	if !discovery {
		if len(segs) <= maxBaseDepth {
			addBase(b.asBases, u, segs, c)
		}
		return
	}
	for i, s := range segs {
		if s != ".well-known" {
			continue
		}
		if rest := segs[i+1:]; i == 0 && len(rest) > 1 { // RFC 8414: /.well-known/<name>/<issuer path>
			segs = rest[1:]
		} else {
			segs = segs[:i] // OpenID Connect Discovery: <issuer path>/.well-known/<name>
		}
		if len(segs) <= maxBaseDepth {
			addBase(b.asBases, u, segs, c)
		}
		return
	}
}

// maxBaseDepth bounds the segments of a base; deeper ones are left to the host rules.
const maxBaseDepth = 16

// addBase records segs under u's origin as a base of claim c; a base claimed by two
// organisations becomes ambiguous. segs is copied.
func addBase(bases map[originKey]map[string]*prefix, u parsedURL, segs []string, c claim) {
	if len(segs) > maxBaseDepth {
		return
	}
	origin := originKey{u.scheme, u.host, u.port}
	byPath := bases[origin]
	if byPath == nil {
		byPath = make(map[string]*prefix)
		bases[origin] = byPath
	}
	k := strings.Join(segs, "/")
	if p, ok := byPath[k]; ok {
		if p.org != c {
			p.org = ambiguous
		}
		return
	}
	byPath[k] = &prefix{segs: append([]string(nil), segs...), org: c}
}

// finish freezes the collected claims into the Index.
func (b *builder) finish() *Index {
	ix := b.ix
	ix.apiBases, ix.stats.APIBases = b.freeze(b.apiBases)
	ix.asBases, _ = b.freeze(b.asBases)
	ix.stats.Organisations = len(ix.orgs)
	ix.stats.Clients = len(b.clients)
	for _, m := range []map[string]claim{ix.ids, ix.asHosts, ix.apiHosts} {
		for _, c := range m {
			if c == ambiguous {
				ix.stats.Ambiguous++
			}
		}
	}
	return ix
}

func (b *builder) freeze(in map[originKey]map[string]*prefix) (map[originKey][]prefix, int) {
	out := make(map[originKey][]prefix, len(in))
	n := 0
	for origin, byPath := range in {
		list := make([]prefix, 0, len(byPath))
		for _, p := range byPath {
			list = append(list, *p)
			if p.org == ambiguous {
				b.ix.stats.Ambiguous++
			}
			b.ix.maxDepth = max(b.ix.maxDepth, len(p.segs))
		}
		sort.Slice(list, func(i, j int) bool {
			if len(list[i].segs) != len(list[j].segs) {
				return len(list[i].segs) > len(list[j].segs)
			}
			return strings.Join(list[i].segs, "/") < strings.Join(list[j].segs, "/")
		})
		out[origin] = list
		n += len(list)
	}
	return out, n
}

// idKey normalises an identifier: trimmed; a UUID in lower case (identifiers other than UUIDs,
// such as opaque client_ids, are compared exactly).
func idKey(s string) string {
	s = strings.TrimSpace(s)
	if isUUID(s) {
		return lowerASCII(s)
	}
	return s
}

// isUUID reports whether s is 8-4-4-4-12 hexadecimal digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// validOrgID reports whether s is a UUID other than the nil UUID (PCM rejects that one).
func validOrgID(s string) bool {
	return isUUID(s) && s != "00000000-0000-0000-0000-000000000000"
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// lowerASCII lower-cases ASCII letters, allocating only when s has an upper-case one.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// addDiscovery records the discovery document URL of an authorisation server, for the mTLS
// alias fetcher. The URL is kept as written (trimmed): it is what will be fetched.
func (b *builder) addDiscovery(raw string, c claim) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURLLen {
		return
	}
	addClaim(b.ix.discovery, raw, c)
}
