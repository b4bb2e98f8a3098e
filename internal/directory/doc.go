// Package directory resolves the counterpart of an Open Finance Brasil call from the Directory's
// participants file (https://data.directory.openbankingbrasil.org.br/participants, schema
// OrganisationsExportOpenData of OpenBanking-Brasil/specs-directory swagger_participants.yaml):
// the OrganisationId serving a URL we called (serverOrgId of a CLIENT report) and the
// OrganisationId of a caller identified by its client_id, software statement id or
// OrganisationId (clientOrgId of a SERVER report).
//
// # What is read
//
// The file is a JSON array of organisations. Only these keys are read; every other key is
// ignored, and missing or null optional parts are tolerated:
//
//	[{
//	  "OrganisationId": "uuid",                  // required, a non-nil UUID; else the entry is skipped
//	  "Status": "Active",                        // absent counts as Active (the schema's default)
//	  "OrganisationName": "…", "RegisteredName": "…", "LegalEntityName": "…",   // Name
//	  "AuthorisationServers": [{
//	    "CustomerFriendlyName": "…",             // Name, when the organisation has none
//	    "OpenIDDiscoveryDocument": "https://auth.bank/realm/.well-known/openid-configuration",
//	    "Issuer": "https://auth.bank/realm",      // read when present (newer exports)
//	    "ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.bank/opbk/open-banking/accounts/v2/accounts"}]}]
//	  }],
//	  "SoftwareStatements": [{"SoftwareStatementId": "uuid", "ClientId": "…", "ClientIds": ["…"]}]  // extension, see below
//	}]
//
// An entry whose read keys have the wrong JSON type (a number for a URL, an object for a list…)
// is skipped and counted in Stats.Skipped; only malformed JSON or a top level that is not an
// array fails Parse.
//
// # Resolving a URL (CLIENT spans)
//
// Every ApiEndpoint yields an API base, scheme://host:port plus the path segments before the
// "open-banking" segment (https://api.bank/opbk/open-banking/… → https://api.bank:443/opbk), and
// its host. Every OpenIDDiscoveryDocument (and Issuer) yields an authorisation-server base, the
// path before "/.well-known/" (the issuer), and its host. OrgByURL then tries, in order:
//
//  1. the longest API base that prefixes the URL on a path-segment boundary (/opbk matches
//     /opbk/… but not /opbk2/…);
//  2. the longest authorisation-server base that prefixes it the same way (token, PAR and
//     registration calls go to the authorisation server: a Keycloak realm path tells two
//     institutions on one shared login host apart);
//  3. the authorisation-server host equal to the URL's host;
//  4. the API host equal to the URL's host.
//
// The first rule that finds a claim decides. A base or host claimed by several organisations is
// ambiguous and resolves nothing — it does not fall through to a later rule, and it is never
// guessed. Hosts compare case-insensitively and without a trailing dot; rules 1 and 2 compare the
// scheme and the port too (default ports normalised: https://h and https://h:443 are the same),
// rules 3 and 4 the host name only. Paths compare as raw segments, case-sensitively; empty and
// dot segments are dropped; query and fragment are ignored. A URL without a scheme is read as
// https.
//
// Only organisations whose Status is Active contribute bases and hosts: a withdrawn
// institution's stale endpoints (often the host of the institution that absorbed it) neither
// resolve to it nor make the host ambiguous. PayloadSigningCertLocationUri, DeveloperPortalUri,
// TermsOfServiceUri and the logo are not read: they usually point at the Directory's keystore,
// marketing sites or shared CDNs, not at the institution's API.
//
// # Resolving a caller (SERVER spans)
//
// The public file carries no OAuth client_ids. OrgByClient resolves:
//
//   - an OrganisationId present in the file (any Status: an identifier, unlike a host, is never
//     reassigned), to that organisation;
//   - a SoftwareStatementId or a client_id listed in the organisation's SoftwareStatements, to that
//     organisation.
//
// Nothing else is guessed. SoftwareStatements is an accepted extension of the file, used when
// present: the Directory's authenticated organisation export (OrganisationSnapshot) carries the
// software statements of each organisation, and the client_ids are those that your own
// authorisation server issued to them at dynamic client registration, so an operator can merge
// both into the public file. Two shapes are accepted: the array above, and the export's object
// keyed by SoftwareStatementId, {"<ssid>": {"SoftwareDetails": {"SoftwareStatementId", "ClientId"}}}.
// UUID-shaped identifiers compare case-insensitively; other client_ids exactly.
// An identifier claimed by several organisations is ambiguous and resolves nothing.
//
// # mTLS endpoint aliases (CLIENT spans to token, PAR and registration)
//
// RFC 8705 §5 lets an authorisation server publish other URLs for its endpoints where clients
// authenticate with mutual TLS (mtls_endpoint_aliases in its discovery document). The Open
// Finance Brasil security profile makes every token, PAR and dynamic client registration call
// mutual TLS, and institutions often serve those on hosts of their own ("matls-…") that the
// participants file does not list. With DiscoveryConfig.Enabled, a Source fetches the
// OpenIDDiscoveryDocument of every Active organisation's authorisation servers in the
// background — https only (no redirect to http), at most Concurrency at a time, each within
// Timeout and MaxDocumentBytes, at most MaxDocuments and MaxTotalBytes a round, once after the
// participants load and then at every refresh — and reads from each document token_endpoint,
// pushed_authorization_request_endpoint and registration_endpoint, and the same three in
// mtls_endpoint_aliases. A document that fails keeps its last good copy; the copies live in one
// JSON cache file beside the participants cache (DiscoveryCacheFile), written atomically and
// read at start, so that a restart with the servers down still resolves.
//
// Source.OrgByURL (and ServerOrg) consults those endpoints only for a URL the participants file
// has no claim on at all (an ambiguous claim stays unresolved): a document is served by the
// institution itself, so it may add hosts for its own organisation, never take one the
// Directory assigns. Then (5) the longest endpoint URL that prefixes the URL on a segment
// boundary (one realm per institution on a shared mTLS host), else (6) the endpoint host. An
// endpoint base or host named by the documents of several organisations — or by one document
// listed by several — is ambiguous and resolves nothing. The aliases are published with an
// atomic pointer next to the Index: lookups stay lock-free and answers improve as documents
// arrive; Source.DiscoveryPending reports whether the first round has ended.
//
// # Keeping it current
//
// Source loads the file from a URL (conditional GET with ETag, capped body, atomic cache copy)
// and/or a local file, refreshes it in the background, and publishes each good Index with an
// atomic pointer, so lookups are lock-free. A failed refresh keeps the last good Index.
package directory // import "github.com/pcm-otel/pcmexporter/internal/directory"
