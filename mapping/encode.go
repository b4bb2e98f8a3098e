package mapping

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TimestampLayout is PCM's timestamp format: UTC, exactly three fractional digits, literal Z
// (Decision 5). AppendJSON truncates to the millisecond, as time.Format with this layout does.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// maxValueDepth bounds the nesting of map/slice values in additionalInfo; deeper values are
// encoded as null instead of risking unbounded recursion on hostile input.
const maxValueDepth = 32

// AppendJSON appends r as one JSON object with exactly PCM's field names, in this order.
//
// Private CLIENT: fapiInteractionId (if set), endpoint, statusCode, httpMethod, clientOrgId,
// serverOrgId, clientSSId, endpointUriPrefix, correlationId (if set), timestamp,
// processTimespan, role, additionalInfo. Private SERVER: the same without clientSSId,
// endpointUriPrefix and correlationId (PCM rejects unknown keys in server reports; Decisions
// 10, 24). Opendata: only endpoint, statusCode, httpMethod, timestamp, processTimespan,
// additionalInfo (additionalProperties: false; Decision 17). Credit portability: the private
// fields up to role, then the set fields of CreditPortability, no additionalInfo
// (docs/pcm-rules.md §12.1).
//
// timestamp is "YYYY-MM-DDTHH:mm:ss.sssZ" in UTC, truncated to the millisecond;
// processTimespan is a JSON integer; additionalInfo is always an object, {} when empty
// (Decision 11). Strings are escaped like encoding/json without HTML escaping (control characters,
// quotes, U+2028/U+2029) and invalid UTF-8 becomes U+FFFD, so the output is always valid JSON.
// AppendJSON does not allocate when dst has room.
func AppendJSON(dst []byte, r *Report) []byte {
	if r == nil {
		return append(dst, "null"...)
	}
	// Keys are appended as constant fragments (`,"name":`) rather than piece by piece: this runs
	// once per span and the fragments are most of the bytes.
	if r.API == APIOpendata {
		dst = appendStr(dst, `{"endpoint":`, r.Endpoint)
		dst = appendInt(dst, `,"statusCode":`, int64(r.StatusCode))
		dst = appendStr(dst, `,"httpMethod":`, r.HTTPMethod)
		dst = append(dst, `,"timestamp":"`...)
		dst = appendTimestamp(dst, r.Timestamp)
		dst = appendInt(dst, `","processTimespan":`, r.ProcessTimespan)
		dst = append(dst, `,"additionalInfo":`...)
		dst = appendAdditionalInfo(dst, r.ClientIP, r.AdditionalInfo)
		return append(dst, '}')
	}

	if r.FapiInteractionID != "" {
		dst = appendStr(dst, `{"fapiInteractionId":`, r.FapiInteractionID)
		dst = appendStr(dst, `,"endpoint":`, r.Endpoint)
	} else {
		dst = appendStr(dst, `{"endpoint":`, r.Endpoint)
	}
	dst = appendInt(dst, `,"statusCode":`, int64(r.StatusCode))
	dst = appendStr(dst, `,"httpMethod":`, r.HTTPMethod)
	// An unknown identifier is left out rather than sent as "": such a report only reaches the
	// dead letter, where "Missing property" is then true of the JSON too.
	dst = appendStrIfSet(dst, `,"clientOrgId":`, r.ClientOrgID)
	dst = appendStrIfSet(dst, `,"serverOrgId":`, r.ServerOrgID)
	if r.Role != RoleServer {
		dst = appendStrIfSet(dst, `,"clientSSId":`, r.ClientSSID)
		dst = appendStrIfSet(dst, `,"endpointUriPrefix":`, r.EndpointURIPrefix)
		if r.CorrelationID != "" {
			dst = appendStr(dst, `,"correlationId":`, r.CorrelationID)
		}
	}
	dst = append(dst, `,"timestamp":"`...)
	dst = appendTimestamp(dst, r.Timestamp)
	dst = appendInt(dst, `","processTimespan":`, r.ProcessTimespan)
	dst = appendStr(dst, `,"role":`, r.Role.String())
	if r.API == APICreditPortability {
		dst = appendCreditPortability(dst, r.CreditPortability, r.Role)
		return append(dst, '}')
	}
	dst = append(dst, `,"additionalInfo":`...)
	dst = appendAdditionalInfo(dst, "", r.AdditionalInfo)
	return append(dst, '}')
}

func appendStrIfSet(dst []byte, key, value string) []byte {
	if value == "" {
		return dst
	}
	return appendStr(dst, key, value)
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (r *Report) MarshalJSON() ([]byte, error) {
	return AppendJSON(nil, r), nil
}

// appendStr appends a key fragment and a JSON string.
func appendStr(dst []byte, key, value string) []byte {
	return appendString(append(dst, key...), value)
}

// appendInt appends a key fragment and a JSON integer.
func appendInt(dst []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(dst, key...), v, 10)
}

// appendTimestamp writes t in TimestampLayout, several times faster than time.AppendFormat,
// which interprets the layout and splits the date twice (Date and Clock). Years outside 0–9999
// fall back to the standard formatter.
func appendTimestamp(dst []byte, t time.Time) []byte {
	const minUnix, maxUnix = -62167219200, 253402300799 // 0000-01-01 and 9999-12-31T23:59:59 UTC
	sec := t.Unix()
	if sec < minUnix || sec > maxUnix {
		return t.UTC().AppendFormat(dst, TimestampLayout)
	}
	s := uint64(sec - minUnix) // seconds since 0000-01-01T00:00:00Z; unsigned keeps divisions cheap
	days, secOfDay := s/86400, s%86400
	hour, minute, second := secOfDay/3600, secOfDay/60%60, secOfDay%60
	ms := uint64(t.Nanosecond()) / uint64(time.Millisecond)
	b := [24]byte{
		10: 'T',
		byte('0' + hour/10), byte('0' + hour%10), ':',
		byte('0' + minute/10), byte('0' + minute%10), ':',
		byte('0' + second/10), byte('0' + second%10), '.',
		byte('0' + ms/100), byte('0' + ms/10%10), byte('0' + ms%10), 'Z',
	}
	date := formatDate(days)
	copy(b[:10], date[:])
	return append(dst, b[:]...)
}

// formatDate turns days since 0000-01-01 into "YYYY-MM-DD" with Howard Hinnant's days-to-civil
// algorithm.
func formatDate(days uint64) [10]byte {
	// Count days from 0000-03-01 (day 60 of leap year 0) so that leap days end the year; Jan and
	// Feb of year 0 are shifted one 400-year era forward and the era taken back at the end
	// (unsigned wrap-around makes the -400 exact).
	z := days + 146097 - 60
	era := z / 146097
	doe := z - era*146097                                  // day of era [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of year from March 1st [0, 365]
	mp := (5*doy + 2) / 153                                // month from March [0, 11]
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if month > 12 {
		month -= 12
	}
	y := yoe + era*400 - 400
	if month <= 2 {
		y++
	}
	return [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + month/10), byte('0' + month%10), '-',
		byte('0' + day/10), byte('0' + day%10),
	}
}

// appendAdditionalInfo writes the additionalInfo object. clientIP (opendata) comes first unless
// a field already carries that key.
func appendAdditionalInfo(dst []byte, clientIP string, fields []AdditionalField) []byte {
	sep := byte('{')
	if clientIP != "" && !hasInfoKey(fields, additionalClientIP) {
		dst = appendStr(dst, `{"clientIp":`, clientIP)
		sep = ','
	}
	for i := range fields {
		dst = append(dst, sep)
		sep = ','
		dst = appendString(dst, fields[i].Key)
		dst = append(dst, ':')
		dst = appendValue(dst, fields[i].Value, 0)
	}
	if sep == '{' {
		return append(dst, '{', '}')
	}
	return append(dst, '}')
}

func hasInfoKey(fields []AdditionalField, key string) bool {
	for i := range fields {
		if fields[i].Key == key {
			return true
		}
	}
	return false
}

// appendValue encodes a pdata value keeping its type: string, bool, int, double, map → object,
// slice → array, bytes → base64 string; empty (and the zero Value) → null.
func appendValue(dst []byte, v pcommon.Value, depth int) []byte {
	if v == (pcommon.Value{}) || depth > maxValueDepth {
		return append(dst, "null"...)
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendString(dst, v.Str())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return appendFloat(dst, v.Double())
	case pcommon.ValueTypeMap:
		sep := byte('{')
		for k, e := range v.Map().All() {
			dst = append(dst, sep)
			sep = ','
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendValue(dst, e, depth+1)
		}
		if sep == '{' {
			return append(dst, '{', '}')
		}
		return append(dst, '}')
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		dst = append(dst, '[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, s.At(i), depth+1)
		}
		return append(dst, ']')
	case pcommon.ValueTypeBytes:
		return appendBase64(dst, v.Bytes())
	}
	return append(dst, "null"...)
}

// appendFloat formats like encoding/json; NaN and ±Inf have no JSON form and become null.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendBase64 writes standard base64 in chunks through a stack buffer (ByteSlice.AsRaw would
// copy the whole value).
func appendBase64(dst []byte, b pcommon.ByteSlice) []byte {
	dst = append(dst, '"')
	var chunk [48]byte // a multiple of 3: no padding until the last chunk
	n := b.Len()
	for i := 0; i < n; {
		k := 0
		for ; k < len(chunk) && i < n; k, i = k+1, i+1 {
			chunk[k] = b.At(i)
		}
		dst = base64.StdEncoding.AppendEncode(dst, chunk[:k])
	}
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// skipJSONSafe returns the index of the first byte at or after i that needs escaping (or starts a
// multi-byte sequence), len(s) if none. Eight bytes are tested at a time with SWAR arithmetic:
// URLs, ids and templates are long and clean, and this loop sees every byte of every report.
func skipJSONSafe(s string, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := le64(s[i : i+8])
		// x - lo borrows into a byte's high bit only where that byte of x is zero, so with
		// q = w^'"' and b = w^'\\' the three subtractions flag control bytes (< 0x20), quotes and
		// backslashes; or-ing w flags non-ASCII bytes, whose high bit is already set.
		q := w ^ (lo * '"')
		b := w ^ (lo * '\\')
		if ((w-lo*0x20)|(q-lo)|(b-lo)|w)&hi != 0 {
			break
		}
	}
	for i < len(s) && charClass[s[i]]&classJSONSafe != 0 {
		i++
	}
	return i
}

// appendString writes s as a JSON string: `"` and `\` escaped, control characters as \n, \r, \t
// or \u00XX, U+2028/U+2029 escaped (JavaScript line terminators), invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := skipJSONSafe(s, 0); i < len(s); i = skipJSONSafe(s, i) {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
