package pcmsim

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Credit-portability report paths: CLIENT reports on one, SERVER reports on the other.
const (
	CreditPortabilityClientPath = "/report-api/v1/credit-portabilities/client"
	CreditPortabilityServerPath = "/report-api/v1/credit-portabilities/server"
)

// maxPortabilityReportAge: credit-portability reports are kept for 10 days, not 7.
const maxPortabilityReportAge = 10 * 24 * time.Hour

var (
	portabilityCommonKeys = []string{"role", "fapiInteractionId", "endpoint", "statusCode", "httpMethod",
		"clientOrgId", "serverOrgId", "timestamp", "processTimespan",
		"portabilityId", "consentId", "creditPortabilityStatus", "statusUpdateDateTime", "rejectionReason", "rejectedBy"}
	portabilityClientOnlyKeys = []string{"clientSSId", "endpointUriPrefix", "correlationId", "creationDateTime", "errorCode"}

	portabilityDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-][01]\d:[0-5]\d)$`)
	urnPattern          = regexp.MustCompile(`^urn:[a-zA-Z0-9][a-zA-Z0-9\-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$`)
	portabilityStatuses = []string{"ACCEPTED_SETTLEMENT_COMPLETED", "ACCEPTED_SETTLEMENT_IN_PROGRESS", "CANCELLED", "PENDING",
		"PAYMENT_ISSUE", "PORTABILITY_COMPLETED", "RECEIVED", "REJECTED"}
	portabilityRejectedBy = []string{"CREDORA", "PROPONENTE", "USUARIO"}
)

// Templates named by PCM's credit-portability rules.
const (
	portabilitiesEP = "/open-banking/credit-portability/v1/portabilities"
	portabilityEP   = "/open-banking/credit-portability/v1/portabilities/{portabilityId}"
)

// creditPortability validates a credit-portability report POSTed to the path of pathRole
// (CLIENT or SERVER): the private report's fields without additionalInfo (SERVER: without the
// client-only ones), role equal to the path's, the credit-portability templates, a 10-day age
// limit, and the rules of the credit-portability fields.
func (v *validator) creditPortability(raw json.RawMessage, pathRole, requester string, now time.Time) itemResult {
	c, res, ok := newChecker(raw)
	if !ok {
		return res
	}
	role, roleOK := c.str("role", true)
	if roleOK && role != pathRole {
		c.invalid("role must be " + pathRole + " on this path")
	}
	isClient := pathRole == RoleClient
	allowed := portabilityCommonKeys
	if isClient {
		allowed = append(slices.Clone(portabilityCommonKeys), portabilityClientOnlyKeys...)
	}
	c.additional(allowed)

	fapi, fapiPresent := c.str("fapiInteractionId", false)
	if fapiPresent && (!isUUID(fapi) || fapi == nilUUID) {
		c.invalid("fapiInteractionId must be a UUID")
	}
	endpoint, _ := c.endpoint(v.catalog, APICreditPortability)
	status, statusOK := c.statusCode()
	if !fapiPresent && statusOK && status != 408 && status < 500 {
		c.missing("fapiInteractionId")
	}
	method, _ := c.method()
	clientOrg, clientOrgOK := c.uuid("clientOrgId", true)
	serverOrg, serverOrgOK := c.uuid("serverOrgId", true)
	ssid, _ := c.uuid("clientSSId", isClient)
	prefix, _ := c.freeText("endpointUriPrefix", isClient, maxURIPrefixLen)
	corr, _ := c.freeText("correlationId", false, maxCorrelationIDLen)
	ts, _ := c.timestampWithin(now, maxPortabilityReportAge)
	span, _ := c.processTimespan()

	success := statusOK && status < 400
	onPortability := endpoint == portabilitiesEP || endpoint == portabilityEP
	if pid, ok := c.str("portabilityId", false); ok && !isUUID(pid) {
		c.invalid("portabilityId must be a UUID")
	}
	if consent, ok := c.str("consentId", false); ok && (len(consent) > 100 || !urnPattern.MatchString(consent)) {
		c.invalid("consentId must be a URN of at most 100 characters")
	}
	needCreation := isClient && success && onPortability && (method == "POST" || method == "GET")
	if created, ok := c.str("creationDateTime", needCreation); ok && !portabilityDateTime.MatchString(created) {
		c.invalid("creationDateTime must be a date-time")
	}
	if st, ok := c.str("creditPortabilityStatus", false); ok && !slices.Contains(portabilityStatuses, st) {
		c.invalid("creditPortabilityStatus must be one of " + strings.Join(portabilityStatuses, ", "))
	}
	if updated, ok := c.str("statusUpdateDateTime", false); ok && !portabilityDateTime.MatchString(updated) {
		c.invalid("statusUpdateDateTime must be a date-time")
	}
	if by, ok := c.str("rejectedBy", false); ok && !slices.Contains(portabilityRejectedBy, by) {
		c.invalid("rejectedBy must be one of " + strings.Join(portabilityRejectedBy, ", "))
	}
	c.str("rejectionReason", false)
	c.str("errorCode", false)

	v.checkOrgs(c, isClient, !isClient, clientOrg, clientOrgOK, serverOrg, serverOrgOK, requester)

	res = c.result()
	res.role = role
	if len(res.errs) > 0 {
		return res
	}
	res.report = &Report{
		API: APICreditPortability, SubmittedBy: requester, Role: pathRole, Endpoint: endpoint, StatusCode: status,
		HTTPMethod: method, ClientOrgID: clientOrg, ServerOrgID: serverOrg, ClientSSID: ssid,
		EndpointURIPrefix: prefix, CorrelationID: corr, Timestamp: ts, ProcessTimespan: span,
		CreditPortability: c.portabilityFields(),
	}
	if fapiPresent {
		res.report.FapiInteractionID = fapi
	}
	return res
}

// portabilityFields keeps the credit-portability fields of a valid item, as submitted.
func (c *checker) portabilityFields() map[string]string {
	out := map[string]string{}
	for _, k := range []string{"portabilityId", "consentId", "creationDateTime", "creditPortabilityStatus",
		"statusUpdateDateTime", "rejectionReason", "rejectedBy", "errorCode"} {
		if s, ok := c.peekString(k); ok {
			out[k] = s
		}
	}
	return out
}
