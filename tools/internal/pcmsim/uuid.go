package pcmsim

import (
	"crypto/rand"
	"fmt"
	"regexp"
)

// uuidPattern is the UUID pattern of the PCM schemas (fapiInteractionId, org ids, clientSSId).
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

const nilUUID = "00000000-0000-0000-0000-000000000000"

func isUUID(s string) bool { return uuidPattern.MatchString(s) }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
