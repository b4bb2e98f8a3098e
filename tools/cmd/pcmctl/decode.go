package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// The keys PCM accepts in a report (docs/pcm-rules.md §5, §7). Private reports: every key of
// ClientReportRequest; the Validator rejects the client-only ones in a SERVER report.
var (
	privateKeys = []string{"fapiInteractionId", "endpoint", "statusCode", "httpMethod", "clientOrgId", "serverOrgId",
		"clientSSId", "endpointUriPrefix", "correlationId", "timestamp", "processTimespan", "role", "additionalInfo"}
	opendataKeys = []string{"endpoint", "statusCode", "httpMethod", "timestamp", "processTimespan", "additionalInfo"}
	// portabilityKeys: the credit-portability API's keys (docs/pcm-rules.md §12.1).
	portabilityKeys = []string{"fapiInteractionId", "endpoint", "statusCode", "httpMethod", "clientOrgId", "serverOrgId",
		"clientSSId", "endpointUriPrefix", "correlationId", "timestamp", "processTimespan", "role",
		"portabilityId", "consentId", "creationDateTime", "creditPortabilityStatus", "statusUpdateDateTime",
		"rejectionReason", "rejectedBy", "errorCode"}
	// privateOnlyKeys tell a private report from an opendata one when nothing else says which.
	privateOnlyKeys = []string{"role", "fapiInteractionId", "clientOrgId", "serverOrgId", "clientSSId", "endpointUriPrefix", "correlationId"}
)

var timestampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// requesterMismatch is PCM's message when the reporting organisation is not the report's
// client (CLIENT) or server (SERVER); it has no "<type>: " form, so it is not a Problem.
const requesterMismatch = "Requester id mismatch with "

// judged is a report read from a file and what PCM would make of it.
type judged struct {
	report mapping.Report
	// problems are the reasons PCM would discard the report, in PCM's words; empty = ACCEPTED.
	problems []string
}

func (j *judged) ok() bool        { return len(j.problems) == 0 }
func (j *judged) message() string { return strings.Join(j.problems, "; ") }

// judge decodes a report object written with PCM's JSON field names and applies what PCM would
// check: the keys and JSON types (here), the discard rules (mapping.Validator, as the exporter
// applies them before sending) and the requester check against our org_id. api says which
// report API the object is meant for.
//
// counterparts, if not nil, names the server of a private CLIENT report that has none, from the
// URL it called (endpointUriPrefix + endpoint), as the exporter would have.
func judge(raw []byte, api mapping.API, validator mapping.Validator, orgID string, now time.Time, counterparts mapping.CounterpartResolver) judged {
	r, decodeProblems, flagged := decodeReport(raw, api)
	if counterparts != nil && api == mapping.APIPrivate && r.Role == mapping.RoleClient && r.ServerOrgID == "" && r.EndpointURIPrefix != "" {
		r.ServerOrgID = counterparts.ServerOrg(r.EndpointURIPrefix + r.Endpoint)
	}
	ps := decodeProblems
	if !flagged[""] { // "" = the object itself was unreadable
		for _, p := range validator.Validate(&r, now) {
			if !flagged[p.Field] { // already reported more precisely by the decoder
				ps = append(ps, p)
			}
		}
	}
	j := judged{report: r}
	for _, p := range ps {
		j.problems = append(j.problems, p.String())
	}
	// PCM takes the requester from the token: our org_id must be the client of a CLIENT report
	// and the server of a SERVER report.
	switch {
	case api == mapping.APIOpendata || flagged[""]:
	case r.Role == mapping.RoleClient && mapping.IsUUID(r.ClientOrgID) && !strings.EqualFold(r.ClientOrgID, orgID):
		j.problems = append(j.problems, requesterMismatch+"clientOrgId")
	case r.Role == mapping.RoleServer && mapping.IsUUID(r.ServerOrgID) && !strings.EqualFold(r.ServerOrgID, orgID):
		j.problems = append(j.problems, requesterMismatch+"serverOrgId")
	}
	return j
}

// inferAPI says which report API a plain report object is for: a dead-letter entry names it;
// otherwise a credit-portability template makes it a credit-portability report, any
// private-only key makes it private, an opendata template makes it opendata, and the rest is
// private (PCM then says what is missing).
func inferAPI(raw []byte, entryAPI string, catalog *mapping.Catalog) mapping.API {
	switch entryAPI {
	case mapping.APIPrivate.String():
		return mapping.APIPrivate
	case mapping.APIOpendata.String():
		return mapping.APIOpendata
	case mapping.APICreditPortability.String():
		return mapping.APICreditPortability
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil {
		return mapping.APIPrivate
	}
	var template string
	if json.Unmarshal(probe["endpoint"], &template) == nil && catalog.Contains(template, mapping.APICreditPortability) {
		return mapping.APICreditPortability
	}
	for _, k := range privateOnlyKeys {
		if _, ok := probe[k]; ok {
			return mapping.APIPrivate
		}
	}
	var endpoint string
	if json.Unmarshal(probe["endpoint"], &endpoint) == nil && catalog.Contains(endpoint, mapping.APIOpendata) {
		return mapping.APIOpendata
	}
	return mapping.APIPrivate
}

// decodeReport reads a report object into a mapping.Report. It returns the problems only the
// JSON shows (unknown keys, wrong types, a malformed timestamp, a missing processTimespan or
// additionalInfo) and the set of fields they concern, so that the Validator's less precise
// view of the same field can be dropped. flagged[""] means the object itself is unreadable.
// additionalInfo keeps its keys in order and its values as pcommon values, so that
// mapping.AppendJSON writes them back as they were.
func decodeReport(raw []byte, api mapping.API) (mapping.Report, []mapping.Problem, map[string]bool) {
	r := mapping.Report{API: api}
	flagged := map[string]bool{}
	var ps []mapping.Problem
	fail := func(p mapping.Problem) {
		ps = append(ps, p)
		flagged[p.Field] = true
	}
	fields, err := objectFields(raw)
	if err != nil {
		flagged[""] = true
		return r, []mapping.Problem{{Type: mapping.ProblemInvalidPayload, Field: "report", Detail: "MUST be an object"}}, flagged
	}
	allowed := privateKeys
	switch api {
	case mapping.APIOpendata:
		allowed = opendataKeys
	case mapping.APICreditPortability:
		allowed = portabilityKeys
	}
	for _, f := range fields {
		if !contains(allowed, f.key) {
			fail(mapping.Problem{Type: mapping.ProblemAdditionalProp, Field: f.key})
		}
	}

	str := func(field string, dst *string) {
		v, ok := lookup(fields, field)
		if !ok || isNull(v) {
			return
		}
		if err := json.Unmarshal(v, dst); err != nil || v[0] != '"' {
			*dst = ""
			fail(mapping.Problem{Type: mapping.ProblemFieldTypeMismatch, Field: field})
		}
	}
	str("endpoint", &r.Endpoint)
	str("httpMethod", &r.HTTPMethod)
	if api != mapping.APIOpendata {
		str("fapiInteractionId", &r.FapiInteractionID)
		str("clientOrgId", &r.ClientOrgID)
		str("serverOrgId", &r.ServerOrgID)
		str("clientSSId", &r.ClientSSID)
		str("endpointUriPrefix", &r.EndpointURIPrefix)
		str("correlationId", &r.CorrelationID)
		var role string
		str("role", &role)
		switch role {
		case "":
		case mapping.RoleClient.String():
			r.Role = mapping.RoleClient
		case mapping.RoleServer.String():
			r.Role = mapping.RoleServer
		default:
			fail(mapping.Problem{Type: mapping.ProblemInvalidFieldValue, Field: "role", Detail: "must be CLIENT or SERVER"})
		}
	}

	if v, ok := lookup(fields, "statusCode"); ok && !isNull(v) {
		f, isNum := number(v)
		switch {
		case !isNum || f != math.Trunc(f):
			fail(mapping.Problem{Type: mapping.ProblemFieldTypeMismatch, Field: "statusCode"})
		case f < 200 || f > 599:
			fail(mapping.Problem{Type: mapping.ProblemInvalidFieldValue, Field: "statusCode", Detail: "must be between 200 and 599"})
		default:
			r.StatusCode = int(f)
		}
	}

	var ts string
	str("timestamp", &ts)
	if ts != "" {
		t, err := time.Parse(mapping.TimestampLayout, ts)
		if err != nil || !timestampPattern.MatchString(ts) {
			fail(mapping.Problem{Type: mapping.ProblemInvalidFieldValue, Field: "timestamp", Detail: "must be in the format YYYY-MM-DDTHH:mm:ss.sssZ"})
		} else {
			r.Timestamp = t
		}
	}

	switch v, ok := lookup(fields, "processTimespan"); {
	case !ok || isNull(v):
		fail(mapping.Problem{Type: mapping.ProblemMissingProperty, Field: "processTimespan"})
	default:
		f, isNum := number(v)
		switch {
		case !isNum:
			fail(mapping.Problem{Type: mapping.ProblemFieldTypeMismatch, Field: "processTimespan"})
		case f > math.MaxInt32:
			fail(mapping.Problem{Type: mapping.ProblemInvalidFieldValue, Field: "processTimespan", Detail: "is too large"})
		case f > 0:
			// Decision 4: PCM takes numbers, the exporter sends whole milliseconds rounded up.
			r.ProcessTimespan = int64(math.Ceil(f))
		}
		// ≤ 0 stays 0: the Validator says "must be greater than zero".
	}

	if api == mapping.APICreditPortability {
		var cp mapping.CreditPortability
		str("portabilityId", &cp.PortabilityID)
		str("consentId", &cp.ConsentID)
		str("creationDateTime", &cp.CreationDateTime)
		str("creditPortabilityStatus", &cp.CreditPortabilityStatus)
		str("statusUpdateDateTime", &cp.StatusUpdateDateTime)
		str("rejectionReason", &cp.RejectionReason)
		str("rejectedBy", &cp.RejectedBy)
		str("errorCode", &cp.ErrorCode)
		if cp != (mapping.CreditPortability{}) {
			r.CreditPortability = &cp
		}
		return r, ps, flagged // no additionalInfo in this API (an extra key is flagged above)
	}

	// additionalInfo: required in CLIENT and opendata reports, optional in SERVER ones; always
	// an object (Decision 11).
	switch v, ok := lookup(fields, "additionalInfo"); {
	case !ok || isNull(v):
		if api == mapping.APIOpendata || r.Role == mapping.RoleClient {
			fail(mapping.Problem{Type: mapping.ProblemMissingProperty, Field: "additionalInfo"})
		}
	case v[0] != '{':
		fail(mapping.Problem{Type: mapping.ProblemFieldTypeMismatch, Field: "additionalInfo"})
	default:
		info, err := decodeAdditionalInfo(v)
		if err != nil {
			fail(mapping.Problem{Type: mapping.ProblemFieldTypeMismatch, Field: "additionalInfo"})
		}
		r.AdditionalInfo = info
	}
	return r, ps, flagged
}

// field is one key of a JSON object, in document order.
type field struct {
	key string
	val json.RawMessage
}

// objectFields returns the keys and raw values of a JSON object in document order.
func objectFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var out []field
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, field{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// lookup returns the last value of key (encoding/json's rule for duplicate keys).
func lookup(fields []field, key string) (json.RawMessage, bool) {
	for i := len(fields) - 1; i >= 0; i-- {
		if fields[i].key == key {
			return fields[i].val, true
		}
	}
	return nil, false
}

func isNull(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }

func number(v json.RawMessage) (float64, bool) {
	if len(v) == 0 || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return 0, false
	}
	return f, true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// decodeAdditionalInfo reads an object into ordered additionalInfo fields; a repeated key
// keeps its first position and its last value.
func decodeAdditionalInfo(raw []byte) ([]mapping.AdditionalField, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var info []mapping.AdditionalField
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		v := pcommon.NewValueEmpty()
		if err := decodeValue(dec, v); err != nil {
			return nil, err
		}
		replaced := false
		for i := range info {
			if info[i].Key == key {
				info[i].Value, replaced = v, true
			}
		}
		if !replaced {
			info = append(info, mapping.AdditionalField{Key: key, Value: v})
		}
	}
	return info, nil
}

// decodeValue reads the next JSON value into v, keeping its type: string, bool, integer
// (int64) or double, object → map, array → slice, null → empty.
func decodeValue(dec *json.Decoder, v pcommon.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := v.SetEmptyMap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				e := pcommon.NewValueEmpty()
				if err := decodeValue(dec, e); err != nil {
					return err
				}
				e.MoveTo(m.PutEmpty(key))
			}
		case '[':
			s := v.SetEmptySlice()
			for dec.More() {
				e := pcommon.NewValueEmpty()
				if err := decodeValue(dec, e); err != nil {
					return err
				}
				e.MoveTo(s.AppendEmpty())
			}
		default:
			return fmt.Errorf("unexpected %v", t)
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case string:
		v.SetStr(t)
	case bool:
		v.SetBool(t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			v.SetInt(i)
		} else if f, err := t.Float64(); err == nil {
			v.SetDouble(f)
		} else {
			return err
		}
	case nil:
		// stays empty: AppendJSON writes null
	}
	return nil
}

// reportOf returns the report object and API of a report or dead-letter value.
func reportOf(v inputValue) (raw []byte, entry *deadletter.Entry, err error) {
	if v.kind != kindDeadLetter {
		return v.raw, nil, nil
	}
	var e deadletter.Entry
	if err := json.Unmarshal(v.raw, &e); err != nil {
		return nil, nil, fmt.Errorf("not a dead-letter entry: %s", describeJSONError(err))
	}
	return e.Report, &e, nil
}
