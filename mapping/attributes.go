package mapping

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// AttributeNames lists every span attribute name the mapper reads beyond the HTTP semantic
// conventions; all of them are configurable. Zero-value fields take the defaults of
// DefaultAttributeNames.
type AttributeNames struct {
	// InteractionID lists extra attributes holding the x-fapi-interaction-id, tried first, in
	// order (first valid wins). The captured request and response headers are always read, in
	// every spelling instrumentations emit (see interactionHeaderSide), so the default list only
	// names them for documentation.
	InteractionID        []string // default: http.request.header.x-fapi-interaction-id, http.response.header.x-fapi-interaction-id
	ServerOrgID          string   // default pcm.server_org_id
	ClientOrgID          string   // default pcm.client_org_id
	ClientSSID           string   // default pcm.client_ss_id
	CorrelationID        string   // default pcm.correlation_id
	AdditionalInfoPrefix string   // default "pcm.additional_info."
	// CallerID holds, on SERVER spans, the caller's OAuth client_id, software statement id or
	// OrganisationId, for Config.Counterparts to resolve. Default pcm.caller_id.
	CallerID string
}

// DefaultAttributeNames returns the default attribute names.
func DefaultAttributeNames() AttributeNames {
	return AttributeNames{
		InteractionID: []string{
			"http.request.header.x-fapi-interaction-id",
			"http.response.header.x-fapi-interaction-id",
		},
		ServerOrgID:          "pcm.server_org_id",
		ClientOrgID:          "pcm.client_org_id",
		ClientSSID:           "pcm.client_ss_id",
		CorrelationID:        "pcm.correlation_id",
		AdditionalInfoPrefix: "pcm.additional_info.",
		CallerID:             "pcm.caller_id",
	}
}

// withDefaults fills empty fields. Its InteractionID keeps only the configured names that the
// built-in spellings do not already cover (see interactionHeaderSide): those are always read,
// request before response (Decision 3), so listing them again would only change that order.
func (n AttributeNames) withDefaults() AttributeNames {
	d := DefaultAttributeNames()
	d.InteractionID = nil
	for _, name := range n.InteractionID {
		if name != "" && interactionHeaderSide(name) == sideNone {
			d.InteractionID = append(d.InteractionID, name)
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&d.ServerOrgID, n.ServerOrgID},
		{&d.ClientOrgID, n.ClientOrgID},
		{&d.ClientSSID, n.ClientSSID},
		{&d.CorrelationID, n.CorrelationID},
		{&d.AdditionalInfoPrefix, n.AdditionalInfoPrefix},
		{&d.CallerID, n.CallerID},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	return d
}

// Semantic-convention attribute names, stable first and legacy (semconv ≤ 1.20) second.
const (
	attrMethod          = "http.request.method"
	attrMethodLegacy    = "http.method"
	attrStatus          = "http.response.status_code"
	attrStatusLegacy    = "http.status_code"
	attrURLFull         = "url.full"
	attrURLFullLegacy   = "http.url"
	attrScheme          = "url.scheme"
	attrSchemeLegacy    = "http.scheme"
	attrServerAddr      = "server.address"
	attrServerPort      = "server.port"
	attrPeerName        = "net.peer.name"
	attrPeerPort        = "net.peer.port"
	attrURLPath         = "url.path"
	attrTarget          = "http.target"
	attrRoute           = "http.route"
	attrClientAddr      = "client.address"
	attrClientIPLegacy  = "http.client_ip"
	attrErrorType       = "error.type"
	attrExceptionType   = "exception.type"
	attrExceptionMsg    = "exception.message"
	eventNameException  = "exception"
	methodOther         = "_OTHER"
	additionalClientIP  = "clientIp"
	additionalConsentID = "consentId"
)

// attr is an optional attribute value: pdata's zero Value panics on Type(), so presence is kept
// next to it.
type attr struct {
	v  pcommon.Value
	ok bool
}

// spanAttrs holds the semantic-convention attributes of one span, collected in a single pass
// over the attribute map (a pcommon.Map lookup is a linear scan, so one pass beats a dozen Gets).
type spanAttrs struct {
	method, methodLegacy     attr
	status, statusLegacy     attr
	urlFull, urlFullLegacy   attr
	scheme, schemeLegacy     attr
	serverAddr, serverPort   attr
	peerName, peerPort       attr
	urlPath, target, route   attr
	clientAddr, clientIPLgcy attr
	errorType                attr
}

func (a *spanAttrs) set(k string, v pcommon.Value) {
	var dst *attr
	switch k {
	case attrMethod:
		dst = &a.method
	case attrMethodLegacy:
		dst = &a.methodLegacy
	case attrStatus:
		dst = &a.status
	case attrStatusLegacy:
		dst = &a.statusLegacy
	case attrURLFull:
		dst = &a.urlFull
	case attrURLFullLegacy:
		dst = &a.urlFullLegacy
	case attrScheme:
		dst = &a.scheme
	case attrSchemeLegacy:
		dst = &a.schemeLegacy
	case attrServerAddr:
		dst = &a.serverAddr
	case attrServerPort:
		dst = &a.serverPort
	case attrPeerName:
		dst = &a.peerName
	case attrPeerPort:
		dst = &a.peerPort
	case attrURLPath:
		dst = &a.urlPath
	case attrTarget:
		dst = &a.target
	case attrRoute:
		dst = &a.route
	case attrClientAddr:
		dst = &a.clientAddr
	case attrClientIPLegacy:
		dst = &a.clientIPLgcy
	case attrErrorType:
		dst = &a.errorType
	default:
		return
	}
	dst.setOnce(v)
}

// setOnce records v unless a value is already there: the first occurrence wins, as with
// pcommon.Map.Get (maps decoded from raw protobuf may repeat a key).
func (a *attr) setOnce(v pcommon.Value) {
	if !a.ok {
		*a = attr{v: v, ok: true}
	}
}

// str returns a string attribute, "" for absent or non-string values.
func (a attr) str() string {
	if !a.ok {
		return ""
	}
	return a.v.Str() // "" for other types
}

// firstStr returns the first non-empty string of a, b.
func firstStr(a, b attr) string {
	if s := a.str(); s != "" {
		return s
	}
	return b.str()
}

// intValue reads an integer attribute: an int, a string holding an int (some SDKs and
// processors stringify), or an integral double (JSON round-trips).
func (a attr) intValue() (int64, bool) {
	if !a.ok {
		return 0, false
	}
	switch a.v.Type() {
	case pcommon.ValueTypeInt:
		return a.v.Int(), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(strings.TrimSpace(a.v.Str()), 10, 64)
		return n, err == nil
	case pcommon.ValueTypeDouble:
		f := a.v.Double()
		if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), true
		}
	}
	return 0, false
}

// plainValue reads a configured pcm.* attribute: a string as is, the first non-empty string of
// an array (e.g. a captured header), or the text of a scalar; maps and bytes count as absent.
func plainValue(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if e := s.At(i); e.Type() == pcommon.ValueTypeStr && e.Str() != "" {
				return e.Str()
			}
		}
	case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
		return v.AsString() // wrong type: keep the text so Validate names the field
	}
	return ""
}

// maxScannedIDs interaction-id names are collected in the attribute pass; further names (an
// unusual configuration) are looked up with Get.
const maxScannedIDs = 4

// namedAttrs holds the configured (non-semconv) attributes found in one pass over a map.
type namedAttrs struct {
	ids                              [maxScannedIDs]attr
	serverOrg, clientOrg, ssID, corr attr
	callerID                         attr
	headers                          [2]idCandidate // built-in spellings: request, response
}

// scanNamed records k if it is one of the configured attribute names. Callers first test
// nameLens, which rejects most keys by their length alone.
func (m *Mapper) scanNamed(k string, v pcommon.Value, n *namedAttrs) {
	if side := interactionHeaderSide(k); side != sideNone {
		n.headers[side-1].add(v)
	}
	for i, name := range m.names.InteractionID {
		if i == maxScannedIDs {
			break
		}
		if k == name {
			n.ids[i].setOnce(v)
		}
	}
	// Not a switch: one attribute may serve several roles (e.g. a single "counterpart org"
	// attribute configured as both ServerOrgID and ClientOrgID).
	if k == m.names.ServerOrgID {
		n.serverOrg.setOnce(v)
	}
	if k == m.names.ClientOrgID {
		n.clientOrg.setOnce(v)
	}
	if k == m.names.ClientSSID {
		n.ssID.setOnce(v)
	}
	if k == m.names.CorrelationID {
		n.corr.setOnce(v)
	}
	if k == m.names.CallerID {
		n.callerID.setOnce(v)
	}
}

// pickPlain returns the span's value of a configured pcm.* attribute, else the resource's.
func pickPlain(span, resource attr) string {
	if span.ok {
		if s := plainValue(span.v); s != "" {
			return s
		}
	}
	if resource.ok {
		return plainValue(resource.v)
	}
	return ""
}
