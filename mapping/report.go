package mapping

import (
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// API is the PCM report API a report is sent to.
type API uint8

const (
	// APIPrivate is /report-api/v1/private/report/: transactions between participants
	// (customer data, services and security endpoints), reported by both sides.
	APIPrivate API = iota + 1
	// APIOpendata is /report-api/v1/opendata/report: unauthenticated phase-1 open data APIs,
	// reported by the server only.
	APIOpendata
	// APICreditPortability is /report-api/v1/credit-portabilities/client (CLIENT reports) and
	// /server (SERVER reports): the credit-portability API, reported by both sides with the
	// fields of Report.CreditPortability (docs/pcm-rules.md §12.1).
	APICreditPortability
)

// NumAPIs bounds the API values: arrays indexed by API have this length.
const NumAPIs = int(APICreditPortability) + 1

// String returns "private", "opendata" or "credit_portability" (the metric attribute value).
func (a API) String() string {
	switch a {
	case APIPrivate:
		return "private"
	case APIOpendata:
		return "opendata"
	case APICreditPortability:
		return "credit_portability"
	}
	return "API(" + strconv.Itoa(int(a)) + ")"
}

// Role is the point of view of a private report.
type Role uint8

const (
	// RoleClient: we called another institution (span kind CLIENT).
	RoleClient Role = iota + 1
	// RoleServer: another institution called us (span kind SERVER).
	RoleServer
)

// String returns "CLIENT" or "SERVER", the values of PCM's role field; "" for the zero Role.
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "CLIENT"
	case RoleServer:
		return "SERVER"
	case 0:
		return ""
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// AdditionalField is one key of additionalInfo. Map fills Value in the type PCM declares for the
// key (a string, or a map/slice for statusSummary, companyProfileInfo and paymentList; see
// Result.Fixes); AppendJSON encodes any pdata type (bytes as a base64 string), so reports read
// back from JSON keep theirs. A Value taken from the span references the span's attribute, it is
// not a copy: see Report.Clone.
type AdditionalField struct {
	Key   string
	Value pcommon.Value
}

// Report is one PCM report. Field names follow PCM's JSON names; which fields are encoded
// depends on API and Role (see AppendJSON).
//
// Strings produced by Mapper.Map reference the span's pdata strings and the catalog's
// templates; they are never copied, so a Report is cheap to fill and safe to keep (Go strings
// are immutable). AdditionalInfo is the exception: Map reuses its backing array and its Values
// point into the span, so use Clone to keep a report beyond the next Map call on the same
// *Report or beyond the lifetime of the span.
type Report struct {
	API               API
	Role              Role   // private reports only; zero for opendata
	FapiInteractionID string // "" = omitted
	Endpoint          string // catalog template (for unlisted results: the concrete path seen)
	StatusCode        int
	HTTPMethod        string
	ClientOrgID       string
	ServerOrgID       string
	ClientSSID        string // CLIENT only
	EndpointURIPrefix string // CLIENT only
	CorrelationID     string // CLIENT only; "" = omitted
	Timestamp         time.Time
	ProcessTimespan   int64  // whole ms, >= 1
	ClientIP          string // opendata: additionalInfo.clientIp ("" = omitted)
	AdditionalInfo    []AdditionalField
	// CreditPortability: the credit-portability fields, nil when none is known. Never
	// modified once set, so copies of the report share it.
	CreditPortability *CreditPortability
}

// Clone returns a deep copy of r whose AdditionalInfo owns its slice and values, independent of
// the span and of later Map calls that reuse r.
func (r *Report) Clone() Report {
	c := *r
	if r.AdditionalInfo != nil {
		c.AdditionalInfo = make([]AdditionalField, len(r.AdditionalInfo))
		for i, f := range r.AdditionalInfo {
			v := pcommon.NewValueEmpty()
			if f.Value != (pcommon.Value{}) {
				f.Value.CopyTo(v)
			}
			c.AdditionalInfo[i] = AdditionalField{Key: f.Key, Value: v}
		}
	}
	return c
}

// Outcome is what Map made of a span.
type Outcome uint8

const (
	// OutcomeReport: out holds a report to validate and send.
	OutcomeReport Outcome = iota + 1
	// OutcomeSkipped: the span is not reportable; Result.SkipReason says why. Never an error.
	OutcomeSkipped
	// OutcomeUnlisted: an Open Finance call (its path has an /open-banking/ segment) that matches
	// no catalog template. out is filled as far as possible, with Endpoint = the concrete
	// path, so it can be counted and dead-lettered as "Unlisted endpoint" instead of being sent.
	OutcomeUnlisted
)

// String returns "report", "skipped" or "unlisted".
func (o Outcome) String() string {
	switch o {
	case OutcomeReport:
		return "report"
	case OutcomeSkipped:
		return "skipped"
	case OutcomeUnlisted:
		return "unlisted"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// SkipReason says why a span was skipped. It is used as a metric attribute value, so the set is
// small and stable.
type SkipReason string

const (
	SkipSpanKind           SkipReason = "span_kind"           // not CLIENT/SERVER
	SkipNotHTTP            SkipReason = "not_http"            // no HTTP method
	SkipNotOpenFinance     SkipReason = "not_open_finance"    // path matches nothing and has no /open-banking/ segment
	SkipMethod             SkipReason = "method"              // HEAD, OPTIONS, _OTHER, … (PCM enum is GET POST PUT DELETE PATCH)
	SkipNoStatus           SkipReason = "no_status"           // no status code, or 1xx, and not a client timeout
	SkipOpendataClient     SkipReason = "opendata_client"     // CLIENT span to an opendata template (only the server reports open data)
	SkipUnknownCounterpart SkipReason = "unknown_counterpart" // security endpoint (/token…) with no resolvable counterpart org: most likely not an Open Finance call
)

// Result is the outcome of mapping one span. SkipReason is set only for OutcomeSkipped.
//
// Fixes and DroppedInfoKey are set only for OutcomeReport and OutcomeUnlisted: the corrections
// Map made to optional values PCM would otherwise reject (see Fix). The exporter counts each fix
// (Fix.String is the metric attribute value) and logs DroppedInfoKey, rate-limited. Neither
// allocates: Fixes is a bit set and DroppedInfoKey references the span's attribute key.
type Result struct {
	Outcome    Outcome
	SkipReason SkipReason
	Fixes      Fixes
	// DroppedInfoKey is the first additionalInfo key left out (FixAdditionalInfoDropped), "" if
	// none. It is the key only, never the value.
	DroppedInfoKey string
	// CounterpartQuery is what Map asked Config.Counterparts without getting an answer (the
	// URL of a CLIENT span, the caller id of a SERVER span), "" if it asked nothing or got an
	// answer: a Directory that has not loaded yet can be asked again later.
	CounterpartQuery string
}
