// Package pcmapi is the HTTP client of the Open Finance Brasil PCM reporting API.
//
// It knows nothing of spans or of the collector: it takes report objects that are already
// encoded as JSON and delivers them. Two pieces make it up:
//
//   - [TokenSource] obtains and caches the bearer token with the OAuth2 client_credentials grant
//     over mTLS (POST <auth>/token/, no client secret), refreshing it before it expires and on
//     demand after a 401 (from FreshURL if set, falling back to URL when that fails).
//   - [Client] POSTs reports as JSON arrays, splits what would be too large for one request,
//     reads PCM's per-item answer (ACCEPTED / DISCARDED or a lifecycle status, in request
//     order) and classifies every other answer as permanent or retryable ([IsPermanent],
//     [RetryAfter], [UnconfirmedError]). Reports encoded straight into an [Array] go out with
//     [Client.SendArray] without being copied again.
//
// Delivery contract: [Client.Send] (and [Client.SendArray]) always reports which items PCM has answered for, as a prefix
// of the input, so a caller can retry exactly the rest and never resend an item PCM already
// has (PCM defines no idempotency key, so a blind resend would create duplicates). Only PCM's
// word counts: an answer that is not one documented status per report confirms nothing
// ([UnconfirmedError] for the POST, [ItemResult.Confirmed] false for an item).
//
// No client of this package follows a redirect: a 3xx is a [StatusError] with its Location,
// so the bearer token and the token request never travel to another URL.
//
// No access token, Authorization header, key material or token endpoint answer body ever
// appears in an error, a result message or a log line of this package: error texts are built
// from parsed fields, and anything echoed by a server is redacted, stripped of control
// characters and cut to 200 characters before it is kept.
package pcmapi // import "github.com/pcm-otel/pcmexporter/internal/pcmapi"
