package mapping

import (
	"crypto/sha256"
	"encoding/base64"
)

// TokenID computes PCM's additionalInfo.tokenId of an access token (docs/pcm-rules.md §6, REL
// 2025D): the first 72 bits of SHA-256(token + pepper), base64url without padding — 12
// characters. The pepper is the institution's own secret of 128 to 256 bits, so that PCM can
// tell calls made with the same token apart without learning the token. It is for the code that
// holds the token (the HTTP client making the call); the exporter never sees tokens.
func TokenID(token, pepper string) string {
	sum := sha256.Sum256([]byte(token + pepper))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}
