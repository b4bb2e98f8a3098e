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

func statusOf(t *testing.T, e *env, reportID string) Report {
	t.Helper()
	for _, r := range e.srv.Reports() {
		if r.ReportID == reportID {
			return r
		}
	}
	t.Fatalf("report %s not stored", reportID)
	return Report{}
}

func TestPairingOutcomes(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken

	t.Run("PAIRED", func(t *testing.T) {
		_, c := e.postPrivate(a, clientReport(fapi1))
		assert.Equal(t, StatusUnpaired, statusOf(t, e, c[0].ReportID).Status)
		e.clock.Advance(time.Second)
		// Not compared: timestamp, processTimespan, correlationId, additionalInfo, id case.
		_, s := e.postPrivate(b, serverReport(strings.ToUpper(fapi1)).with("timestamp", ts(-59*time.Second), "processTimespan", 7, "additionalInfo", item{"x": "y"}))
		cr, sr := statusOf(t, e, c[0].ReportID), statusOf(t, e, s[0].ReportID)
		assert.Equal(t, StatusPaired, cr.Status)
		assert.Equal(t, StatusPaired, sr.Status)
		assert.Equal(t, s[0].ReportID, cr.PairedReportID)
		assert.Equal(t, c[0].ReportID, sr.PairedReportID)
		assert.True(t, cr.UpdatedAt.After(cr.CreatedAt), "the earlier report is updated when paired")
	})
	t.Run("PAIRED_INCONSISTENT 200 vs 201", func(t *testing.T) {
		_, s := e.postPrivate(b, serverReport(fapi2).with("statusCode", 201, "httpMethod", "POST"))
		_, c := e.postPrivate(a, clientReport(fapi2).with("statusCode", 200, "httpMethod", "POST"))
		assert.Equal(t, StatusPairedInconsistent, statusOf(t, e, s[0].ReportID).Status)
		assert.Equal(t, StatusPairedInconsistent, statusOf(t, e, c[0].ReportID).Status)
		assert.Equal(t, s[0].ReportID, statusOf(t, e, c[0].ReportID).PairedReportID)
	})
	for _, diff := range []struct {
		field string
		value any
	}{{"httpMethod", "POST"}, {"endpoint", "/open-banking/accounts/v2/accounts/{accountId}"}, {"serverOrgId", orgC}} {
		t.Run("PAIRED_INCONSISTENT "+diff.field, func(t *testing.T) {
			id := newUUID()
			_, c := e.postPrivate(a, clientReport(id).with(diff.field, diff.value))
			_, s := e.postPrivate(b, serverReport(id))
			assert.Equal(t, StatusPairedInconsistent, statusOf(t, e, c[0].ReportID).Status)
			assert.Equal(t, StatusPairedInconsistent, statusOf(t, e, s[0].ReportID).Status)
		})
	}
	t.Run("PAIRED_INCONSISTENT clientOrgId", func(t *testing.T) {
		id := newUUID()
		_, c := e.postPrivate(a, clientReport(id))
		_, s := e.postPrivate(b, serverReport(id).with("clientOrgId", orgC))
		assert.Equal(t, StatusPairedInconsistent, statusOf(t, e, c[0].ReportID).Status)
		assert.Equal(t, StatusPairedInconsistent, statusOf(t, e, s[0].ReportID).Status)
	})
	t.Run("UNPAIRED", func(t *testing.T) {
		_, c := e.postPrivate(a, clientReport(newUUID()))
		assert.Equal(t, StatusUnpaired, statusOf(t, e, c[0].ReportID).Status)
		// Two reports of the same role never pair with each other.
		id := newUUID()
		_, s := e.postPrivate(b, serverReport(id), serverReport(id).with("timestamp", ts(-2*time.Minute)))
		assert.Equal(t, StatusUnpaired, statusOf(t, e, s[0].ReportID).Status)
		assert.Equal(t, StatusUnpaired, statusOf(t, e, s[1].ReportID).Status)
	})
	t.Run("SINGLE without fapiInteractionId", func(t *testing.T) {
		_, c := e.postPrivate(a, clientReport("").with("statusCode", 408))
		assert.Equal(t, StatusSingle, statusOf(t, e, c[0].ReportID).Status)
	})
	t.Run("SINGLE opendata", func(t *testing.T) {
		_, o := e.postTo(OpendataReportPath, b, opendataReport())
		r := statusOf(t, e, o[0].ReportID)
		assert.Equal(t, StatusSingle, r.Status)
		assert.Equal(t, APIOpendata, r.API)
	})
	t.Run("same batch pairs", func(t *testing.T) {
		// An org calling itself reports both sides in one batch.
		id := newUUID()
		_, out := e.postPrivate(a, clientReport(id).with("serverOrgId", orgA), serverReport(id).with("serverOrgId", orgA))
		assert.Equal(t, StatusPaired, statusOf(t, e, out[0].ReportID).Status)
		assert.Equal(t, StatusPaired, statusOf(t, e, out[1].ReportID).Status)
	})
}

func TestDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken
	_, c1 := e.postPrivate(a, clientReport(fapi1))
	_, s1 := e.postPrivate(b, serverReport(fapi1))
	_, c2 := e.postPrivate(a, clientReport(fapi1)) // resent batch
	assert.Equal(t, 1, e.srv.Stats().Duplicates)
	assert.Equal(t, StatusPaired, statusOf(t, e, c1[0].ReportID).Status)
	assert.Equal(t, StatusPaired, statusOf(t, e, s1[0].ReportID).Status)
	dup := statusOf(t, e, c2[0].ReportID)
	assert.Equal(t, StatusUnpaired, dup.Status, "the counterpart is taken")
	assert.True(t, dup.Duplicate)
	_, _ = e.postPrivate(a, clientReport(fapi1).with("timestamp", ts(-2*time.Minute)))
	assert.Equal(t, 1, e.srv.Stats().Duplicates, "another timestamp is another call")
}

func TestClosingDelay(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClosingDelay = time.Hour })
	a, b := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken
	_, c := e.postPrivate(a, clientReport(fapi1))
	e.clock.Advance(59 * time.Minute)
	assert.Equal(t, StatusUnpaired, statusOf(t, e, c[0].ReportID).Status)
	e.clock.Advance(time.Minute)
	assert.Equal(t, StatusSingle, statusOf(t, e, c[0].ReportID).Status)
	_, s := e.postPrivate(b, serverReport(fapi1))
	assert.Equal(t, StatusUnpaired, statusOf(t, e, s[0].ReportID).Status, "a closed report cannot be paired")
	assert.Equal(t, StatusSingle, statusOf(t, e, c[0].ReportID).Status)
}

func TestGetReportVisibility(t *testing.T) {
	e := newEnv(t, nil)
	a, b, c := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken, e.token("bank_c").AccessToken
	_, cl := e.postPrivate(a, clientReport(fapi1))
	e.clock.Advance(time.Second)
	_, sv := e.postPrivate(b, serverReport(fapi1))

	get := func(tok, id, query string) (int, ReportModel, string) {
		resp, body := e.do(http.MethodGet, PrivateReportPath+id+query, tok, nil, nil)
		var m ReportModel
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &m))
		}
		return resp.StatusCode, m, string(body)
	}
	code, m, body := get(a, fapi1, "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, cl[0].ReportID, m.ReportID, "the caller's own report")
	require.NotNil(t, m.PairedReportID)
	assert.Equal(t, sv[0].ReportID, *m.PairedReportID)
	assert.Equal(t, StatusPaired, m.Status)
	assert.Equal(t, "CLIENT", m.Role)
	assert.Equal(t, ssA, m.ClientSSID)
	assert.Equal(t, t0.Format(timestampLayout), m.CreatedAt)
	assert.Equal(t, t0.Add(time.Second).Format(timestampLayout), m.UpdatedAt)
	o, err := parseObject(json.RawMessage(body))
	require.NoError(t, err)
	assert.Equal(t, []string{"reportId", "pairedReportId", "status", "createdAt", "updatedAt", "role", "fapiInteractionId",
		"endpoint", "statusCode", "httpMethod", "clientOrgId", "serverOrgId", "clientSSId", "endpointUriPrefix",
		"correlationId", "timestamp", "processTimespan", "additionalInfo"}, o.keys)

	code, m, _ = get(b, strings.ToUpper(fapi1), "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, sv[0].ReportID, m.ReportID)
	assert.Equal(t, "SERVER", m.Role)

	code, _, body = get(c, fapi1, "")
	assert.Equal(t, http.StatusNotFound, code, "bank C is neither client nor server")
	assert.JSONEq(t, `{"message":"Not Found"}`, body)
	code, _, _ = get(a, fapi2, "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = get("", fapi1, "")
	assert.Equal(t, http.StatusUnauthorized, code)

	// Bank B sees bank A's report of a call it never reported, unpaired.
	_, only := e.postPrivate(a, clientReport(fapi2))
	code, m, _ = get(b, fapi2, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, only[0].ReportID, m.ReportID)
	assert.Nil(t, m.PairedReportID)
	assert.Equal(t, StatusUnpaired, m.Status)

	// role= selects a side.
	code, m, _ = get(a, fapi1, "?role=SERVER")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, sv[0].ReportID, m.ReportID)

	resp, _ := e.do(http.MethodGet, PrivateReportPath+fapi1, a, nil, map[string]string{"Accept": "application/xml"})
	assert.Equal(t, http.StatusNotAcceptable, resp.StatusCode)
	q := e.srv.Stats().QueryRequests
	assert.Equal(t, 4, q["200"])
	assert.Equal(t, 2, q["404"])
}

func TestSimReportsFilter(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.token("bank_a").AccessToken, e.token("bank_b").AccessToken
	e.postPrivate(a, clientReport(fapi1), clientReport(fapi2).with("serverOrgId", orgC))
	e.postPrivate(b, serverReport(fapi1))
	e.postTo(OpendataReportPath, b, opendataReport())

	var all, byID, byOrg, paired, opendata []Report
	e.getJSON("/sim/reports", &all)
	e.getJSON("/sim/reports?fapiInteractionId="+fapi1, &byID)
	e.getJSON("/sim/reports?org="+orgC, &byOrg)
	e.getJSON("/sim/reports?status=PAIRED", &paired)
	e.getJSON("/sim/reports?api=opendata", &opendata)
	assert.Len(t, all, 4)
	assert.Len(t, byID, 2)
	require.Len(t, byOrg, 1)
	assert.Equal(t, fapi2, byOrg[0].FapiInteractionID)
	assert.Len(t, paired, 2)
	require.Len(t, opendata, 1)
	assert.Equal(t, orgB, opendata[0].SubmittedBy)

	e.postPrivate(a, clientReport(fapi1).with("endpoint", "/x"))
	var discarded []DiscardedReport
	e.getJSON("/sim/discarded", &discarded)
	require.Len(t, discarded, 1)
	assert.Equal(t, []string{"Unlisted endpoint: /x"}, discarded[0].Errors)
	assert.Equal(t, orgA, discarded[0].SubmittedBy)
	assert.JSONEq(t, mustJSON(t, clientReport(fapi1).with("endpoint", "/x")), string(discarded[0].Item))
}

func mustJSON(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
