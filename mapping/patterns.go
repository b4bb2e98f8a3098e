package mapping

import "strings"

// Hand-written equivalents of the regular expressions in PCM's schemas (docs/pcm-rules.md §5). They run
// for every report, so they are table lookups and 64-bit word tests instead of regexp;
// patterns_test.go checks them against the original expressions.

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

// uuidKind checks the UUID pattern and whether it is the all-zero UUID. It runs several times per
// report, so the 32 hex digits are packed into four 64-bit words and tested with SWAR arithmetic
// instead of byte by byte.
func uuidKind(s string) (valid, zero bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false, false
	}
	w0 := le64(s[0:8])
	w1 := le32(s[9:13]) | le32(s[14:18])<<32
	w2 := le32(s[19:23]) | le32(s[24:28])<<32
	w3 := le64(s[28:36])
	if notHex(w0)|notHex(w1)|notHex(w2)|notHex(w3) != 0 {
		return false, false
	}
	const zeros = 0x3030303030303030 // "00000000"
	return true, w0 == zeros && w1 == zeros && w2 == zeros && w3 == zeros
}

// le64 and le32 read little-endian words; the compiler turns them into single loads.
func le64(b string) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func le32(b string) uint64 {
	_ = b[3]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
}

// notHex returns a non-zero value unless all 8 bytes of w are [0-9a-fA-F]. For ASCII bytes,
// (b|0x80) - n keeps its high bit exactly when b >= n, with no borrow between bytes. Small enough
// to be inlined four times into uuidKind.
func notHex(w uint64) uint64 {
	const l, h = 0x0101010101010101, 0x8080808080808080
	digit := ((w | h) - '0'*l) &^ ((w | h) - ('9'+1)*l)
	lw := w | h | 0x20*l // folds A-F onto a-f; nothing else lands in a-f
	letter := (lw - 'a'*l) &^ (lw - ('f'+1)*l)
	return (^(digit | letter) | w) & h
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
