package mapping

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func validClient() Report {
	return Report{
		API: APIPrivate, Role: RoleClient, FapiInteractionID: fapiID, Endpoint: accTmpl, StatusCode: 200,
		HTTPMethod: "GET", ClientOrgID: ourOrg, ServerOrgID: bankB, ClientSSID: ourSS,
		EndpointURIPrefix: bankURL, CorrelationID: traceIDHex, Timestamp: testStart, ProcessTimespan: 153,
	}
}

func validServer() Report {
	return Report{
		API: APIPrivate, Role: RoleServer, FapiInteractionID: fapiID, Endpoint: conTmpl, StatusCode: 200,
		HTTPMethod: "GET", ClientOrgID: callerOrg, ServerOrgID: ourOrg, Timestamp: testStart, ProcessTimespan: 153,
	}
}

func validOpendata() Report {
	return Report{API: APIOpendata, Endpoint: odTmpl, StatusCode: 200, HTTPMethod: "GET", Timestamp: testStart, ProcessTimespan: 153, ClientIP: "203.0.113.7"}
}

func TestValidate(t *testing.T) {
	info := func(v pcommon.Value) []AdditionalField { return []AdditionalField{{Key: "consentId", Value: v}} }
	tests := []struct {
		name string
		base func() Report
		mod  func(*Report)
		want []string // exact Problem strings; empty = valid
	}{
		{"valid client", validClient, func(*Report) {}, nil},
		{"valid server", validServer, func(*Report) {}, nil},
		{"valid opendata", validOpendata, func(*Report) {}, nil},
		{"valid security template", validClient, func(r *Report) { r.Endpoint = "/register/{clientId}" }, nil},
		{"upper-case UUIDs are fine", validClient, func(r *Report) { r.FapiInteractionID = strings.ToUpper(fapiID) }, nil},

		// endpoint
		{"missing endpoint", validClient, func(r *Report) { r.Endpoint = "" }, []string{"Missing property: endpoint"}},
		{"unlisted endpoint", validClient, func(r *Report) { r.Endpoint = "/open-banking/x/v1/y" }, []string{"Unlisted endpoint: /open-banking/x/v1/y"}},
		{"concrete path instead of template", validServer, func(r *Report) { r.Endpoint = conPath },
			[]string{"Unlisted endpoint: " + conPath}},
		{"opendata template in a private report", validServer, func(r *Report) { r.Endpoint = odTmpl }, []string{"Unlisted endpoint: " + odTmpl}},
		{"private template in an opendata report", validOpendata, func(r *Report) { r.Endpoint = conTmpl }, []string{"Unlisted endpoint: " + conTmpl}},
		{"credit portability is not private", validClient, func(r *Report) { r.Endpoint = "/open-banking/credit-portability/v1/portabilities" },
			[]string{"Unlisted endpoint: /open-banking/credit-portability/v1/portabilities"}},

		// statusCode
		{"status 199", validClient, func(r *Report) { r.StatusCode = 199 }, []string{"Invalid field value: statusCode must be between 200 and 599"}},
		{"status 600", validClient, func(r *Report) { r.StatusCode = 600 }, []string{"Invalid field value: statusCode must be between 200 and 599"}},
		{"status 599 is fine", validClient, func(r *Report) { r.StatusCode = 599 }, nil},
		{"status missing", validOpendata, func(r *Report) { r.StatusCode = 0 }, []string{"Missing property: statusCode"}},

		// httpMethod
		{"HEAD", validClient, func(r *Report) { r.HTTPMethod = "HEAD" }, []string{"Invalid field value: httpMethod must be one of GET, POST, PUT, DELETE, PATCH"}},
		{"lower case", validOpendata, func(r *Report) { r.HTTPMethod = "get" }, []string{"Invalid field value: httpMethod must be one of GET, POST, PUT, DELETE, PATCH"}},
		{"no method", validServer, func(r *Report) { r.HTTPMethod = "" }, []string{"Missing property: httpMethod"}},
		{"PATCH is fine", validServer, func(r *Report) { r.HTTPMethod = "PATCH" }, nil},

		// timestamp
		{"too old", validClient, func(r *Report) { r.Timestamp = testNow.Add(-MaxReportAge - time.Millisecond) }, []string{"Report is too old: timestamp"}},
		{"exactly 7 days is fine", validClient, func(r *Report) { r.Timestamp = testNow.Add(-MaxReportAge) }, nil},
		{"too far in the future", validOpendata, func(r *Report) { r.Timestamp = testNow.Add(MaxClockSkew + time.Millisecond) },
			[]string{"Invalid field value: timestamp must not be more than 5 minutes in the future"}},
		{"5 minutes ahead is fine", validServer, func(r *Report) { r.Timestamp = testNow.Add(MaxClockSkew) }, nil},
		{"no timestamp", validServer, func(r *Report) { r.Timestamp = time.Time{} }, []string{"Missing property: timestamp"}},

		// processTimespan
		{"zero timespan", validClient, func(r *Report) { r.ProcessTimespan = 0 }, []string{"Invalid field value: processTimespan must be greater than zero"}},
		{"negative timespan", validOpendata, func(r *Report) { r.ProcessTimespan = -5 }, []string{"Invalid field value: processTimespan must be greater than zero"}},

		// org ids
		{"missing clientOrgId", validServer, func(r *Report) { r.ClientOrgID = "" }, []string{"Missing property: clientOrgId"}},
		{"missing serverOrgId", validClient, func(r *Report) { r.ServerOrgID = "" }, []string{"Missing property: serverOrgId"}},
		{"clientOrgId not a UUID", validClient, func(r *Report) { r.ClientOrgID = "bank-a" }, []string{"Invalid field value: clientOrgId must be a UUID"}},
		{"serverOrgId with braces", validServer, func(r *Report) { r.ServerOrgID = "{" + ourOrg + "}" }, []string{"Invalid field value: serverOrgId must be a UUID"}},

		// fapiInteractionId (Decisions 3 and 23)
		{"fapiInteractionId not a UUID", validClient, func(r *Report) { r.FapiInteractionID = "abc" }, []string{"Invalid field value: fapiInteractionId must be a UUID"}},
		{"fapiInteractionId all zeros", validServer, func(r *Report) { r.FapiInteractionID = zeroUUID },
			[]string{"Invalid field value: fapiInteractionId must not be the zero UUID"}},
		{"fapiInteractionId missing on 200", validClient, func(r *Report) { r.FapiInteractionID = "" }, []string{"Missing property: fapiInteractionId"}},
		{"fapiInteractionId missing on 404", validServer, func(r *Report) { r.FapiInteractionID = ""; r.StatusCode = 404 }, []string{"Missing property: fapiInteractionId"}},
		{"fapiInteractionId may be missing on 408", validClient, func(r *Report) { r.FapiInteractionID = ""; r.StatusCode = 408 }, nil},
		{"fapiInteractionId may be missing on 500", validServer, func(r *Report) { r.FapiInteractionID = ""; r.StatusCode = 500 }, nil},
		{"fapiInteractionId may be missing on 599", validClient, func(r *Report) { r.FapiInteractionID = ""; r.StatusCode = 599 }, nil},

		// client-only fields
		{"missing clientSSId", validClient, func(r *Report) { r.ClientSSID = "" }, []string{"Missing property: clientSSId"}},
		{"clientSSId not a UUID", validClient, func(r *Report) { r.ClientSSID = "ss-1" }, []string{"Invalid field value: clientSSId must be a UUID"}},
		{"missing endpointUriPrefix", validClient, func(r *Report) { r.EndpointURIPrefix = "" }, []string{"Missing property: endpointUriPrefix"}},
		{"endpointUriPrefix too long", validClient, func(r *Report) { r.EndpointURIPrefix = "https://x/" + strings.Repeat("a", 191) },
			[]string{"Invalid field value: endpointUriPrefix must be at most 200 characters"}},
		{"endpointUriPrefix of 200 is fine", validClient, func(r *Report) { r.EndpointURIPrefix = "https://x/" + strings.Repeat("a", 190) }, nil},
		{"endpointUriPrefix with a query", validClient, func(r *Report) { r.EndpointURIPrefix = "https://as.bank/token?x=1" },
			[]string{"Invalid field value: endpointUriPrefix must only contain letters, digits, space and - / : _ . ' ,"}},
		{"endpointUriPrefix with percent-encoding", validClient, func(r *Report) { r.EndpointURIPrefix = "https://as.bank/a%20b" },
			[]string{"Invalid field value: endpointUriPrefix must only contain letters, digits, space and - / : _ . ' ,"}},
		{"correlationId is optional", validClient, func(r *Report) { r.CorrelationID = "" }, nil},
		{"correlationId too long", validClient, func(r *Report) { r.CorrelationID = strings.Repeat("a", 101) },
			[]string{"Invalid field value: correlationId must be at most 100 characters"}},
		{"correlationId bad characters", validClient, func(r *Report) { r.CorrelationID = "a+b" },
			[]string{"Invalid field value: correlationId must only contain letters, digits, space and - / : _ . ' ,"}},

		// server: client-only fields not allowed (Decision 10)
		{"SERVER with clientSSId", validServer, func(r *Report) { r.ClientSSID = ourSS }, []string{"Additional property not allowed: clientSSId"}},
		{"SERVER with endpointUriPrefix", validServer, func(r *Report) { r.EndpointURIPrefix = bankURL }, []string{"Additional property not allowed: endpointUriPrefix"}},

		// role and API
		{"no role", validClient, func(r *Report) { r.Role = 0 }, []string{"Missing property: role"}},
		{"bad role", validClient, func(r *Report) { r.Role = 9 }, []string{"Invalid field value: role must be CLIENT or SERVER"}},
		{"no API", validClient, func(r *Report) { r.API = 0 }, []string{"Invalid payload format: api must be private, opendata or credit_portability"}},

		// additionalInfo.consentId
		{"valid consentId", validClient, func(r *Report) { r.AdditionalInfo = info(strValue("urn:bancoex:C1DD33123")) }, nil},
		{"consentId not a URN", validClient, func(r *Report) { r.AdditionalInfo = info(strValue("C1DD33123")) },
			[]string{"Invalid field value: additionalInfo.consentId must be a URN"}},
		{"empty consentId", validClient, func(r *Report) { r.AdditionalInfo = info(strValue("")) },
			[]string{"Invalid field value: additionalInfo.consentId must be a URN"}},
		{"consentId too long", validClient, func(r *Report) { r.AdditionalInfo = info(strValue("urn:bancoex:" + strings.Repeat("a", 89))) },
			[]string{"Invalid field value: additionalInfo.consentId must be at most 100 characters"}},
		{"consentId of 100 is fine", validClient, func(r *Report) { r.AdditionalInfo = info(strValue("urn:bancoex:" + strings.Repeat("a", 88))) }, nil},
		{"consentId not a string", validClient, func(r *Report) { r.AdditionalInfo = info(pcommon.NewValueInt(1)) },
			[]string{"Field type mismatch: additionalInfo.consentId must be a string"}},
		{"consentId zero value", validClient, func(r *Report) { r.AdditionalInfo = info(pcommon.Value{}) },
			[]string{"Field type mismatch: additionalInfo.consentId must be a string"}},
		// Decision 25: no validation of other additionalInfo enums.
		{"enum values pass through", validServer, func(r *Report) {
			r.AdditionalInfo = []AdditionalField{{Key: "dropReason", Value: strValue(" NONE")}, {Key: "personType", Value: strValue("PESSOA_JURÍDICA")}, {Key: "webhookEnable", Value: pcommon.NewValueBool(true)}}
		}, nil},

		// several problems at once, in field order
		{"everything wrong", validClient, func(r *Report) {
			*r = Report{API: APIPrivate, Role: RoleClient, StatusCode: 100, HTTPMethod: "TRACE", ClientOrgID: "x"}
		}, []string{
			"Missing property: fapiInteractionId", "Missing property: endpoint",
			"Invalid field value: statusCode must be between 200 and 599",
			"Invalid field value: httpMethod must be one of GET, POST, PUT, DELETE, PATCH",
			"Missing property: timestamp", "Invalid field value: processTimespan must be greater than zero",
			"Invalid field value: clientOrgId must be a UUID", "Missing property: serverOrgId",
			"Missing property: clientSSId", "Missing property: endpointUriPrefix",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.base()
			tt.mod(&r)
			ps := Validator{}.Validate(&r, testNow)
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			assert.Equal(t, tt.want, got)
			if len(tt.want) == 0 {
				assert.Nil(t, ps)
			}
			assert.Equal(t, strings.Join(tt.want, "; "), JoinProblems(ps))
		})
	}
}

func TestValidateOpendataIgnoresPrivateFields(t *testing.T) {
	r := validOpendata()
	r.Role, r.ClientOrgID, r.FapiInteractionID, r.ClientSSID = RoleServer, "not-a-uuid", "bad", "x"
	assert.Nil(t, Validator{}.Validate(&r, testNow), "AppendJSON never writes them for opendata")
}

func TestValidateUsesTheGivenCatalog(t *testing.T) {
	r := validClient()
	r.Endpoint = "/open-banking/payments/v4/consents"
	assert.Equal(t, "Unlisted endpoint: /open-banking/payments/v4/consents", JoinProblems(Validator{}.Validate(&r, testNow)))
	cat, err := ParseCatalog([]byte(`{"private": ["/open-banking/payments/v4/consents"]}`), DefaultCatalog())
	require.NoError(t, err)
	assert.Nil(t, Validator{Catalog: cat}.Validate(&r, testNow))
}

func TestValidateNil(t *testing.T) {
	assert.Equal(t, "Invalid payload format: report is null", JoinProblems(Validator{}.Validate(nil, testNow)))
}

func TestValidateDoesNotAllocateForValidReports(t *testing.T) {
	for _, r := range []Report{validClient(), validServer(), validOpendata()} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { Validator{}.Validate(&r, testNow) }))
	}
}

func TestProblemString(t *testing.T) {
	assert.Equal(t, "Missing property: clientOrgId", Problem{Type: "Missing property", Field: "clientOrgId"}.String())
	assert.Equal(t, "Invalid field value: fapiInteractionId must be a UUID",
		Problem{Type: "Invalid field value", Field: "fapiInteractionId", Detail: "must be a UUID"}.String())
	assert.Equal(t, "Unlisted endpoint: /open-banking/x/v1/y", Problem{Type: "Unlisted endpoint", Field: "endpoint", Detail: "/open-banking/x/v1/y"}.String())
	assert.Equal(t, "Unlisted endpoint: endpoint", Problem{Type: "Unlisted endpoint", Field: "endpoint"}.String())
	assert.Equal(t, "Report is too old: timestamp", Problem{Type: "Report is too old", Field: "timestamp"}.String())
	assert.Equal(t, "", JoinProblems(nil))
	assert.Equal(t, "Missing property: a; Missing property: b",
		JoinProblems([]Problem{{Type: ProblemMissingProperty, Field: "a"}, {Type: ProblemMissingProperty, Field: "b"}}))
}

// Every Problem string Validate can produce stays inside PCM's own message alphabet, apart from the
// endpoint echoed by "Unlisted endpoint", so a dead letter reads like a PCM response.
func TestProblemStringsUsePCMMessageCharacters(t *testing.T) {
	all := []Problem{
		{ProblemMissingProperty, "fapiInteractionId", ""},
		{ProblemInvalidFieldValue, "statusCode", "must be between 200 and 599"},
		{ProblemInvalidFieldValue, "httpMethod", "must be one of GET, POST, PUT, DELETE, PATCH"},
		{ProblemReportTooOld, "timestamp", ""},
		{ProblemInvalidFieldValue, "timestamp", "must not be more than 5 minutes in the future"},
		{ProblemInvalidFieldValue, "processTimespan", "must be greater than zero"},
		{ProblemInvalidFieldValue, "fapiInteractionId", "must not be the zero UUID"},
		{ProblemInvalidFieldValue, "endpointUriPrefix", "must be at most 200 characters"},
		{ProblemInvalidFieldValue, "endpointUriPrefix", "must only contain letters, digits, space and - / : _ . ' ,"},
		{ProblemAdditionalProp, "clientSSId", ""},
		{ProblemFieldTypeMismatch, "additionalInfo.consentId", "must be a string"},
		{ProblemInvalidFieldValue, "role", "must be CLIENT or SERVER"},
	}
	for _, p := range all {
		s := p.String()
		assert.True(t, isPCMText(s) && len(s) <= 200, s)
	}
}

func TestSinceMatchesSub(t *testing.T) {
	base := time.Now() // with a monotonic reading, which since ignores
	for _, d := range []time.Duration{0, 1, -1, time.Millisecond, -MaxClockSkew, MaxReportAge + 1, -MaxReportAge, 1000 * time.Hour} {
		other := base.Add(-d)
		assert.Equal(t, base.Round(0).Sub(other.Round(0)), since(base, other), "%v", d)
	}
	assert.Equal(t, time.Duration(math.MaxInt64), since(base, time.Time{}), "saturates instead of overflowing")
	assert.Equal(t, time.Duration(math.MinInt64), since(time.Time{}, base))
}
