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

func TestReportResponseShapeAndOrder(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("bank_a").AccessToken
	items := []any{
		clientReport(fapi1),
		clientReport(fapi2).with("correlationId", nil, "endpoint", "/nope"),
		clientReport("").with("statusCode", 503, "correlationId", "c-3"),
		clientReport(fapi2).with("correlationId", "c-4", "httpMethod", "TRACE"),
	}
	resp, body := e.do(http.MethodPost, PrivateReportPath, tok, items, nil)
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	var raw []json.RawMessage
	require.NoError(t, json.Unmarshal(body, &raw))
	require.Len(t, raw, 4)
	wantKeys := [][]string{
		{"reportId", "status", "correlationId"},
		{"reportId", "status", "message"},
		{"reportId", "status", "correlationId"},
		{"reportId", "status", "correlationId", "message"},
	}
	for i, r := range raw {
		o, err := parseObject(r)
		require.NoError(t, err)
		assert.Equal(t, wantKeys[i], o.keys, "item %d", i)
	}
	var out []ReportResponse
	require.NoError(t, json.Unmarshal(body, &out))
	assert.Equal(t, StatusAccepted, out[0].Status)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", *out[0].CorrelationID)
	assert.Equal(t, "Unlisted endpoint: /nope", out[1].Message)
	assert.Equal(t, StatusAccepted, out[2].Status)
	assert.Equal(t, "c-3", *out[2].CorrelationID)
	assert.Equal(t, "c-4", *out[3].CorrelationID)
	assert.Equal(t, "Invalid field value: httpMethod must be one of GET, POST, PUT, DELETE, PATCH", out[3].Message)
	ids := map[string]bool{}
	for _, o := range out {
		ids[o.ReportID] = true
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, o.ReportID)
	}
	assert.Len(t, ids, 4, "report ids are fresh")

	// Stored ids are the ids answered.
	reports := e.srv.Reports()
	require.Len(t, reports, 2)
	assert.Equal(t, out[0].ReportID, reports[0].ReportID)
	assert.Equal(t, out[2].ReportID, reports[1].ReportID)
	discarded := e.srv.Discarded()
	require.Len(t, discarded, 2)
	assert.Equal(t, out[1].ReportID, discarded[0].ReportID)
	assert.Equal(t, accountsEP, discarded[1].Endpoint)
	assert.Equal(t, "c-4", discarded[1].CorrelationID)
}

func TestAllDiscardedIs207AndEmptyBatchIs200(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("bank_a").AccessToken
	code, out := e.postPrivate(tok, clientReport(fapi1).with("role", nil))
	assert.Equal(t, http.StatusMultiStatus, code)
	assert.Equal(t, StatusDiscarded, out[0].Status)

	resp, body := e.do(http.MethodPost, PrivateReportPath, tok, "[]", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `[]`, string(body))
}

func TestAPIStatusPaths(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxItems = 3; c.MaxBodyBytes = 4096 })
	tok := e.token("bank_a").AccessToken
	one := []any{clientReport(fapi1)}
	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		header map[string]string
		code   int
		resp   string // exact JSON body, "" = array
	}{
		{"private with slash", "POST", PrivateReportPath, tok, one, nil, 200, ""},
		{"private without slash", "POST", "/report-api/v1/private/report", tok, one, nil, 200, ""},
		{"opendata", "POST", OpendataReportPath, tok, []any{opendataReport()}, nil, 200, ""},
		{"opendata with slash", "POST", OpendataReportPath + "/", tok, []any{opendataReport()}, nil, 404, `{"message":"Not Found"}`},
		{"unknown path", "POST", "/report-api/v1/report", tok, one, nil, 404, `{"message":"Not Found"}`},
		{"no token", "POST", PrivateReportPath, "", one, nil, 401, `{"message":"Unauthorized"}`},
		{"garbage token", "POST", PrivateReportPath, "abc.def.ghi", one, nil, 401, `{"message":"Unauthorized"}`},
		{"basic auth", "POST", PrivateReportPath, "", one, map[string]string{"Authorization": "Basic " + tok}, 401, `{"message":"Unauthorized"}`},
		{"no content type", "POST", PrivateReportPath, tok, one, map[string]string{"Content-Type": ""}, 415, `{"message":"Unsupported Media Type"}`},
		{"text content type", "POST", PrivateReportPath, tok, one, map[string]string{"Content-Type": "text/plain"}, 415, `{"message":"Unsupported Media Type"}`},
		{"json with charset", "POST", PrivateReportPath, tok, one, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 200, ""},
		{"accept html", "POST", PrivateReportPath, tok, one, map[string]string{"Accept": "text/html"}, 406, `{"message":"Content type not accepted"}`},
		{"accept json q=0", "POST", PrivateReportPath, tok, one, map[string]string{"Accept": "application/json;q=0, text/html"}, 406, `{"message":"Content type not accepted"}`},
		{"accept missing", "POST", PrivateReportPath, tok, one, map[string]string{"Accept": ""}, 200, ""},
		{"accept any", "POST", PrivateReportPath, tok, one, map[string]string{"Accept": "*/*"}, 200, ""},
		{"accept list", "POST", PrivateReportPath, tok, one, map[string]string{"Accept": "text/plain, application/json;q=0.5"}, 200, ""},
		{"object body", "POST", PrivateReportPath, tok, clientReport(fapi1), nil, 400, `{"message":"Invalid payload format: MUST be an array"}`},
		{"malformed body", "POST", PrivateReportPath, tok, `[{"role":`, nil, 400, `{"message":"Invalid payload format: MUST be an array"}`},
		{"trailing data", "POST", PrivateReportPath, tok, `[] []`, nil, 400, `{"message":"Invalid payload format: MUST be an array"}`},
		{"too many items", "POST", PrivateReportPath, tok, []any{1, 2, 3, 4}, nil, 413, `{"message":"Record limit exceeded"}`},
		{"max items", "POST", PrivateReportPath, tok, []any{clientReport(fapi1), clientReport(fapi1), clientReport(fapi1)}, nil, 200, ""},
		{"body too large", "POST", PrivateReportPath, tok, `[` + strings.Repeat(" ", 4096) + `]`, nil, 413, `{"message":"Record limit exceeded"}`},
		{"GET on POST path", "GET", "/report-api/v1/private/report", tok, nil, nil, 405, `{"message":"Method Not Allowed"}`},
		{"PUT on report path", "PUT", "/report-api/v1/private/report", tok, one, nil, 405, `{"message":"Method Not Allowed"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(tc.method, tc.path, tc.token, tc.body, tc.header)
			assert.Equal(t, tc.code, resp.StatusCode, string(body))
			if tc.resp != "" {
				assert.JSONEq(t, tc.resp, string(body))
			} else {
				assert.True(t, strings.HasPrefix(string(body), "["), string(body))
			}
			if tc.code == 401 {
				assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	st := e.srv.Stats()
	assert.Equal(t, 8, st.ReportRequests["200"])
	assert.Equal(t, 3, st.ReportRequests["401"])
	assert.Equal(t, 2, st.ReportRequests["406"])
	assert.Equal(t, 2, st.ReportRequests["413"])
	assert.Equal(t, 2, st.ReportRequests["415"])
	assert.Equal(t, 3, st.ReportRequests["400"])
	assert.Equal(t, 2, st.ReportRequests["405"])
	assert.Equal(t, 10, st.ItemsReceived)
	assert.Equal(t, 10, st.ItemsAccepted)
	assert.Equal(t, 8, st.Duplicates, "9 private copies of one client report")
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit = 2 })
	tok := e.token("bank_a").AccessToken
	for i := 0; i < 2; i++ {
		code, _ := e.postPrivate(tok, clientReport(fapi1))
		assert.Equal(t, http.StatusOK, code)
	}
	resp, body := e.do(http.MethodPost, PrivateReportPath, tok, []any{clientReport(fapi1)}, nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Too Many Requests"}`, string(body))
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))

	e.clock.Advance(time.Second) // the bucket refills
	code, _ := e.postPrivate(tok, clientReport(fapi1))
	assert.Equal(t, http.StatusOK, code)

	// Control endpoints are not limited.
	for i := 0; i < 5; i++ {
		resp, _ := e.do(http.MethodGet, "/sim/stats", "", nil, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, 1, e.srv.Stats().ReportRequests["429"])
}
