package pcmsim

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummaryJSONAndTable(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken
	e.postPrivate(a, clientReport(fapi1), clientReport(fapi2), clientReport("").with("statusCode", 504),
		clientReport(fapi1).with("endpoint", "/nope", "statusCode", 1),
		clientReport(fapi1).with("clientSSId", nil))
	e.postPrivate(b, serverReport(fapi1), serverReport(fapi2).with("statusCode", 201))
	e.postTo(OpendataReportPath, b, opendataReport(), opendataReport().with("role", "SERVER"))

	var sum Summary
	e.getJSON("/sim/summary", &sum)
	assert.Equal(t, 9, sum.Total)
	assert.Equal(t, map[Status]int{StatusPaired: 2, StatusPairedInconsistent: 2, StatusUnpaired: 0, StatusSingle: 2, StatusDiscarded: 3}, sum.ByStatus)
	assert.Equal(t, map[string]int{"Unlisted endpoint": 1, "Invalid field value": 1, "Missing property": 1, "Additional property not allowed": 1}, sum.DiscardedByType)
	require.Len(t, sum.Endpoints, 3)
	assert.Equal(t, EndpointSummary{API: APIOpendata, Endpoint: channelsEP, HTTPMethod: "GET", Total: 2,
		ByStatus: map[Status]int{StatusPaired: 0, StatusPairedInconsistent: 0, StatusUnpaired: 0, StatusSingle: 1, StatusDiscarded: 1}}, sum.Endpoints[0])
	assert.Equal(t, EndpointSummary{API: APIPrivate, Endpoint: "/nope", HTTPMethod: "GET", Total: 1,
		ByStatus: map[Status]int{StatusPaired: 0, StatusPairedInconsistent: 0, StatusUnpaired: 0, StatusSingle: 0, StatusDiscarded: 1}}, sum.Endpoints[1])
	assert.Equal(t, EndpointSummary{API: APIPrivate, Endpoint: accountsEP, HTTPMethod: "GET", Total: 6,
		ByStatus: map[Status]int{StatusPaired: 2, StatusPairedInconsistent: 2, StatusUnpaired: 0, StatusSingle: 1, StatusDiscarded: 1}}, sum.Endpoints[2])
	assert.Equal(t, e.srv.Summary(), sum)

	var buf strings.Builder
	require.NoError(t, sum.WriteTable(&buf))
	want := `PCM simulator summary at 2026-03-10T12:00:00.000Z: 9 reports

STATUS               COUNT
PAIRED                   2
PAIRED_INCONSISTENT      2
UNPAIRED                 0
SINGLE                   2
DISCARDED                3
TOTAL                    9

API       METHOD  ENDPOINT                            PAIRED  PAIRED_INCONSISTENT  UNPAIRED  SINGLE  DISCARDED  TOTAL
opendata  GET     /open-banking/channels/v2/branches       0                    0         0       1          1      2
private   GET     /nope                                    0                    0         0       0          1      1
private   GET     /open-banking/accounts/v2/accounts       2                    2         0       1          1      6

DISCARD REASON                   COUNT
Additional property not allowed      1
Invalid field value                  1
Missing property                     1
Unlisted endpoint                    1
`
	assert.Equal(t, want, buf.String())
}

func TestSummaryEmptyTable(t *testing.T) {
	sum := buildSummary(nil, nil, t0.Add(time.Hour))
	var buf strings.Builder
	require.NoError(t, sum.WriteTable(&buf))
	assert.Contains(t, buf.String(), "at 2026-03-10T13:00:00.000Z: 0 reports")
	assert.Contains(t, buf.String(), "TOTAL                    0\n")
	assert.Contains(t, buf.String(), "No reports per endpoint.")
	assert.NotContains(t, buf.String(), "DISCARD REASON")
}

func TestSummaryDiscardedWithoutEndpoint(t *testing.T) {
	sum := buildSummary(nil, []DiscardedReport{{API: APIPrivate, Errors: []string{"Missing property: endpoint", "Missing property: httpMethod"}}}, t0)
	require.Len(t, sum.Endpoints, 1)
	assert.Equal(t, 2, sum.DiscardedByType["Missing property"])
	var buf strings.Builder
	require.NoError(t, sum.WriteTable(&buf))
	assert.Contains(t, buf.String(), ": 1 report\n")
	assert.Contains(t, buf.String(), "private  -       -              0                    0         0       0          1      1\n")
}
