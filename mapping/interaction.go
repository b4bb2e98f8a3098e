package mapping

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The x-fapi-interaction-id as instrumentations capture it. Semconv names a captured header
// http.request.header.<name> / http.response.header.<name> with the name in lower case, but real
// instrumentations differ: Python (opentelemetry-util-http), the Java agent 1.x and Node
// instrumentation-http with the old conventions turn '-' into '_'; Go's semconv helpers keep the
// case the caller passed (e.g. http.CanonicalHeaderKey's X-Fapi-Interaction-Id). All of them are
// recognised without configuration.
const (
	requestHeaderPrefix  = "http.request.header."
	responseHeaderPrefix = "http.response.header."
	interactionHeader    = "x-fapi-interaction-id"
)

type headerSide uint8

const (
	sideNone headerSide = iota
	sideRequest
	sideResponse
)

// interactionHeaderSide tells whether attribute key k is a captured x-fapi-interaction-id
// header, in any case and with '-' or '_' between the words, and on which side.
func interactionHeaderSide(k string) headerSide {
	switch len(k) {
	case len(requestHeaderPrefix) + len(interactionHeader):
		if hasPrefixFold(k, requestHeaderPrefix) && isInteractionName(k[len(requestHeaderPrefix):]) {
			return sideRequest
		}
	case len(responseHeaderPrefix) + len(interactionHeader):
		if hasPrefixFold(k, responseHeaderPrefix) && isInteractionName(k[len(responseHeaderPrefix):]) {
			return sideResponse
		}
	}
	return sideNone
}

// hasPrefixFold: the exact comparison first, it is what semconv-conforming SDKs send.
func hasPrefixFold(k, prefix string) bool {
	return k[:len(prefix)] == prefix || strings.EqualFold(k[:len(prefix)], prefix)
}

// isInteractionName compares s with "x-fapi-interaction-id" ignoring ASCII case and accepting
// '_' for '-'.
func isInteractionName(s string) bool {
	if s == interactionHeader {
		return true
	}
	for i := 0; i < len(interactionHeader); i++ {
		c, w := s[i], interactionHeader[i]
		switch {
		case w == '-':
			if c != '-' && c != '_' {
				return false
			}
		case c != w && c+('a'-'A') != w:
			return false
		}
	}
	return true
}

// idCandidate holds one side's captured headers, the first two spellings seen (a span carries one
// in practice; two covers an SDK plus a processor adding another). They are only read when
// needed: a valid request header spares the response header's check.
type idCandidate struct {
	vals [2]attr
}

func (c *idCandidate) add(v pcommon.Value) {
	for i := range c.vals {
		if !c.vals[i].ok {
			c.vals[i] = attr{v: v, ok: true}
			return
		}
	}
}

// value returns the first valid, non-zero UUID of the side and the first non-empty value.
func (c *idCandidate) value() (valid, first string) {
	for i := range c.vals {
		if !c.vals[i].ok {
			break
		}
		v, f := interactionValue(c.vals[i].v)
		if v != "" {
			return v, v
		}
		if first == "" {
			first = f
		}
	}
	return "", first
}

// interactionValue reads a captured header: a string or a string array (semconv; .NET sends a
// string for one value and an array for several), each possibly a comma-joined list of repeated
// values. It returns the first valid, non-zero UUID and the first non-empty value. The all-zero
// UUID is a "no id" placeholder of some gateways and counts as absent.
func interactionValue(v pcommon.Value) (valid, first string) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return interactionParts(v.Str(), "")
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if e := s.At(i); e.Type() == pcommon.ValueTypeStr {
				if valid, first = interactionParts(e.Str(), first); valid != "" {
					return valid, first
				}
			}
		}
	}
	return "", first
}

// interactionParts scans the comma-separated parts of s; first carries the first non-empty part
// seen before.
func interactionParts(s, first string) (string, string) {
	for s != "" {
		part := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		valid, zero := uuidKind(part)
		if zero {
			continue
		}
		if valid {
			return part, part
		}
		if first == "" {
			first = part
		}
	}
	return "", first
}

// interactionID returns the first valid, non-zero UUID among the configured attributes (in
// order), then the captured request header, then the response header (Decision 3). When none is
// valid it keeps the first value present so that Validate names the problem; it never invents
// one.
func (m *Mapper) interactionID(named *namedAttrs, attrs pcommon.Map) string {
	first := ""
	for i, name := range m.names.InteractionID {
		var v pcommon.Value
		if i < maxScannedIDs {
			if !named.ids[i].ok {
				continue
			}
			v = named.ids[i].v
		} else {
			var ok bool
			if v, ok = attrs.Get(name); !ok {
				continue
			}
		}
		valid, f := interactionValue(v)
		if valid != "" {
			return valid
		}
		if first == "" {
			first = f
		}
	}
	for i := range named.headers {
		valid, f := named.headers[i].value()
		if valid != "" {
			return valid
		}
		if first == "" {
			first = f
		}
	}
	return first
}
