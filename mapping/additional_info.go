package mapping

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// additionalInfo values come from pcm.additional_info.<key> attributes, typed as whatever the
// application or a processor happened to set. PCM's schema declares a type per key
// (docs/pcm-rules.md §6): strings for every scalar key, booleans as the strings "TRUE"/"FALSE",
// errorCodes as one string (Decision 12), and three structured keys. A value of the wrong type
// would make PCM discard the whole report, so it is converted, or left out when it cannot be.

// infoType is the type PCM's schema declares for an additionalInfo key.
type infoType uint8

const (
	infoString     infoType = iota // every scalar key, and keys PCM does not list
	infoBoolean                    // the strings "TRUE" / "FALSE"
	infoErrorCodes                 // one string: the first errors[].code (Decision 12)
	infoObject                     // a JSON object
	infoArray                      // a JSON array
)

// infoTypeOf returns the declared type of key. The boolean keys are those whose documented
// values are TRUE/FALSE (docs/pcm-rules.md §6).
func infoTypeOf(key string) infoType {
	switch key {
	case "webhookEnable", "isFirstPayment", "hasMinimumAmount", "isRetryAccepted", "nfcPayment", "journeyIsLinked":
		return infoBoolean
	case "errorCodes":
		return infoErrorCodes
	case "statusSummary", "companyProfileInfo":
		return infoObject
	case "paymentList":
		return infoArray
	}
	return infoString
}

// infoVerdict is what happened to one additionalInfo value.
type infoVerdict uint8

const (
	infoKept infoVerdict = iota
	infoConverted
	infoDropped
)

// normalizeInfo converts every field of info to its declared type in place, drops those that
// cannot be converted, and records both in result. Values already of the right type (the
// common case) are kept as they are, without allocating.
func normalizeInfo(info []AdditionalField, result *Result) []AdditionalField {
	kept := info[:0]
	for _, f := range info {
		v, verdict := convertInfo(f.Key, f.Value)
		switch verdict {
		case infoDropped:
			result.dropInfo(f.Key)
			continue
		case infoConverted:
			result.Fixes.add(FixAdditionalInfoConverted)
		}
		kept = append(kept, AdditionalField{Key: f.Key, Value: v})
	}
	clear(info[len(kept):])
	return kept
}

func (r *Result) dropInfo(key string) {
	r.Fixes.add(FixAdditionalInfoDropped)
	if r.DroppedInfoKey == "" {
		r.DroppedInfoKey = key
	}
}

// convertInfo returns v in the type declared for key.
func convertInfo(key string, v pcommon.Value) (pcommon.Value, infoVerdict) {
	if v == (pcommon.Value{}) {
		return v, infoDropped
	}
	switch infoTypeOf(key) {
	case infoObject:
		if v.Type() == pcommon.ValueTypeMap {
			return v, infoKept
		}
		return v, infoDropped
	case infoArray:
		if v.Type() == pcommon.ValueTypeSlice {
			return v, infoKept
		}
		return v, infoDropped
	case infoErrorCodes:
		return firstErrorCode(v)
	}
	scalar, unwrapped := v, false
	if v.Type() == pcommon.ValueTypeSlice {
		// A one-element array is a captured header or a list written by habit: its element is the
		// value. Several elements cannot become one string without guessing.
		if v.Slice().Len() != 1 {
			return v, infoDropped
		}
		scalar, unwrapped = v.Slice().At(0), true
	}
	out, verdict := scalarString(scalar, infoTypeOf(key) == infoBoolean)
	if unwrapped && verdict == infoKept {
		verdict = infoConverted
	}
	return out, verdict
}

// scalarString turns a scalar into PCM's string form: strings as they are (a boolean key's
// true/false in any case becomes TRUE/FALSE), numbers in decimal, booleans as TRUE/FALSE. Maps,
// slices, bytes, empty values and non-finite numbers cannot be converted.
func scalarString(v pcommon.Value, boolean bool) (pcommon.Value, infoVerdict) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if boolean {
			switch s := strings.TrimSpace(v.Str()); {
			case s == "TRUE" && v.Str() == s, s == "FALSE" && v.Str() == s:
				return v, infoKept
			case strings.EqualFold(s, "true"):
				return pcommon.NewValueStr("TRUE"), infoConverted
			case strings.EqualFold(s, "false"):
				return pcommon.NewValueStr("FALSE"), infoConverted
			}
		}
		return v, infoKept // other spellings pass through: enums are not validated (Decision 25)
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return pcommon.NewValueStr("TRUE"), infoConverted
		}
		return pcommon.NewValueStr("FALSE"), infoConverted
	case pcommon.ValueTypeInt:
		return pcommon.NewValueStr(strconv.FormatInt(v.Int(), 10)), infoConverted
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return v, infoDropped
		}
		return pcommon.NewValueStr(strconv.FormatFloat(f, 'f', -1, 64)), infoConverted
	}
	return v, infoDropped
}

// firstErrorCode applies Decision 12: errorCodes is one string, the first code, whether it came
// as a string, a comma-separated list or an array.
func firstErrorCode(v pcommon.Value) (pcommon.Value, infoVerdict) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return v, infoKept
		}
		for ; i >= 0; i = strings.IndexByte(s, ',') {
			if code := strings.TrimSpace(s[:i]); code != "" {
				return pcommon.NewValueStr(code), infoConverted
			}
			s = s[i+1:]
		}
		if code := strings.TrimSpace(s); code != "" {
			return pcommon.NewValueStr(code), infoConverted
		}
		return v, infoDropped
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			e := s.At(i)
			if e.Type() == pcommon.ValueTypeStr && strings.TrimSpace(e.Str()) == "" {
				continue
			}
			if code, verdict := firstErrorCode(e); verdict != infoDropped && e.Type() != pcommon.ValueTypeSlice {
				return code, infoConverted
			}
		}
		return v, infoDropped
	}
	return scalarString(v, false)
}

// keepOnlyClientIP applies Decision 17: opendata additionalInfo is {"clientIp": …} and nothing
// else. A string clientIp attribute overrides client.address (e.g. the real caller behind a load
// balancer); every other key, and a clientIp that is not a string, is dropped and reported.
func keepOnlyClientIP(out *Report, result *Result) {
	for _, f := range out.AdditionalInfo {
		if f.Key == additionalClientIP && f.Value != (pcommon.Value{}) && f.Value.Type() == pcommon.ValueTypeStr {
			out.ClientIP = f.Value.Str()
			continue
		}
		result.dropInfo(f.Key)
	}
	clear(out.AdditionalInfo)
	out.AdditionalInfo = out.AdditionalInfo[:0]
}
