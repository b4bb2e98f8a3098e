package pcmsim

import (
	"encoding/json"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Message types of DISCARDED items: a message is "<type>: <detail>", several joined by "; ".
// The requester check has no detail part ("Requester id mismatch with clientOrgId").
const (
	MsgMissingProperty      = "Missing property"
	MsgInvalidFieldValue    = "Invalid field value"
	MsgUnlistedEndpoint     = "Unlisted endpoint"
	MsgFieldTypeMismatch    = "Field type mismatch"
	MsgAdditionalProperty   = "Additional property not allowed"
	MsgRequesterMismatch    = "Requester id mismatch with"
	MsgReportTooOld         = "Report is too old"
	MsgOrgNotInDirectory    = "OrganisationId doesn't exist on Directory"
	MsgInvalidPayloadFormat = "Invalid payload format"
)

// Limits and rules of the published API.
const (
	maxMessageLen       = 200 // ReportResponse.message maxLength
	maxCorrelationIDLen = 100
	maxURIPrefixLen     = 200
	maxReportAge        = 7 * 24 * time.Hour
	maxFutureSkew       = 5 * time.Minute
	timestampLayout     = "2006-01-02T15:04:05.000Z"
)

var (
	timestampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	// freeTextPattern is the character set of correlationId and endpointUriPrefix.
	freeTextPattern = regexp.MustCompile(`^[- /:_.',0-9a-zA-Z]*$`)
	httpMethods     = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true}

	privateCommonKeys = []string{"role", "fapiInteractionId", "endpoint", "statusCode", "httpMethod",
		"clientOrgId", "serverOrgId", "correlationId", "timestamp", "processTimespan", "additionalInfo"}
	clientOnlyKeys = []string{"clientSSId", "endpointUriPrefix"}
	opendataKeys   = []string{"endpoint", "statusCode", "httpMethod", "timestamp", "processTimespan", "additionalInfo"}
)

// validator applies PCM's discard rules to one report item.
type validator struct {
	catalog *Catalog
	dir     *dirIndex
}

// itemResult is the outcome of validating one item: report is nil when the item is discarded.
type itemResult struct {
	report        *Report
	errs          []string
	correlationID *string // echoed when the item carried a string correlationId
	// best-effort copies for statistics of discarded items
	role, endpoint, method string
}

// message is the DISCARDED message: errors joined by "; ", cut to the schema's 200 characters.
func (r itemResult) message() string {
	m := strings.Join(r.errs, "; ")
	if len(m) > maxMessageLen {
		m = m[:maxMessageLen]
	}
	return m
}

// private validates a ClientReportRequest / ServerReportRequest submitted with a token of
// organisation requester.
func (v *validator) private(raw json.RawMessage, requester string, now time.Time) itemResult {
	c, res, ok := newChecker(raw)
	if !ok {
		return res
	}
	role, roleOK := c.str("role", true)
	if roleOK && role != RoleClient && role != RoleServer {
		c.invalid("role must be CLIENT or SERVER")
		roleOK = false
	}
	isClient, isServer := roleOK && role == RoleClient, roleOK && role == RoleServer
	allowed := privateCommonKeys
	if !isServer {
		allowed = append(append([]string{}, privateCommonKeys...), clientOnlyKeys...)
	}
	c.additional(allowed) // reported first, in document order

	fapi, fapiPresent := c.str("fapiInteractionId", false)
	if fapiPresent {
		switch {
		case !isUUID(fapi):
			c.invalid("fapiInteractionId must be a UUID")
		case fapi == nilUUID:
			c.invalid("fapiInteractionId must not be the nil UUID")
		}
	}
	endpoint, _ := c.endpoint(v.catalog, APIPrivate)
	status, statusOK := c.statusCode()
	if _, present := c.o.vals["fapiInteractionId"]; !present && statusOK && status != 408 && status < 500 {
		// Only a timeout (408) or a 5xx may come without an interaction id.
		c.missing("fapiInteractionId")
	}
	method, _ := c.method()
	clientOrg, clientOrgOK := c.uuid("clientOrgId", true)
	serverOrg, serverOrgOK := c.uuid("serverOrgId", true)
	ssid, _ := c.uuid("clientSSId", isClient)
	prefix, _ := c.freeText("endpointUriPrefix", isClient, maxURIPrefixLen)
	corr, _ := c.freeText("correlationId", false, maxCorrelationIDLen)
	ts, _ := c.timestamp(now)
	span, _ := c.processTimespan()
	info, _ := c.object("additionalInfo", isClient)

	v.checkOrgs(c, isClient, isServer, clientOrg, clientOrgOK, serverOrg, serverOrgOK, requester)

	res = c.result()
	res.role = role
	if len(res.errs) > 0 {
		return res
	}
	res.report = &Report{
		API: APIPrivate, SubmittedBy: requester, Role: role, Endpoint: endpoint, StatusCode: status,
		HTTPMethod: method, ClientOrgID: clientOrg, ServerOrgID: serverOrg, ClientSSID: ssid,
		EndpointURIPrefix: prefix, CorrelationID: corr, Timestamp: ts, ProcessTimespan: span,
		AdditionalInfo: info,
	}
	if fapiPresent {
		res.report.FapiInteractionID = fapi
	}
	return res
}

// opendata validates an OpendataReportRequest (additionalProperties: false).
func (v *validator) opendata(raw json.RawMessage, requester string, now time.Time) itemResult {
	c, res, ok := newChecker(raw)
	if !ok {
		return res
	}
	c.additional(opendataKeys)
	endpoint, _ := c.endpoint(v.catalog, APIOpendata)
	status, _ := c.statusCode()
	method, _ := c.method()
	ts, _ := c.timestamp(now)
	span, _ := c.processTimespan()
	info, infoOK := c.object("additionalInfo", true)
	if infoOK {
		if o, err := parseObject(info); err == nil {
			if ipRaw, present := o.vals["clientIp"]; present {
				var ip string
				if jsonKind(ipRaw) != "string" || json.Unmarshal(ipRaw, &ip) != nil {
					c.fail(MsgFieldTypeMismatch, "additionalInfo.clientIp")
				} else if _, err := netip.ParseAddr(ip); err != nil {
					c.invalid("additionalInfo.clientIp must be an IPv4 or IPv6 address")
				}
			}
		}
	}
	res = c.result()
	if len(res.errs) > 0 {
		return res
	}
	res.report = &Report{
		API: APIOpendata, SubmittedBy: requester, Endpoint: endpoint, StatusCode: status, HTTPMethod: method,
		Timestamp: ts, ProcessTimespan: span, AdditionalInfo: info,
	}
	return res
}

// checker accumulates the errors of one item, in rule order.
type checker struct {
	o    object
	errs []string
}

func newChecker(raw json.RawMessage) (*checker, itemResult, bool) {
	o, err := parseObject(raw)
	if err != nil {
		return nil, itemResult{errs: []string{MsgInvalidPayloadFormat + ": report MUST be an object"}}, false
	}
	return &checker{o: o}, itemResult{}, true
}

func (c *checker) result() itemResult {
	res := itemResult{errs: c.errs}
	if raw, ok := c.o.vals["correlationId"]; ok && jsonKind(raw) == "string" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			res.correlationID = &s
		}
	}
	res.endpoint, _ = c.peekString("endpoint")
	res.method, _ = c.peekString("httpMethod")
	return res
}

func (c *checker) raw(msg string)            { c.errs = append(c.errs, msg) }
func (c *checker) fail(typ, detail string)   { c.raw(typ + ": " + detail) }
func (c *checker) missing(field string)      { c.fail(MsgMissingProperty, field) }
func (c *checker) invalid(detail string)     { c.fail(MsgInvalidFieldValue, detail) }
func (c *checker) mismatch(field string)     { c.fail(MsgFieldTypeMismatch, field) }
func (c *checker) present(field string) bool { _, ok := c.o.vals[field]; return ok }
func (c *checker) kind(field string) string  { return jsonKind(c.o.vals[field]) }
func (c *checker) peekString(f string) (string, bool) {
	var s string
	raw, ok := c.o.vals[f]
	return s, ok && jsonKind(raw) == "string" && json.Unmarshal(raw, &s) == nil
}

// additional reports every key outside allowed, in document order.
func (c *checker) additional(allowed []string) {
	for _, k := range c.o.keys {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			c.fail(MsgAdditionalProperty, k)
		}
	}
}

// str returns a string field; absent → Missing property (when required), not a string → Field
// type mismatch. The boolean is true only for a present string.
func (c *checker) str(field string, required bool) (string, bool) {
	if !c.present(field) {
		if required {
			c.missing(field)
		}
		return "", false
	}
	s, ok := c.peekString(field)
	if !ok {
		c.mismatch(field)
	}
	return s, ok
}

func (c *checker) uuid(field string, required bool) (string, bool) {
	s, ok := c.str(field, required)
	if ok && !isUUID(s) {
		c.invalid(field + " must be a UUID")
		return s, false
	}
	return s, ok
}

// number returns a JSON number field (required).
func (c *checker) number(field string) (json.Number, float64, bool) {
	if !c.present(field) {
		c.missing(field)
		return "", 0, false
	}
	if c.kind(field) != "number" {
		c.mismatch(field)
		return "", 0, false
	}
	n := json.Number(strings.TrimSpace(string(c.o.vals[field])))
	f, err := n.Float64()
	if err != nil { // out of float64 range
		c.mismatch(field)
		return "", 0, false
	}
	return n, f, true
}

func (c *checker) endpoint(cat *Catalog, api API) (string, bool) {
	ep, ok := c.str("endpoint", true)
	switch {
	case !ok:
		return "", false
	case ep == "":
		c.invalid("endpoint must not be empty")
		return "", false
	case !cat.Accepts(api, ep):
		c.fail(MsgUnlistedEndpoint, ep)
		return ep, false
	}
	return ep, true
}

func (c *checker) statusCode() (int, bool) {
	_, f, ok := c.number("statusCode")
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) { // integer (200.0 is an integer in JSON Schema and JavaScript)
		c.mismatch("statusCode")
		return 0, false
	}
	if f < 200 || f > 599 {
		c.invalid("statusCode must be between 200 and 599")
		return 0, false
	}
	return int(f), true
}

func (c *checker) method() (string, bool) {
	m, ok := c.str("httpMethod", true)
	if ok && !httpMethods[m] {
		c.invalid("httpMethod must be one of GET, POST, PUT, DELETE, PATCH")
		return m, false
	}
	return m, ok
}

// freeText checks correlationId / endpointUriPrefix: ^[- /:_.',0-9a-zA-Z]{0,max}$.
func (c *checker) freeText(field string, required bool, max int) (string, bool) {
	s, ok := c.str(field, required)
	switch {
	case !ok:
		return "", false
	case len(s) > max:
		c.invalid(field + " must be at most " + strconv.Itoa(max) + " characters")
		return s, false
	case !freeTextPattern.MatchString(s):
		c.invalid(field + " contains invalid characters")
		return s, false
	}
	return s, true
}

func (c *checker) timestamp(now time.Time) (string, bool) {
	return c.timestampWithin(now, maxReportAge)
}

// timestampWithin checks timestamp with the age limit of the report's API.
func (c *checker) timestampWithin(now time.Time, maxAge time.Duration) (string, bool) {
	s, ok := c.str("timestamp", true)
	if !ok {
		return "", false
	}
	t, err := time.Parse(timestampLayout, s)
	switch {
	case err != nil || !timestampPattern.MatchString(s):
		c.invalid("timestamp must be in the format YYYY-MM-DDTHH:mm:ss.sssZ")
		return s, false
	case now.Sub(t) > maxAge:
		c.fail(MsgReportTooOld, "timestamp")
		return s, false
	case t.Sub(now) > maxFutureSkew:
		c.invalid("timestamp must not be more than 5 minutes in the future")
		return s, false
	}
	return s, true
}

func (c *checker) processTimespan() (json.Number, bool) {
	n, f, ok := c.number("processTimespan")
	if ok && f <= 0 {
		c.invalid("processTimespan must be greater than zero")
		return n, false
	}
	return n, ok
}

// object returns an object field as raw JSON.
func (c *checker) object(field string, required bool) (json.RawMessage, bool) {
	if !c.present(field) {
		if required {
			c.missing(field)
		}
		return nil, false
	}
	if c.kind(field) != "object" {
		c.mismatch(field)
		return nil, false
	}
	return c.o.vals[field], true
}

// checkOrgs applies PCM's organisation rules to a report: the requester (the organisation of the
// token) must be the client of a CLIENT report and the server of a SERVER report, and both
// organisations must exist in the Directory.
func (v *validator) checkOrgs(c *checker, isClient, isServer bool, clientOrg string, clientOrgOK bool, serverOrg string, serverOrgOK bool, requester string) {
	switch {
	case isClient && clientOrgOK && !strings.EqualFold(clientOrg, requester):
		c.raw(MsgRequesterMismatch + " clientOrgId")
	case isServer && serverOrgOK && !strings.EqualFold(serverOrg, requester):
		c.raw(MsgRequesterMismatch + " serverOrgId")
	}
	if clientOrgOK && !v.dir.hasOrg(clientOrg) {
		c.fail(MsgOrgNotInDirectory, "clientOrgId")
	}
	if serverOrgOK && !v.dir.hasOrg(serverOrg) {
		c.fail(MsgOrgNotInDirectory, "serverOrgId")
	}
}
