package mapping

import (
	"encoding/hex"
	"errors"
	"maps"
	"math"
	"slices"
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
	// Counterparts, if set, is asked last, when neither an attribute nor Hosts names the
	// counterpart (e.g. the Open Finance Brasil Directory). Implementations must be safe for
	// concurrent use and must not block.
	Counterparts CounterpartResolver
}

// CounterpartResolver finds the other institution of a call.
type CounterpartResolver interface {
	// ServerOrg returns the OrganisationId serving rawURL (CLIENT spans), "" if unknown.
	ServerOrg(rawURL string) string
	// ClientOrg returns the OrganisationId of a caller identified by its OAuth client_id,
	// software statement id or OrganisationId (SERVER spans), "" if unknown.
	ClientOrg(callerID string) string
}

// PendingResolver is a CounterpartResolver that may learn later what it does not know yet (a
// Directory still loading its participants or its authorisation servers' discovery documents).
// A call to a security endpoint whose counterpart it cannot name now, but may, is then kept as
// a report with Result.CounterpartQuery set — for the caller to ask again later — instead of
// being skipped as SkipUnknownCounterpart.
type PendingResolver interface {
	CounterpartResolver
	// ServerOrgPending reports whether ServerOrg(rawURL) may still change from "".
	ServerOrgPending(rawURL string) bool
	// ClientOrgPending reports whether ClientOrg(callerID) may still change from "".
	ClientOrgPending(callerID string) bool
}

// Mapper turns spans into reports. It is immutable after NewMapper and safe for concurrent use.
// The zero Mapper maps nothing; use NewMapper.
type Mapper struct {
	orgID    string
	ssID     string
	names    AttributeNames
	catalog  *Catalog
	rules    securityRules
	hosts    map[string]hostOrgs // lower-case host → orgs
	resolver CounterpartResolver
	// nameLens has bit len%64 set for every configured attribute name: a pre-filter that rejects
	// most keys of the attribute pass without a string comparison.
	nameLens uint64
}

// NewMapper validates cfg and builds a Mapper. The error names each bad security rule or hosts
// entry.
func NewMapper(cfg Config) (*Mapper, error) {
	m := &Mapper{
		orgID:    cfg.OrgID,
		ssID:     cfg.SoftwareStatementID,
		names:    cfg.Attributes.withDefaults(),
		catalog:  cfg.Catalog,
		hosts:    make(map[string]hostOrgs),
		resolver: cfg.Counterparts,
	}
	if m.catalog == nil {
		m.catalog = DefaultCatalog()
	}
	for _, name := range append([]string{m.names.ServerOrgID, m.names.ClientOrgID, m.names.ClientSSID, m.names.CorrelationID, m.names.CallerID},
		m.names.InteractionID...) {
		m.nameLens |= 1 << (len(name) & 63)
	}
	// The built-in interaction-id header spellings (interactionHeaderSide) are always scanned.
	m.nameLens |= 1<<(len(requestHeaderPrefix)+len(interactionHeader)) | 1<<(len(responseHeaderPrefix)+len(interactionHeader))
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
		h := m.hosts[host]
		if port == 0 {
			h.any = org
		} else {
			h.ports = append(h.ports, portOrg{port, org})
		}
		m.hosts[host] = h
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// serverOrgPending and clientOrgPending report whether the resolver may still name the
// counterpart it was asked for (query, "" when it was not asked).
func (m *Mapper) serverOrgPending(query string) bool {
	p, ok := m.resolver.(PendingResolver)
	return ok && query != "" && p.ServerOrgPending(query)
}

func (m *Mapper) clientOrgPending(query string) bool {
	p, ok := m.resolver.(PendingResolver)
	return ok && query != "" && p.ClientOrgPending(query)
}

func skipped(r SkipReason) Result { return Result{Outcome: OutcomeSkipped, SkipReason: r} }

// Map fills out from one span (resource attributes are a fallback for pcm.* attributes such as
// pcm.client_ss_id). It never panics, does no I/O and allocates only what it must: strings are
// references into the span and the catalog, out.AdditionalInfo's backing array is reused, and
// the correlationId taken from the trace id is the only allocation of a typical CLIENT span
// (converting an additionalInfo value allocates too, but that is the exception).
// For OutcomeSkipped the contents of out are unspecified.
//
// Optional values PCM would reject are corrected rather than allowed to sink the report, and
// each correction is listed in Result.Fixes: additionalInfo values converted to their declared
// type or dropped, a correlationId outside PCM's pattern replaced by the trace id.
//
// Checks run in this order, so each skipped span is counted once under the most telling reason:
// span kind (span_kind), an HTTP method attribute (not_http), the path (not_open_finance: a
// HEAD /healthz is not Open Finance), the method enum (method: an OPTIONS on an Open Finance path),
// the template's list (opendata_client), the status (no_status, or 408 for a
// client timeout or cancellation, see endedByTimeout) and, for security endpoints, the
// counterpart (unknown_counterpart).
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
	var named namedAttrs
	for k, v := range spanAttrMap.All() {
		a.set(k, v)
		if m.nameLens&(1<<(len(k)&63)) != 0 { // inlined pre-filter: most keys stop here
			m.scanNamed(k, v, &named)
		}
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
	case res.kind == resMatched && res.class == ClassOpendata && role == RoleClient:
		return skipped(SkipOpendataClient)
	}

	status, ok := a.statusCode()
	if !ok || status < 200 {
		// Decision 2/18: no (final) response. A client that gave up reports 408 with the time it
		// waited; anything else without a status cannot be reported.
		if role != RoleClient || !endedByTimeout(span, &a, a.status.ok || a.statusLegacy.ok) {
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

	// One pass over the resource: the fallback for pcm.* attributes and its additionalInfo keys.
	var fromResource namedAttrs
	if resource != (pcommon.Resource{}) {
		for k, v := range resource.Attributes().All() {
			if m.nameLens&(1<<(len(k)&63)) != 0 {
				m.scanNamed(k, v, &fromResource)
			}
			if len(k) > len(prefix) && k[:len(prefix)] == prefix {
				out.AdditionalInfo = appendInfo(out.AdditionalInfo, k[len(prefix):], v)
			}
		}
	}

	if res.kind == resMatched && res.class == ClassOpendata {
		out.API = APIOpendata
		out.ClientIP = firstStr(a.clientAddr, a.clientIPLgcy)
		result := Result{Outcome: OutcomeReport}
		keepOnlyClientIP(out, &result)
		return result
	}

	out.API = APIPrivate
	portability := res.kind == resMatched && res.class == ClassCreditPortability
	if portability {
		out.API = APICreditPortability
		out.CreditPortability = readCreditPortability(span)
	}
	out.Role = role
	var fixes Fixes
	var query string // Result.CounterpartQuery
	out.FapiInteractionID = m.interactionID(&named, spanAttrMap)
	security := res.kind == resMatched && res.class == ClassSecurity
	if role == RoleClient {
		out.ClientOrgID = m.orgID
		out.ServerOrgID = pickPlain(named.serverOrg, fromResource.serverOrg)
		if out.ServerOrgID == "" {
			out.ServerOrgID = m.hostOrg(&a, &u, haveURL)
		}
		if out.ServerOrgID == "" && m.resolver != nil && haveURL {
			if out.ServerOrgID = m.resolver.ServerOrg(u.raw); out.ServerOrgID == "" {
				query = u.raw
			}
		}
		if security && out.ServerOrgID == "" && !m.serverOrgPending(query) {
			return skipped(SkipUnknownCounterpart)
		}
		out.ClientSSID = pickPlain(named.ssID, fromResource.ssID)
		if out.ClientSSID == "" {
			out.ClientSSID = m.ssID
		}
		out.EndpointURIPrefix = endpointURIPrefix(&res, &u, haveURL, &a, security)
		out.CorrelationID = pickPlain(named.corr, fromResource.corr)
		if out.CorrelationID != "" && !validCorrelationID(out.CorrelationID) {
			// An optional field must not sink the report: the trace id is the default anyway.
			out.CorrelationID = ""
			fixes.add(FixCorrelationIDReplaced)
		}
		if out.CorrelationID == "" {
			out.CorrelationID = traceHex(span.TraceID())
		}
	} else {
		out.ClientOrgID = pickPlain(named.clientOrg, fromResource.clientOrg)
		if out.ClientOrgID == "" && m.resolver != nil {
			if caller := pickPlain(named.callerID, fromResource.callerID); caller != "" {
				if out.ClientOrgID = m.resolver.ClientOrg(caller); out.ClientOrgID == "" {
					query = caller
				}
			}
		}
		out.ServerOrgID = m.orgID
		if security && out.ClientOrgID == "" && !m.clientOrgPending(query) {
			return skipped(SkipUnknownCounterpart)
		}
	}
	result := Result{Outcome: OutcomeReport, Fixes: fixes, CounterpartQuery: query}
	if res.kind == resUnlisted {
		result.Outcome = OutcomeUnlisted
	}
	if portability {
		// The credit-portability API has no additionalInfo (docs/pcm-rules.md §12.1).
		clear(out.AdditionalInfo)
		out.AdditionalInfo = out.AdditionalInfo[:0]
		return result
	}
	out.AdditionalInfo = normalizeInfo(out.AdditionalInfo, &result)
	return result
}

// validCorrelationID checks PCM's correlationId pattern ^[- /:_.',0-9a-zA-Z]{0,100}$
// (docs/pcm-rules.md §5.4).
func validCorrelationID(s string) bool {
	return len(s) <= maxCorrelationID && isPCMText(s)
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
