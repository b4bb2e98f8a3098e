package mapping

import (
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// PCM's time window for report timestamps (Decision 5).
const (
	// MaxReportAge: older reports are discarded with "Report is too old".
	MaxReportAge = 7 * 24 * time.Hour
	// MaxClockSkew: reports more than this far in the future are discarded (release 2025D).
	MaxClockSkew = 5 * time.Minute
)

// Length limits of PCM's free-text fields.
const (
	maxEndpointURIPrefix = 200
	maxCorrelationID     = 100
)

// Problem types, in PCM's message vocabulary (docs/pcm-rules.md §4.3).
const (
	ProblemMissingProperty   = "Missing property"
	ProblemInvalidFieldValue = "Invalid field value"
	ProblemUnlistedEndpoint  = "Unlisted endpoint"
	ProblemReportTooOld      = "Report is too old"
	ProblemAdditionalProp    = "Additional property not allowed"
	ProblemFieldTypeMismatch = "Field type mismatch"
	ProblemInvalidPayload    = "Invalid payload format"
)

// Problem is one reason PCM would discard the report, in PCM's message vocabulary.
type Problem struct {
	Type   string // "Missing property", "Invalid field value", "Unlisted endpoint", "Report is too old", "Additional property not allowed"…
	Field  string // PCM field name, e.g. "clientOrgId"
	Detail string // e.g. "must be a UUID"
}

// String renders the problem like PCM's messages: "<Type>: <Field>" or
// "<Type>: <Field> <Detail>"; an unlisted endpoint shows the endpoint itself
// ("Unlisted endpoint: /open-banking/x/v1/y").
func (p Problem) String() string {
	if p.Type == ProblemUnlistedEndpoint && p.Detail != "" {
		return p.Type + ": " + p.Detail
	}
	if p.Detail == "" {
		return p.Type + ": " + p.Field
	}
	return p.Type + ": " + p.Field + " " + p.Detail
}

// JoinProblems joins problems with "; " like PCM joins the errors of one report.
func JoinProblems(ps []Problem) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Validator applies PCM's discard rules locally. The zero Validator uses DefaultCatalog.
type Validator struct {
	Catalog *Catalog // nil → DefaultCatalog()
}

// Validate applies PCM's discard rules locally and returns every problem (nil = PCM should accept
// it), in field order. A zero now leaves out the checks that depend on the time of sending
// (see CheckTime). It does not allocate for a valid report. additionalInfo is checked only
// for consentId's URN format; other keys and enums pass through (Decision 25).
func (v Validator) Validate(r *Report, now time.Time) []Problem {
	if r == nil {
		return []Problem{{Type: ProblemInvalidPayload, Field: "report", Detail: "is null"}}
	}
	catalog := v.Catalog
	if catalog == nil {
		catalog = DefaultCatalog()
	}
	var ps []Problem
	switch r.API {
	case APIOpendata:
		ps = checkEndpoint(ps, catalog, r.Endpoint, APIOpendata)
		ps = checkCommon(ps, r, now)
		return ps
	case APIPrivate, APICreditPortability:
	default:
		return append(ps, Problem{Type: ProblemInvalidPayload, Field: "api", Detail: "must be private, opendata or credit_portability"})
	}

	ps = checkInteractionID(ps, r)
	ps = checkEndpoint(ps, catalog, r.Endpoint, r.API)
	ps = checkCommon(ps, r, now)
	ps = checkOrgID(ps, "clientOrgId", r.ClientOrgID)
	ps = checkOrgID(ps, "serverOrgId", r.ServerOrgID)
	switch r.Role {
	case RoleClient:
		ps = checkOrgID(ps, "clientSSId", r.ClientSSID)
		ps = checkText(ps, "endpointUriPrefix", r.EndpointURIPrefix, maxEndpointURIPrefix, true)
		ps = checkText(ps, "correlationId", r.CorrelationID, maxCorrelationID, false)
	case RoleServer:
		// Decision 10/24: client-only keys in a server report are rejected
		// ("Unrecognized key(s) in object"); AppendJSON never writes them.
		if r.ClientSSID != "" {
			ps = append(ps, Problem{Type: ProblemAdditionalProp, Field: "clientSSId"})
		}
		if r.EndpointURIPrefix != "" {
			ps = append(ps, Problem{Type: ProblemAdditionalProp, Field: "endpointUriPrefix"})
		}
	case 0:
		ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "role"})
	default:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "role", Detail: "must be CLIENT or SERVER"})
	}
	if r.API == APICreditPortability {
		return checkCreditPortability(ps, r)
	}
	return checkConsentID(ps, r.AdditionalInfo)
}

// checkInteractionID: a UUID other than the all-zero one; absent only for 408 and 5xx (the
// report then ends SINGLE, Decisions 3 and 23).
func checkInteractionID(ps []Problem, r *Report) []Problem {
	id := r.FapiInteractionID
	valid, zero := uuidKind(id)
	switch {
	case id == "":
		if r.StatusCode != statusTimeout && (r.StatusCode < 500 || r.StatusCode > 599) {
			ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "fapiInteractionId"})
		}
	case !valid:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "fapiInteractionId", Detail: "must be a UUID"})
	case zero:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "fapiInteractionId", Detail: "must not be the zero UUID"})
	}
	return ps
}

func checkEndpoint(ps []Problem, c *Catalog, endpoint string, api API) []Problem {
	switch {
	case endpoint == "":
		ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "endpoint"})
	case !c.Contains(endpoint, api):
		ps = append(ps, Problem{Type: ProblemUnlistedEndpoint, Field: "endpoint", Detail: endpoint})
	}
	return ps
}

// checkCommon checks the fields shared by private and opendata reports.
func checkCommon(ps []Problem, r *Report, now time.Time) []Problem {
	switch {
	case r.StatusCode == 0:
		ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "statusCode"})
	case r.StatusCode < 200 || r.StatusCode > 599:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "statusCode", Detail: "must be between 200 and 599"})
	}
	switch {
	case r.HTTPMethod == "":
		ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "httpMethod"})
	case canonicalMethod(r.HTTPMethod) != r.HTTPMethod:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "httpMethod", Detail: "must be one of GET, POST, PUT, DELETE, PATCH"})
	}
	switch {
	case r.Timestamp.IsZero():
		ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "timestamp"})
	case !now.IsZero():
		ps = CheckReportTime(ps, r, now)
	}
	if r.ProcessTimespan < 1 {
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "processTimespan", Detail: "must be greater than zero"})
	}
	return ps
}

// CheckTime appends the problems of a report timestamp ts sent at now: PCM's 7-day limit and
// its 5-minute tolerance for clocks ahead. They depend on the time of sending, so a report
// that waits in a queue is checked again when it is sent.
func CheckTime(ps []Problem, ts, now time.Time) []Problem {
	return checkTime(ps, ts, now, MaxReportAge)
}

// CheckReportTime is CheckTime with the age limit of the report's API: 10 days for credit
// portability, 7 for the others (Decision 5).
func CheckReportTime(ps []Problem, r *Report, now time.Time) []Problem {
	return checkTime(ps, r.Timestamp, now, MaxAge(r.API))
}

// MaxAge is PCM's age limit for reports of api.
func MaxAge(api API) time.Duration {
	if api == APICreditPortability {
		return MaxCreditPortabilityReportAge
	}
	return MaxReportAge
}

func checkTime(ps []Problem, ts, now time.Time, maxAge time.Duration) []Problem {
	switch {
	case since(now, ts) > maxAge:
		ps = append(ps, Problem{Type: ProblemReportTooOld, Field: "timestamp"})
	case since(ts, now) > MaxClockSkew:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "timestamp", Detail: "must not be more than 5 minutes in the future"})
	}
	return ps
}

func checkOrgID(ps []Problem, field, v string) []Problem {
	switch {
	case v == "":
		ps = append(ps, Problem{Type: ProblemMissingProperty, Field: field})
	case !IsUUID(v):
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: field, Detail: "must be a UUID"})
	}
	return ps
}

// checkText checks a free-text field against ^[- /:_.',0-9a-zA-Z]{0,max}$.
func checkText(ps []Problem, field, v string, maxLen int, required bool) []Problem {
	switch {
	case v == "":
		if required {
			ps = append(ps, Problem{Type: ProblemMissingProperty, Field: field})
		}
	case len(v) > maxLen:
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: field, Detail: maxLenDetail(maxLen)})
	case !isPCMText(v):
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: field, Detail: "must only contain letters, digits, space and - / : _ . ' ,"})
	}
	return ps
}

func maxLenDetail(n int) string {
	switch n {
	case maxEndpointURIPrefix:
		return "must be at most 200 characters"
	case maxCorrelationID:
		return "must be at most 100 characters"
	}
	return "is too long"
}

// checkConsentID: additionalInfo.consentId, when present, is a string URN of at most 100
// characters. It is the one additionalInfo key whose format PCM checks on every endpoint.
func checkConsentID(ps []Problem, info []AdditionalField) []Problem {
	for i := range info {
		if info[i].Key != additionalConsentID {
			continue
		}
		v := info[i].Value
		const field = "additionalInfo.consentId"
		switch {
		case v == (pcommon.Value{}) || v.Type() != pcommon.ValueTypeStr:
			ps = append(ps, Problem{Type: ProblemFieldTypeMismatch, Field: field, Detail: "must be a string"})
		case len(v.Str()) > maxURNLength:
			ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: field, Detail: "must be at most 100 characters"})
		case !isURN(v.Str()):
			ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: field, Detail: "must be a URN"})
		}
		return ps
	}
	return ps
}

// since returns a − b, saturating, from wall-clock readings only. time.Time.Sub also handles
// monotonic readings and overflow in ways that cost more than the rest of the timestamp check.
func since(a, b time.Time) time.Duration {
	const limit = 1 << 33 // seconds; far beyond any age PCM cares about, far below overflow
	sec := a.Unix() - b.Unix()
	switch {
	case sec > limit:
		return math.MaxInt64
	case sec < -limit:
		return math.MinInt64
	}
	return time.Duration(sec)*time.Second + time.Duration(a.Nanosecond()-b.Nanosecond())
}
