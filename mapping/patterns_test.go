package mapping

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The original expressions of PCM's schemas (docs/pcm-rules.md §5); the hand-written checks must agree with them.
var (
	reUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	reText = regexp.MustCompile(`^[- /:_.',0-9a-zA-Z]*$`)
	reURN  = regexp.MustCompile(`^urn:[a-zA-Z0-9][a-zA-Z0-9-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$`)
)

func checkPatterns(t *testing.T, s string) {
	t.Helper()
	assert.Equal(t, reUUID.MatchString(s), IsUUID(s), "IsUUID(%q)", s)
	assert.Equal(t, reText.MatchString(s), isPCMText(s), "isPCMText(%q)", s)
	assert.Equal(t, reURN.MatchString(s), isURN(s), "isURN(%q)", s)
	valid, zero := uuidKind(s)
	assert.Equal(t, valid && strings.Trim(s, "0-") == "", zero, "uuidKind(%q)", s)
}

var patternSeeds = []string{
	"", fapiID, strings.ToUpper(fapiID), zeroUUID, "00000000-0000-0000-0000-000000000001",
	"d0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6", "d0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6dd", "d0c9b3f2x6d0e-4b53-9a5e-1f2f3a4b5c6d",
	"g0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6d", "d0c9b3f26d0e4b539a5e1f2f3a4b5c6d0000", "{d0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6}",
	"urn:bancoex:C1DD33123", "urn:a:b", "urn::b", "urn:a:", "urn:-a:b", "URN:a:b", "urn:a-b-c:x/y?z#w",
	"urn:" + strings.Repeat("a", 32) + ":x", "urn:" + strings.Repeat("a", 33) + ":x", "urn:a:b c", "urn:a:b\x00",
	"urn:a:ü", "urn:a:b:c:d", "urn:a-:b", "https://api.bank.example/opbk", "a%20b", "journey 42, 'x'", "a+b", "ü",
}

func TestPatternsAgreeWithTheRegexps(t *testing.T) {
	for _, s := range patternSeeds {
		checkPatterns(t, s)
	}
	// Random strings over an alphabet dense in the interesting characters.
	const alphabet = "0123456789abcdefABCDEFgxyzGXYZ-:urn_./ ',()+=@;$!*%?#\"\\{}\x00\xff"
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		if rng.IntN(3) == 0 {
			b.WriteString("urn:")
		}
		n := rng.IntN(45)
		for j := 0; j < n; j++ {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		checkPatterns(t, b.String())
	}
	// Every byte value at every position of a UUID and of the zero UUID.
	for _, base := range []string{fapiID, strings.ToUpper(fapiID), zeroUUID} {
		for pos := 0; pos < len(base); pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(base)
				b[pos] = byte(c)
				checkPatterns(t, string(b))
			}
		}
	}
}

func FuzzPatterns(f *testing.F) {
	for _, s := range patternSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkPatterns(t, s)
	})
}
