package mapping

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Config configures a Mapper. Only OrgID and SoftwareStatementID are needed in practice; every
// other field has a default.
type Config struct {
	OrgID               string            // our OrganisationId
	SoftwareStatementID string            // our clientSSId
	Attributes          AttributeNames    // zero value fields → defaults
	Hosts               map[string]string // counterpart host (with or without :port) → OrganisationId, for CLIENT spans
	SecurityRules       map[string]string // extra/overriding rules, merged over DefaultSecurityRules(); keys must start with "/", values must be one of the 6 security templates
	Catalog             *Catalog          // nil → DefaultCatalog()
}

// Mapper turns spans into reports. It is immutable after NewMapper and safe for concurrent use.
// The zero Mapper maps nothing; use NewMapper.
type Mapper struct {
	orgID    string
	ssID     string
	names    AttributeNames
	catalog  *Catalog
	rules    securityRules
	hostOnly map[string]string  // lower-case host → org
	hostPort map[hostKey]string // lower-case host + port → org
}

type hostKey struct {
	host string
	port int
}

// NewMapper validates cfg and builds a Mapper. The error names each bad security rule or hosts
// entry.
func NewMapper(cfg Config) (*Mapper, error) {
	m := &Mapper{
		orgID:    cfg.OrgID,
		ssID:     cfg.SoftwareStatementID,
		names:    cfg.Attributes.withDefaults(),
		catalog:  cfg.Catalog,
		hostOnly: make(map[string]string),
		hostPort: make(map[hostKey]string),
	}
	if m.catalog == nil {
		m.catalog = DefaultCatalog()
	}
	var errs []error
	rules, err := compileSecurityRules(cfg.SecurityRules, m.catalog)
	if err != nil {
		errs = append(errs, err)
	}
	m.rules = rules
	for _, raw := range slices.Sorted(maps.Keys(cfg.Hosts)) {
		host, port, err := parseHostsKey(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		org := strings.TrimSpace(cfg.Hosts[raw])
		if port == 0 {
			m.hostOnly[host] = org
		} else {
			m.hostPort[hostKey{host, port}] = org
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
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

func skipped(r SkipReason) Result { return Result{Outcome: OutcomeSkipped, SkipReason: r} }

// Map fills out from one span (resource attributes are a fallback for pcm.* attributes such as
// pcm.client_ss_id). It never panics, does no I/O and allocates only what it must: strings are
// references into the span and the catalog, out.AdditionalInfo's backing array is reused, and
// the correlationId taken from the trace id is the only allocation of a typical CLIENT span.
// For OutcomeSkipped the contents of out are unspecified.
func (m *Mapper) Map(resource pcommon.Resource, span ptrace.Span, out *Report) Result {
	if out == nil {
		out = new(Report)
	}
	info := out.AdditionalInfo
	clear(info) // drop references to the previous span's values
	*out = Report{AdditionalInfo: info[:0]}
	if m == nil || m.catalog == nil || span == (ptrace.Span{}) {
		return skipped(SkipNotOpenFinance)
	}

	var role Role
	switch span.Kind() {
	case ptrace.SpanKindClient:
		role = RoleClient
	case ptrace.SpanKindServer:
		role = RoleServer
	default:
		return skipped(SkipSpanKind)
	}

	spanAttrMap := span.Attributes()
	prefix := m.names.AdditionalInfoPrefix
	var a spanAttrs
	for k, v := range spanAttrMap.All() {
		a.set(k, v)
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			out.AdditionalInfo = appendInfo(out.AdditionalInfo, k[len(prefix):], v)
		}
	}

	method := firstStr(a.method, a.methodLegacy)
	if method == "" {
		return skipped(SkipNotHTTP)
	}

	var u urlParts
	haveURL := false
	var res resolution
	if role == RoleClient {
		if raw := firstStr(a.urlFull, a.urlFullLegacy); raw != "" {
			u, haveURL = parseURL(raw), true
			res = m.resolve(u.path)
		} else {
			res = m.resolve(requestPath(a.urlPath, a.target))
		}
	} else {
		res = m.resolveServer(&a)
	}
	if res.kind == resNone {
		return skipped(SkipNotOpenFinance)
	}

	canonical := canonicalMethod(method)
	if canonical == "" {
		return skipped(SkipMethod)
	}
	switch {
	case res.kind == resMatched && res.class == ClassCreditPortability:
		return skipped(SkipCreditPortability)
	case res.kind == resMatched && res.class == ClassOpendata && role == RoleClient:
		return skipped(SkipOpendataClient)
	}

	status, ok := a.statusCode()
	if !ok || status < 200 {
		// Decision 2/18: no (final) response. A client that gave up reports 408 with the time it
		// waited; anything else without a status cannot be reported.
		if role != RoleClient || !endedByTimeout(span, &a) {
			return skipped(SkipNoStatus)
		}
		status = statusTimeout
	}

	out.StatusCode = status
	out.HTTPMethod = canonical
	out.Timestamp, out.ProcessTimespan = spanTimes(uint64(span.StartTimestamp()), uint64(span.EndTimestamp()))
	if res.kind == resMatched {
		out.Endpoint = res.template
	} else {
		out.Endpoint = res.reduced // unlisted: the concrete path, for the dead letter
	}

	hasResource := resource != (pcommon.Resource{})
	var resourceAttrs pcommon.Map
	if hasResource {
		resourceAttrs = resource.Attributes()
	}

	if res.kind == resMatched && res.class == ClassOpendata {
		out.API = APIOpendata
		out.ClientIP = firstStr(a.clientAddr, a.clientIPLgcy)
		m.appendResourceInfo(out, resourceAttrs, hasResource)
		m.finishOpendataInfo(out)
		return Result{Outcome: OutcomeReport}
	}

	out.API = APIPrivate
	out.Role = role
	out.FapiInteractionID = m.interactionID(spanAttrMap)
	security := res.kind == resMatched && res.class == ClassSecurity
	if role == RoleClient {
		out.ClientOrgID = m.orgID
		out.ServerOrgID = lookupPlain(spanAttrMap, resourceAttrs, hasResource, m.names.ServerOrgID)
		if out.ServerOrgID == "" {
			out.ServerOrgID = m.hostOrg(&a, &u, haveURL)
		}
		if security && out.ServerOrgID == "" {
			return skipped(SkipUnknownCounterpart)
		}
		out.ClientSSID = lookupPlain(spanAttrMap, resourceAttrs, hasResource, m.names.ClientSSID)
		if out.ClientSSID == "" {
			out.ClientSSID = m.ssID
		}
		out.EndpointURIPrefix = endpointURIPrefix(&res, &u, haveURL, &a, security)
		out.CorrelationID = lookupPlain(spanAttrMap, resourceAttrs, hasResource, m.names.CorrelationID)
		if out.CorrelationID == "" {
			out.CorrelationID = traceHex(span.TraceID())
		}
	} else {
		out.ClientOrgID = lookupPlain(spanAttrMap, resourceAttrs, hasResource, m.names.ClientOrgID)
		out.ServerOrgID = m.orgID
		if security && out.ClientOrgID == "" {
			return skipped(SkipUnknownCounterpart)
		}
	}
	m.appendResourceInfo(out, resourceAttrs, hasResource)
	if res.kind == resUnlisted {
		return Result{Outcome: OutcomeUnlisted}
	}
	return Result{Outcome: OutcomeReport}
}

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

// resolve maps a URL path to a template: Open Finance paths (from their first /open-banking/
// segment) against the catalog, other paths against the catalog's bare templates and then the
// security rules.
func (m *Mapper) resolve(path string) resolution {
	p := cleanPath(path)
	if p == "" || p[0] != '/' {
		return resolution{obIndex: -1}
	}
	if i := strings.Index(p, obSegment); i >= 0 {
		reduced := p[i:]
		if t, c, ok := m.catalog.lookupClean(reduced); ok {
			return resolution{kind: resMatched, template: t, class: c, reduced: reduced, obIndex: i}
		}
		return resolution{kind: resUnlisted, reduced: reduced, obIndex: i}
	}
	if t, c, ok := m.catalog.lookupClean(p); ok {
		return resolution{kind: resMatched, template: t, class: c, reduced: p, obIndex: -1}
	}
	if t, ok := m.rules.match(p); ok {
		return resolution{kind: resMatched, template: t, class: ClassSecurity, reduced: p, obIndex: -1}
	}
	return resolution{obIndex: -1}
}

// resolveServer prefers http.route when it matches a template (frameworks that set it already
// did the templating), and otherwise matches the concrete request path, which is what most
// instrumentations give (no http.route without a web framework).
func (m *Mapper) resolveServer(a *spanAttrs) resolution {
	var byRoute resolution
	if route := a.route.str(); route != "" {
		byRoute = m.resolve(reduceRoute(route))
		if byRoute.kind == resMatched {
			return byRoute
		}
	}
	path := requestPath(a.urlPath, a.target)
	if path == "" {
		if raw := firstStr(a.urlFull, a.urlFullLegacy); raw != "" {
			path = parseURL(raw).path
		}
	}
	if path == "" {
		return byRoute
	}
	byPath := m.resolve(path)
	if byPath.kind == resNone && byRoute.kind == resUnlisted {
		return byRoute
	}
	return byPath
}

// requestPath returns url.path, else the path of the legacy http.target (which carries the query,
// and in proxies may be an absolute URL).
func requestPath(urlPath, target attr) string {
	if p := urlPath.str(); p != "" {
		return p
	}
	t := target.str()
	if t == "" || strings.HasPrefix(t, "/") {
		return pathOnly(t)
	}
	return parseURL(t).path
}

// canonicalMethod returns PCM's spelling of an accepted method, "" for any other (HEAD, OPTIONS,
// _OTHER, …). It returns constants, so lower-case input costs no allocation.
func canonicalMethod(s string) string {
	for _, m := range [...]string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
		if len(s) == len(m) && (s == m || strings.EqualFold(s, m)) {
			return m
		}
	}
	return ""
}

// spanTimes returns the span start in UTC and the duration in whole milliseconds rounded up,
// at least 1 (Decision 4: PCM discards 0, and an end before the start is clock noise).
func spanTimes(start, end uint64) (time.Time, int64) {
	ts := time.Unix(0, int64(min(start, math.MaxInt64))).UTC()
	if end <= start {
		return ts, 1
	}
	d := end - start
	ms := d / uint64(time.Millisecond)
	if d%uint64(time.Millisecond) != 0 {
		ms++
	}
	return ts, int64(min(ms, math.MaxInt64))
}

// interactionID returns the first configured header whose value is a valid, non-zero UUID. When
// none is valid it keeps the first value present so that Validate names the problem; it never
// invents one. The all-zero UUID is a "no id" placeholder of some gateways and counts as absent.
func (m *Mapper) interactionID(attrs pcommon.Map) string {
	first := ""
	for _, name := range m.names.InteractionID {
		v, ok := attrs.Get(name)
		if !ok {
			continue
		}
		s := headerValue(v)
		valid, zero := uuidKind(s)
		if s == "" || zero {
			continue
		}
		if valid {
			return s
		}
		if first == "" {
			first = s
		}
	}
	return first
}

// hostOrg resolves the counterpart of a CLIENT span from Config.Hosts: host:port first, then the
// host alone. The host comes from the URL, else from server.address / net.peer.name; the port
// from the URL, else server.port / net.peer.port, else the scheme's default.
func (m *Mapper) hostOrg(a *spanAttrs, u *urlParts, haveURL bool) string {
	if len(m.hostOnly) == 0 && len(m.hostPort) == 0 {
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
	host = lowerASCII(host)
	if port != 0 {
		if org, ok := m.hostPort[hostKey{host, port}]; ok {
			return org
		}
	}
	return m.hostOnly[host]
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

// endpointURIPrefix (Decision 16): the URL up to, not including, the first /open-banking (no
// slash added); for security endpoints the full URL without query or fragment. Without url.full
// the URL is rebuilt from url.scheme/server.address/server.port (legacy http.scheme/net.peer.*).
func endpointURIPrefix(res *resolution, u *urlParts, haveURL bool, a *spanAttrs, security bool) string {
	if haveURL {
		if security || res.obIndex < 0 {
			return u.upTo(len(u.path))
		}
		return u.upTo(res.obIndex)
	}
	base := builtURLBase(a)
	if base == "" {
		return ""
	}
	path := pathOnly(requestPath(a.urlPath, a.target))
	if !security && res.obIndex >= 0 {
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

// traceHex is the trace id as 32 lower-case hex digits (the default correlationId); "" for an
// empty trace id.
func traceHex(id pcommon.TraceID) string {
	if id.IsEmpty() {
		return ""
	}
	var buf [32]byte
	hex.Encode(buf[:], id[:])
	return string(buf[:])
}

// appendInfo adds one additionalInfo key unless it is already there (the first occurrence wins:
// span before resource, and pdata maps decoded from raw protobuf may repeat a key).
func appendInfo(info []AdditionalField, key string, v pcommon.Value) []AdditionalField {
	for i := range info {
		if info[i].Key == key {
			return info
		}
	}
	return append(info, AdditionalField{Key: key, Value: v})
}

// appendResourceInfo adds the resource's additionalInfo attributes; span attributes win.
func (m *Mapper) appendResourceInfo(out *Report, resourceAttrs pcommon.Map, hasResource bool) {
	if !hasResource {
		return
	}
	prefix := m.names.AdditionalInfoPrefix
	for k, v := range resourceAttrs.All() {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			out.AdditionalInfo = appendInfo(out.AdditionalInfo, k[len(prefix):], v)
		}
	}
}

// finishOpendataInfo applies Decision 17: opendata additionalInfo is {"clientIp": …} plus the
// configured keys, never tokenId (removed from open data in release 2026B). A string clientIp
// attribute overrides client.address (e.g. the real caller behind a load balancer).
func (m *Mapper) finishOpendataInfo(out *Report) {
	info := out.AdditionalInfo[:0]
	for _, f := range out.AdditionalInfo {
		switch {
		case f.Key == additionalTokenID:
			continue
		case f.Key == additionalClientIP && f.Value.Type() == pcommon.ValueTypeStr:
			out.ClientIP = f.Value.Str()
			continue
		}
		info = append(info, f)
	}
	clear(out.AdditionalInfo[len(info):])
	out.AdditionalInfo = info
}
