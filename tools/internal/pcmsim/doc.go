// Package pcmsim is a local stand-in for the Open Finance Brasil PCM (Plataforma de Coleta de
// Métricas): an mTLS token server and a report API that validate, store and reconcile reports the
// way the published API does (see docs/pcm-rules.md), plus control endpoints for
// tests (summary, stored reports, statistics, fault injection).
//
// It is an independent implementation: validation follows the published field rules, not the
// exporter's own mapping code, so end-to-end tests against it prove something.
//
// Two HTTPS listeners:
//
//   - auth: POST /token/ (and /token-fresh/), client certificate required and verified; the
//     organisation is read from the certificate subject (OU, or organizationIdentifier
//     "OFBBR-<uuid>") and must match the organisation registered for the client_id.
//   - api: POST /report-api/v1/private/report/ (with or without the trailing slash),
//     POST /report-api/v1/opendata/report, GET /report-api/v1/private/report/{fapiInteractionId}
//     (Bearer token required), and the simulator control endpoints under /sim/ (no auth):
//     GET /sim/summary, GET /sim/reports, GET /sim/discarded, GET /sim/stats,
//     GET|POST /sim/faults, POST /sim/reset; with Config.Participants, a simulated Directory
//     (no auth): GET /directory/participants and each authorisation server's OpenID discovery
//     document with its mTLS endpoint aliases.
//
// Reconciliation is synchronous: an accepted report is stored as PAIRED, PAIRED_INCONSISTENT,
// UNPAIRED or SINGLE as soon as the POST returns (the real PCM is eventually consistent).
package pcmsim
