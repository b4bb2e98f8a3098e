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
// additionalInfo (additionalProperties: false; Decision 17).
//
// timestamp is "YYYY-MM-DDTHH:mm:ss.sssZ" in UTC, truncated to the millisecond;
// processTimespan is a JSON integer; additionalInfo is always an object, {} when empty
// (Decision 11). Strings are escaped like encoding/json (control characters, quotes,
// U+2028/U+2029) and invalid UTF-8 becomes U+FFFD, so the output is always valid JSON.
// AppendJSON does not allocate when dst has room.
func AppendJSON(dst []byte, r *Report) []byte {
	if r == nil {
		return append(dst, "null"...)
	}
	if r.API == APIOpendata {
		dst = appendStringField(dst, '{', "endpoint", r.Endpoint)
		dst = appendIntField(dst, "statusCode", int64(r.StatusCode))
		dst = appendStringField(dst, ',', "httpMethod", r.HTTPMethod)
		dst = appendTimestampField(dst, r.Timestamp)
		dst = appendIntField(dst, "processTimespan", r.ProcessTimespan)
		dst = append(dst, `,"additionalInfo":`...)
		dst = appendAdditionalInfo(dst, r.ClientIP, r.AdditionalInfo)
		return append(dst, '}')
	}

	sep := byte('{')
	if r.FapiInteractionID != "" {
		dst = appendStringField(dst, sep, "fapiInteractionId", r.FapiInteractionID)
		sep = ','
	}
	dst = appendStringField(dst, sep, "endpoint", r.Endpoint)
	dst = appendIntField(dst, "statusCode", int64(r.StatusCode))
	dst = appendStringField(dst, ',', "httpMethod", r.HTTPMethod)
	dst = appendStringField(dst, ',', "clientOrgId", r.ClientOrgID)
	dst = appendStringField(dst, ',', "serverOrgId", r.ServerOrgID)
	if r.Role != RoleServer {
		dst = appendStringField(dst, ',', "clientSSId", r.ClientSSID)
		dst = appendStringField(dst, ',', "endpointUriPrefix", r.EndpointURIPrefix)
		if r.CorrelationID != "" {
			dst = appendStringField(dst, ',', "correlationId", r.CorrelationID)
		}
	}
	dst = appendTimestampField(dst, r.Timestamp)
	dst = appendIntField(dst, "processTimespan", r.ProcessTimespan)
	dst = appendStringField(dst, ',', "role", r.Role.String())
	dst = append(dst, `,"additionalInfo":`...)
	dst = appendAdditionalInfo(dst, "", r.AdditionalInfo)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (r *Report) MarshalJSON() ([]byte, error) {
	return AppendJSON(nil, r), nil
}

// appendStringField appends `<sep>"name":"value"`; name is a trusted constant.
func appendStringField(dst []byte, sep byte, name, value string) []byte {
	dst = append(dst, sep, '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, value)
}

func appendIntField(dst []byte, name string, v int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

func appendTimestampField(dst []byte, t time.Time) []byte {
	dst = append(dst, `,"timestamp":"`...)
	dst = appendTimestamp(dst, t)
	return append(dst, '"')
}

// appendTimestamp writes t in TimestampLayout. Digits are written by hand (time.AppendFormat
// parses the layout on every call); years outside 0–9999 fall back to the standard formatter.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimestampLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return dst
}

// appendAdditionalInfo writes the additionalInfo object. clientIP (opendata) comes first unless
// a field already carries that key.
func appendAdditionalInfo(dst []byte, clientIP string, fields []AdditionalField) []byte {
	sep := byte('{')
	if clientIP != "" && !hasInfoKey(fields, additionalClientIP) {
		dst = appendStringField(dst, sep, additionalClientIP, clientIP)
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

// jsonSafe8 reports whether all 8 bytes of b are printable ASCII other than '"' and '\\', using
// the classic SWAR "has byte less than / equal to" tricks on one 64-bit word.
func jsonSafe8(b string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	control := (w - lo*0x20) & ^w & hi
	q := w ^ (lo * '"')
	quote := (q - lo) & ^q & hi
	bs := w ^ (lo * '\\')
	backslash := (bs - lo) & ^bs & hi
	return (control|quote|backslash|w&hi) == 0
}

// appendString writes s as a JSON string: `"` and `\` escaped, control characters as \n, \r, \t
// or \u00XX, U+2028/U+2029 escaped (JavaScript line terminators), invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Fast path: skip 8 plain-ASCII bytes at a time (URLs and ids are long and clean).
		for i+8 <= len(s) && jsonSafe8(s[i:i+8]) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if charClass[c]&classJSONSafe != 0 {
			i++
			continue
		}
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
