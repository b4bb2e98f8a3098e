package mapping

import (
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// MaxCreditPortabilityReportAge: PCM discards credit-portability reports older than 10 days
// (docs/pcm-rules.md §12.1, Decision 5), where the other APIs allow 7.
const MaxCreditPortabilityReportAge = 10 * MaxReportAge / 7

// Span attributes holding the fields of a credit-portability report that the HTTP call itself
// does not show (docs/pcm-rules.md §12.1): the instrumentation copies them from the request or
// response bodies of the credit-portability API.
const (
	AttrPortabilityID           = "pcm.credit_portability.portability_id"
	AttrPortabilityConsentID    = "pcm.credit_portability.consent_id"
	AttrPortabilityCreation     = "pcm.credit_portability.creation_date_time"
	AttrPortabilityStatus       = "pcm.credit_portability.status"
	AttrPortabilityStatusUpdate = "pcm.credit_portability.status_update_date_time"
	AttrPortabilityRejection    = "pcm.credit_portability.rejection_reason"
	AttrPortabilityRejectedBy   = "pcm.credit_portability.rejected_by"
	AttrPortabilityErrorCode    = "pcm.credit_portability.error_code"
)

// CreditPortability holds the fields only credit-portability reports have, in PCM's names.
// "" means absent: the field is left out of the JSON.
type CreditPortability struct {
	PortabilityID           string
	ConsentID               string
	CreationDateTime        string
	CreditPortabilityStatus string
	StatusUpdateDateTime    string
	RejectionReason         string
	RejectedBy              string
	ErrorCode               string
}

// readCreditPortability takes the fields from the span's attributes (string values only; a
// credit-portability span is rare, so a few lookups cost nothing worth a pass of their own).
// It returns nil when the span carries none of them.
func readCreditPortability(span ptrace.Span) *CreditPortability {
	attrs := span.Attributes()
	get := func(name string) string {
		if v, ok := attrs.Get(name); ok {
			return v.AsString()
		}
		return ""
	}
	cp := CreditPortability{
		PortabilityID:           get(AttrPortabilityID),
		ConsentID:               get(AttrPortabilityConsentID),
		CreationDateTime:        get(AttrPortabilityCreation),
		CreditPortabilityStatus: get(AttrPortabilityStatus),
		StatusUpdateDateTime:    get(AttrPortabilityStatusUpdate),
		RejectionReason:         get(AttrPortabilityRejection),
		RejectedBy:              get(AttrPortabilityRejectedBy),
		ErrorCode:               get(AttrPortabilityErrorCode),
	}
	if cp == (CreditPortability{}) {
		return nil
	}
	return &cp
}

// appendCreditPortability appends the set fields, each after a comma. creationDateTime and
// errorCode are CLIENT fields (docs/pcm-rules.md §12.1): a SERVER report leaves them out.
func appendCreditPortability(dst []byte, cp *CreditPortability, role Role) []byte {
	if cp == nil {
		return dst
	}
	dst = appendStrIfSet(dst, `,"portabilityId":`, cp.PortabilityID)
	dst = appendStrIfSet(dst, `,"consentId":`, cp.ConsentID)
	if role == RoleClient {
		dst = appendStrIfSet(dst, `,"creationDateTime":`, cp.CreationDateTime)
	}
	dst = appendStrIfSet(dst, `,"creditPortabilityStatus":`, cp.CreditPortabilityStatus)
	dst = appendStrIfSet(dst, `,"statusUpdateDateTime":`, cp.StatusUpdateDateTime)
	dst = appendStrIfSet(dst, `,"rejectionReason":`, cp.RejectionReason)
	dst = appendStrIfSet(dst, `,"rejectedBy":`, cp.RejectedBy)
	if role == RoleClient {
		dst = appendStrIfSet(dst, `,"errorCode":`, cp.ErrorCode)
	}
	return dst
}

// Credit-portability templates named by PCM's rules (docs/pcm-rules.md §12.1).
const (
	portabilitiesTemplate = "/open-banking/credit-portability/v1/portabilities"
	portabilityTemplate   = "/open-banking/credit-portability/v1/portabilities/{portabilityId}"
)

// portabilityDateTime is PCM's pattern for creationDateTime and statusUpdateDateTime.
var portabilityDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-][01]\d:[0-5]\d)$`)

// checkCreditPortability applies PCM's rules for the credit-portability fields
// (docs/pcm-rules.md §12.1): creationDateTime is required on the CLIENT's successful POST/GET of
// a portability; the two date-times must match PCM's pattern; the identifiers and enums that
// PCM checks are checked when set (Decision 27).
func checkCreditPortability(ps []Problem, r *Report) []Problem {
	var cp CreditPortability
	if r.CreditPortability != nil {
		cp = *r.CreditPortability
	}
	success := r.StatusCode < 400
	onPortability := r.Endpoint == portabilitiesTemplate || r.Endpoint == portabilityTemplate
	switch {
	case cp.CreationDateTime == "":
		if r.Role == RoleClient && success && onPortability && (r.HTTPMethod == "POST" || r.HTTPMethod == "GET") {
			ps = append(ps, Problem{Type: ProblemMissingProperty, Field: "creationDateTime"})
		}
	case !portabilityDateTime.MatchString(cp.CreationDateTime):
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "creationDateTime", Detail: "must be a date-time"})
	}
	if cp.StatusUpdateDateTime != "" && !portabilityDateTime.MatchString(cp.StatusUpdateDateTime) {
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "statusUpdateDateTime", Detail: "must be a date-time"})
	}
	if cp.PortabilityID != "" && !IsUUID(cp.PortabilityID) {
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "portabilityId", Detail: "must be a UUID"})
	}
	if cp.ConsentID != "" && (len(cp.ConsentID) > maxURNLength || !isURN(cp.ConsentID)) {
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "consentId", Detail: "must be a URN of at most 100 characters"})
	}
	if cp.CreditPortabilityStatus != "" && !oneOf(cp.CreditPortabilityStatus, portabilityStatuses) {
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "creditPortabilityStatus", Detail: "must be one of " + strings.Join(portabilityStatuses, ", ")})
	}
	if cp.RejectedBy != "" && !oneOf(cp.RejectedBy, portabilityRejectedBy) {
		ps = append(ps, Problem{Type: ProblemInvalidFieldValue, Field: "rejectedBy", Detail: "must be one of " + strings.Join(portabilityRejectedBy, ", ")})
	}
	return ps
}

var (
	portabilityStatuses = []string{
		"ACCEPTED_SETTLEMENT_COMPLETED", "ACCEPTED_SETTLEMENT_IN_PROGRESS", "CANCELLED", "PENDING",
		"PAYMENT_ISSUE", "PORTABILITY_COMPLETED", "RECEIVED", "REJECTED",
	}
	portabilityRejectedBy = []string{"CREDORA", "PROPONENTE", "USUARIO"}
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
