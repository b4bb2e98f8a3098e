package pcmsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type validationCase struct {
	name      string
	api       API
	requester string // default orgA (orgB for SERVER reports)
	item      any
	want      string // "" = ACCEPTED, else the exact DISCARDED message
}

func validationCases() []validationCase {
	c, s, o := clientReport(fapi1), serverReport(fapi1), opendataReport()
	long := strings.Repeat("x", 101)
	return []validationCase{
		{name: "valid client", item: c},
		{name: "valid server", item: s},
		{name: "valid server without additionalInfo or correlationId", item: s.with("additionalInfo", nil, "correlationId", nil)},
		{name: "server with additionalInfo and correlationId", item: s.with("additionalInfo", item{"dropReason": "NONE"}, "correlationId", "abc")},
		{name: "client without correlationId", item: c.with("correlationId", nil)},
		{name: "security endpoint", item: c.with("endpoint", "/token", "endpointUriPrefix", "https://auth.bank-b.example/as/token.oauth2")},

		// Missing property
		{name: "missing role", item: c.with("role", nil), want: "Missing property: role"},
		{name: "missing endpoint", item: c.with("endpoint", nil), want: "Missing property: endpoint"},
		{name: "missing statusCode", item: c.with("statusCode", nil), want: "Missing property: statusCode"},
		{name: "missing httpMethod", item: c.with("httpMethod", nil), want: "Missing property: httpMethod"},
		{name: "missing clientOrgId", item: c.with("clientOrgId", nil), want: "Missing property: clientOrgId"},
		{name: "missing serverOrgId", item: s.with("serverOrgId", nil), want: "Missing property: serverOrgId"},
		{name: "missing timestamp", item: c.with("timestamp", nil), want: "Missing property: timestamp"},
		{name: "missing processTimespan", item: c.with("processTimespan", nil), want: "Missing property: processTimespan"},
		{name: "client missing clientSSId", item: c.with("clientSSId", nil), want: "Missing property: clientSSId"},
		{name: "client missing endpointUriPrefix", item: c.with("endpointUriPrefix", nil), want: "Missing property: endpointUriPrefix"},
		{name: "client missing additionalInfo", item: c.with("additionalInfo", nil), want: "Missing property: additionalInfo"},
		{name: "missing fapiInteractionId with 200", item: c.with("fapiInteractionId", nil), want: "Missing property: fapiInteractionId"},
		{name: "missing fapiInteractionId with 404", item: s.with("fapiInteractionId", nil, "statusCode", 404), want: "Missing property: fapiInteractionId"},
		{name: "missing fapiInteractionId with 408", item: c.with("fapiInteractionId", nil, "statusCode", 408)},
		{name: "missing fapiInteractionId with 500", item: s.with("fapiInteractionId", nil, "statusCode", 500)},
		{name: "missing fapiInteractionId with 504", item: c.with("fapiInteractionId", nil, "statusCode", 504)},

		// Field type mismatch
		{name: "statusCode as string", item: c.with("statusCode", "200"), want: "Field type mismatch: statusCode"},
		{name: "statusCode fractional", item: c.with("statusCode", json.RawMessage("200.5")), want: "Field type mismatch: statusCode"},
		{name: "statusCode 200.0 is an integer", item: c.with("statusCode", json.RawMessage("200.0"))},
		{name: "processTimespan as string", item: c.with("processTimespan", "120"), want: "Field type mismatch: processTimespan"},
		{name: "fapiInteractionId as number", item: c.with("fapiInteractionId", 12), want: "Field type mismatch: fapiInteractionId"},
		{name: "role null", item: c.with("role", json.RawMessage("null")), want: "Field type mismatch: role"},
		{name: "additionalInfo as string", item: c.with("additionalInfo", "{}"), want: "Field type mismatch: additionalInfo"},
		{name: "additionalInfo as array", item: s.with("additionalInfo", []string{}), want: "Field type mismatch: additionalInfo"},
		{name: "endpoint as array", item: c.with("endpoint", []string{accountsEP}), want: "Field type mismatch: endpoint"},

		// Invalid field value
		{name: "role lower case", item: c.with("role", "client"), want: "Invalid field value: role must be CLIENT or SERVER"},
		{name: "statusCode 199", item: c.with("statusCode", 199), want: "Invalid field value: statusCode must be between 200 and 599"},
		{name: "statusCode 600", item: c.with("statusCode", 600), want: "Invalid field value: statusCode must be between 200 and 599"},
		{name: "httpMethod HEAD", item: c.with("httpMethod", "HEAD"), want: "Invalid field value: httpMethod must be one of GET, POST, PUT, DELETE, PATCH"},
		{name: "httpMethod lower case", item: c.with("httpMethod", "get"), want: "Invalid field value: httpMethod must be one of GET, POST, PUT, DELETE, PATCH"},
		{name: "httpMethod PATCH", item: c.with("httpMethod", "PATCH")},
		{name: "fapiInteractionId not a UUID", item: c.with("fapiInteractionId", "abc"), want: "Invalid field value: fapiInteractionId must be a UUID"},
		{name: "fapiInteractionId empty", item: c.with("fapiInteractionId", ""), want: "Invalid field value: fapiInteractionId must be a UUID"},
		{name: "fapiInteractionId nil UUID", item: c.with("fapiInteractionId", nilUUID), want: "Invalid field value: fapiInteractionId must not be the nil UUID"},
		{name: "fapiInteractionId upper case", item: c.with("fapiInteractionId", strings.ToUpper(fapi1))},
		{name: "clientOrgId not a UUID", item: c.with("clientOrgId", "bank-a"), want: "Invalid field value: clientOrgId must be a UUID"},
		{name: "serverOrgId not a UUID", item: c.with("serverOrgId", "bank-b"), want: "Invalid field value: serverOrgId must be a UUID"},
		{name: "clientSSId not a UUID", item: c.with("clientSSId", "ss"), want: "Invalid field value: clientSSId must be a UUID"},
		{name: "endpoint empty", item: c.with("endpoint", ""), want: "Invalid field value: endpoint must not be empty"},
		{name: "endpointUriPrefix with query", item: c.with("endpointUriPrefix", "https://x.example/a?b=c"), want: "Invalid field value: endpointUriPrefix contains invalid characters"},
		{name: "endpointUriPrefix too long", item: c.with("endpointUriPrefix", "https://x.example/"+strings.Repeat("a", 183)), want: "Invalid field value: endpointUriPrefix must be at most 200 characters"},
		{name: "endpointUriPrefix 200 chars", item: c.with("endpointUriPrefix", "https://x.example/"+strings.Repeat("a", 182))},
		{name: "correlationId too long", item: c.with("correlationId", long), want: "Invalid field value: correlationId must be at most 100 characters"},
		{name: "correlationId invalid characters", item: c.with("correlationId", "a#b"), want: "Invalid field value: correlationId contains invalid characters"},
		{name: "correlationId allowed characters", item: c.with("correlationId", "A-z 0/9:_.',")},
		{name: "timestamp without milliseconds", item: c.with("timestamp", "2026-03-10T11:59:00Z"), want: "Invalid field value: timestamp must be in the format YYYY-MM-DDTHH:mm:ss.sssZ"},
		{name: "timestamp with microseconds", item: c.with("timestamp", "2026-03-10T11:59:00.000000Z"), want: "Invalid field value: timestamp must be in the format YYYY-MM-DDTHH:mm:ss.sssZ"},
		{name: "timestamp with offset", item: c.with("timestamp", "2026-03-10T08:59:00.000-03:00"), want: "Invalid field value: timestamp must be in the format YYYY-MM-DDTHH:mm:ss.sssZ"},
		{name: "timestamp impossible date", item: c.with("timestamp", "2026-02-30T11:59:00.000Z"), want: "Invalid field value: timestamp must be in the format YYYY-MM-DDTHH:mm:ss.sssZ"},
		{name: "timestamp 6 minutes ahead", item: c.with("timestamp", ts(6*time.Minute)), want: "Invalid field value: timestamp must not be more than 5 minutes in the future"},
		{name: "timestamp 4 minutes ahead", item: c.with("timestamp", ts(4*time.Minute))},
		{name: "processTimespan zero", item: c.with("processTimespan", 0), want: "Invalid field value: processTimespan must be greater than zero"},
		{name: "processTimespan negative", item: s.with("processTimespan", -5), want: "Invalid field value: processTimespan must be greater than zero"},
		{name: "processTimespan fractional", item: c.with("processTimespan", 120.000001)},

		// Report is too old
		{name: "timestamp 8 days old", item: c.with("timestamp", ts(-8*24*time.Hour)), want: "Report is too old: timestamp"},
		{name: "timestamp 6 days old", item: c.with("timestamp", ts(-6*24*time.Hour))},

		// Unlisted endpoint
		{name: "concrete path", item: c.with("endpoint", "/open-banking/accounts/v2/accounts/123"), want: "Unlisted endpoint: /open-banking/accounts/v2/accounts/123"},
		{name: "opendata endpoint on private API", item: c.with("endpoint", channelsEP), want: "Unlisted endpoint: " + channelsEP},
		{name: "removed payments v4", item: c.with("endpoint", "/open-banking/payments/v4/pix/payments"), want: "Unlisted endpoint: /open-banking/payments/v4/pix/payments"},

		// Additional property not allowed
		{name: "server with clientSSId", item: s.with("clientSSId", ssB), want: "Additional property not allowed: clientSSId"},
		{name: "server with endpointUriPrefix", item: s.with("endpointUriPrefix", "https://x.example"), want: "Additional property not allowed: endpointUriPrefix"},
		{name: "client with unknown key", item: c.with("tokenId", "c9ng8aKzxNXm"), want: "Additional property not allowed: tokenId"},

		// Requester / Directory
		{name: "client report for another org", requester: orgB, item: c, want: "Requester id mismatch with clientOrgId"},
		{name: "server report for another org", requester: orgA, item: s, want: "Requester id mismatch with serverOrgId"},
		{name: "org ids compared case-insensitively", item: c.with("clientOrgId", strings.ToUpper(orgA))},
		{name: "server org not in directory", item: c.with("serverOrgId", orgX), want: "OrganisationId doesn't exist on Directory: serverOrgId"},
		{name: "client org not in directory", requester: orgB, item: s.with("clientOrgId", orgX), want: "OrganisationId doesn't exist on Directory: clientOrgId"},
		{name: "directory member without client", item: c.with("serverOrgId", orgD)},

		// Several errors, item shape
		{name: "several errors joined", item: c.with("endpoint", nil, "statusCode", 700, "extra", 1),
			want: "Additional property not allowed: extra; Missing property: endpoint; Invalid field value: statusCode must be between 200 and 599"},
		{name: "message cut at 200 characters", item: c.with("endpoint", "/"+strings.Repeat("e", 300)),
			want: ("Unlisted endpoint: /" + strings.Repeat("e", 300))[:200]},
		{name: "item not an object", item: []int{1}, want: "Invalid payload format: report MUST be an object"},
		{name: "item a string", item: "report", want: "Invalid payload format: report MUST be an object"},

		// Opendata
		{name: "valid opendata", api: APIOpendata, item: o},
		{name: "opendata POST and empty additionalInfo", api: APIOpendata, item: o.with("httpMethod", "POST", "additionalInfo", item{})},
		{name: "opendata IPv6 clientIp", api: APIOpendata, item: o.with("additionalInfo", item{"clientIp": "2001:db8::1"})},
		{name: "opendata with fapiInteractionId", api: APIOpendata, item: o.with("fapiInteractionId", fapi1), want: "Additional property not allowed: fapiInteractionId"},
		{name: "opendata with role", api: APIOpendata, item: o.with("role", "SERVER"), want: "Additional property not allowed: role"},
		{name: "opendata with org ids", api: APIOpendata, item: o.with("clientOrgId", orgA, "serverOrgId", orgB),
			want: "Additional property not allowed: clientOrgId; Additional property not allowed: serverOrgId"},
		{name: "opendata private endpoint", api: APIOpendata, item: o.with("endpoint", accountsEP), want: "Unlisted endpoint: " + accountsEP},
		{name: "opendata missing additionalInfo", api: APIOpendata, item: o.with("additionalInfo", nil), want: "Missing property: additionalInfo"},
		{name: "opendata missing endpoint", api: APIOpendata, item: o.with("endpoint", nil), want: "Missing property: endpoint"},
		{name: "opendata bad clientIp", api: APIOpendata, item: o.with("additionalInfo", item{"clientIp": "localhost"}), want: "Invalid field value: additionalInfo.clientIp must be an IPv4 or IPv6 address"},
		{name: "opendata clientIp number", api: APIOpendata, item: o.with("additionalInfo", item{"clientIp": 1}), want: "Field type mismatch: additionalInfo.clientIp"},
		{name: "opendata statusCode 100", api: APIOpendata, item: o.with("statusCode", 100), want: "Invalid field value: statusCode must be between 200 and 599"},
		{name: "opendata too old", api: APIOpendata, item: o.with("timestamp", ts(-7*24*time.Hour-time.Second)), want: "Report is too old: timestamp"},
		{name: "opendata processTimespan zero", api: APIOpendata, item: o.with("processTimespan", 0), want: "Invalid field value: processTimespan must be greater than zero"},
	}
}

func (vc validationCase) requesterOrg() string {
	if vc.requester != "" {
		return vc.requester
	}
	if it, ok := vc.item.(item); ok && it["role"] == "SERVER" {
		return orgB
	}
	return orgA
}

func TestValidationRules(t *testing.T) {
	pki := testPKI(t)
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	v := &validator{catalog: cat, dir: newDirIndex(pki.Directory)}
	for _, tc := range validationCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.item)
			require.NoError(t, err)
			var res itemResult
			if tc.api == APIOpendata {
				res = v.opendata(raw, tc.requesterOrg(), t0)
			} else {
				res = v.private(raw, tc.requesterOrg(), t0)
			}
			if tc.want == "" {
				require.Empty(t, res.errs)
				require.NotNil(t, res.report)
				return
			}
			require.Nil(t, res.report)
			require.Equal(t, tc.want, res.message())
		})
	}
}

// TestValidationOverHTTP posts every case of one API and requester as one batch and checks that
// the answers come back in request order with the exact messages.
func TestValidationOverHTTP(t *testing.T) {
	e := newEnv(t, nil)
	tokens := map[string]string{orgA: e.token("bank_a").AccessToken, orgB: e.token("bank_b").AccessToken}
	type batch struct {
		path  string
		org   string
		cases []validationCase
	}
	batches := map[string]*batch{}
	var order []string
	for _, tc := range validationCases() {
		path := PrivateReportPath
		if tc.api == APIOpendata {
			path = OpendataReportPath
		}
		key := path + tc.requesterOrg()
		if batches[key] == nil {
			batches[key] = &batch{path: path, org: tc.requesterOrg()}
			order = append(order, key)
		}
		batches[key].cases = append(batches[key].cases, tc)
	}
	for _, key := range order {
		b := batches[key]
		items := make([]any, len(b.cases))
		discarded := false
		for i, tc := range b.cases {
			items[i] = tc.item
			discarded = discarded || tc.want != ""
		}
		code, out := e.postTo(b.path, tokens[b.org], items...)
		if discarded {
			assert.Equal(t, http.StatusMultiStatus, code)
		} else {
			assert.Equal(t, http.StatusOK, code)
		}
		for i, tc := range b.cases {
			if tc.want == "" {
				assert.Equal(t, StatusAccepted, out[i].Status, tc.name)
				assert.Empty(t, out[i].Message, tc.name)
			} else {
				assert.Equal(t, StatusDiscarded, out[i].Status, tc.name)
				assert.Equal(t, tc.want, out[i].Message, tc.name)
			}
			assert.True(t, isUUID(out[i].ReportID), tc.name)
		}
	}
}
