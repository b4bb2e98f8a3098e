package mapping

import "strings"

// Hand-written equivalents of the regular expressions in PCM's schemas (fields.json). They run
// for every report, so they are plain byte loops instead of regexp; patterns_test.go checks
// them against the original expressions.

// charClass classifies ASCII bytes for the checks below and for the JSON encoder: one table
// lookup per byte instead of a chain of comparisons (these loops run several times per span).
var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum := '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
		if '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' {
			t[c] |= classHex
		}
		if alnum {
			t[c] |= classAlnum
		}
		if alnum || strings.IndexByte("- /:_.',", b) >= 0 {
			t[c] |= classPCMText
		}
		if alnum || strings.IndexByte("()+,-.:=@;$_!*'%/?#", b) >= 0 {
			t[c] |= classURN
		}
		if b >= 0x20 && b < 0x80 && b != '"' && b != '\\' {
			t[c] |= classJSONSafe
		}
	}
	return t
}()

const (
	classHex      = 1 << iota // [0-9a-fA-F]
	classAlnum                // [0-9a-zA-Z]
	classPCMText              // [- /:_.',0-9a-zA-Z]
	classURN                  // [a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]
	classJSONSafe             // printable ASCII that needs no escaping in a JSON string
)

// IsUUID reports whether s matches PCM's UUID pattern
// ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ (any version,
// either case). Config validation can use it for org_id and software_statement_id.
func IsUUID(s string) bool {
	valid, _ := uuidKind(s)
	return valid
}

// uuidKind checks the UUID pattern and whether it is the all-zero UUID in one pass. It runs
// several times per report, so it is unrolled and branch-free: 32 table lookups and-ed together.
func uuidKind(s string) (valid, zero bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false, false
	}
	c := &charClass
	hex := c[s[0]] & c[s[1]] & c[s[2]] & c[s[3]] & c[s[4]] & c[s[5]] & c[s[6]] & c[s[7]] &
		c[s[9]] & c[s[10]] & c[s[11]] & c[s[12]] & c[s[14]] & c[s[15]] & c[s[16]] & c[s[17]] &
		c[s[19]] & c[s[20]] & c[s[21]] & c[s[22]] & c[s[24]] & c[s[25]] & c[s[26]] & c[s[27]] &
		c[s[28]] & c[s[29]] & c[s[30]] & c[s[31]] & c[s[32]] & c[s[33]] & c[s[34]] & c[s[35]]
	if hex&classHex == 0 {
		return false, false
	}
	// Every byte is a hex digit here, so or-ing them gives '0' only if all are '0'.
	or := s[0] | s[1] | s[2] | s[3] | s[4] | s[5] | s[6] | s[7] |
		s[9] | s[10] | s[11] | s[12] | s[14] | s[15] | s[16] | s[17] |
		s[19] | s[20] | s[21] | s[22] | s[24] | s[25] | s[26] | s[27] |
		s[28] | s[29] | s[30] | s[31] | s[32] | s[33] | s[34] | s[35]
	return true, or == '0'
}

// isZeroUUID reports whether s is a UUID made only of zeros, which PCM discards.
func isZeroUUID(s string) bool {
	_, zero := uuidKind(s)
	return zero
}

// isValidInteractionID: a UUID PCM accepts as fapiInteractionId (the all-zero one is discarded).
func isValidInteractionID(s string) bool {
	valid, zero := uuidKind(s)
	return valid && !zero
}

func isAlnum(c byte) bool { return charClass[c]&classAlnum != 0 }

// isPCMText reports whether s contains only [- /:_.',0-9a-zA-Z] (the length limit is checked
// separately so that the two problems get distinct messages).
func isPCMText(s string) bool {
	return allOf(s, classPCMText)
}

// allOf reports whether every byte of s is in class.
func allOf(s string, class uint8) bool {
	acc := class
	for i := 0; i < len(s); i++ {
		acc &= charClass[s[i]]
	}
	return acc != 0
}

// maxURNLength is the maxLength of consentId/enrollmentId.
const maxURNLength = 100

// isURN reports whether s matches PCM's consentId pattern
// ^urn:[a-zA-Z0-9][a-zA-Z0-9-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$ (length checked by the caller).
func isURN(s string) bool {
	const prefix = "urn:"
	if len(s) < len(prefix) || s[:len(prefix)] != prefix {
		return false
	}
	s = s[len(prefix):]
	// NID: one alphanumeric, then up to 31 of [a-zA-Z0-9-], then ':'. NID characters exclude ':'
	// so the first ':' ends it; no backtracking is needed.
	if len(s) == 0 || !isAlnum(s[0]) {
		return false
	}
	i := 1
	for i < len(s) && (isAlnum(s[i]) || s[i] == '-') {
		i++
	}
	if i > 32 || i >= len(s) || s[i] != ':' {
		return false
	}
	nss := s[i+1:]
	if len(nss) == 0 {
		return false
	}
	return allOf(nss, classURN)
}
