package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdditionalInfo: the rule table with its sources, and the collector's counts of reports
// sent without an obliged key, read from its Prometheus endpoint, most first.
func TestAdditionalInfo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "additional-info")
	require.Equal(t, exitOK, code, stderr)
	assert.Regexp(t, `(?m)^data-consentId +CLIENT +GET +any +consentId +/open-banking/accounts/ `, stdout)
	assert.Contains(t, stdout, "one of consentId|enrollmentId (when grantType is AUTHORIZATION_CODE or REFRESH_TOKEN)")
	assert.Contains(t, stdout, "tokenId: REL 2025D")

	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`# TYPE otelcol_exporter_pcm_reports_missing_additional_info counter
otelcol_exporter_pcm_reports_missing_additional_info{endpoint="/token",exporter="pcm/banco_a",key="grantType"} 3
otelcol_exporter_pcm_reports_missing_additional_info{endpoint="/open-banking/accounts/v2/accounts",exporter="pcm/banco_a",key="consentId"} 12
otelcol_exporter_pcm_reports{api="private",exporter="pcm/banco_a",outcome="accepted",role="CLIENT"} 40
`))
	}))
	defer metrics.Close()
	code, stdout, stderr = runCmd(t, "additional-info", "-metrics", metrics.URL+"/metrics")
	require.Equal(t, exitProblem, code, stderr)
	assert.Regexp(t, `(?s)Reports sent without an obliged key:\nREPORTS +EXPORTER +KEY +ENDPOINT\n12 +pcm/banco_a +consentId +/open-banking/accounts/v2/accounts\n3 +pcm/banco_a +grantType +/token\n`, stdout)

	code, stdout, _ = runCmd(t, "additional-info", "-json", "-metrics", metrics.URL+"/metrics")
	require.Equal(t, exitProblem, code)
	var doc struct {
		Rules   []map[string]any `json:"rules"`
		Missing []missingCount   `json:"missing"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.NotEmpty(t, doc.Rules)
	assert.Equal(t, missingCount{Exporter: "pcm/banco_a", Endpoint: "/open-banking/accounts/v2/accounts", Key: "consentId", Reports: 12}, doc.Missing[0])

	code, _, stderr = runCmd(t, "additional-info", "-metrics", "http://127.0.0.1:1/metrics")
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, stderr, "pcmctl: -metrics: ")
}
