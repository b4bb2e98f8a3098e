//go:build e2e

package faults

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// additionalInfoOTTL is the transform processor configuration the README points to.
const additionalInfoOTTL = "../deploy/collector/pcm-additional-info.yaml" // relative to the tools module

// TestOTTLFillsObligedAdditionalInfo runs the shipped OTTL statements in the built collector,
// before the pcm exporter: a consents API call gets its consentId from the URL, a token call its
// grantType (in PCM's spelling) and tokenId from attributes the application recorded; PCM (the
// simulator) stores them in additionalInfo, and the exporter counts no missing key for them.
func TestOTTLFillsObligedAdditionalInfo(t *testing.T) {
	ottl, err := demo.FindRepoFile(additionalInfoOTTL)
	require.NoError(t, err)
	pipeline := filepath.Join(t.TempDir(), "pipeline.yaml")
	require.NoError(t, os.WriteFile(pipeline, []byte(
		"service:\n  pipelines:\n    traces:\n      processors: [transform/pcm_additional_info]\n"), 0o600))
	e := newEnv(t, envConfig{ExtraConfigs: []string{ottl, pipeline}})

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	call := func(method, url string, attrs map[string]string) string {
		id := strings.ToLower(demo.NewInteractionID())
		span := spans.AppendEmpty()
		span.SetTraceID(randomTraceID())
		span.SetSpanID(randomSpanID())
		span.SetKind(ptrace.SpanKindClient)
		end := time.Now()
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-20 * time.Millisecond)))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		a := span.Attributes()
		a.PutStr("http.request.method", method)
		a.PutStr("url.full", url)
		a.PutInt("http.response.status_code", 200)
		a.PutEmptySlice("http.request.header.x-fapi-interaction-id").AppendEmpty().SetStr(id)
		for k, v := range attrs {
			a.PutStr(k, v)
		}
		return id
	}
	consent := call("GET", "https://"+counterpartHost+"/open-banking/consents/v3/consents/urn:bancob:C1?x=1",
		map[string]string{"app.pcm_token_id": "yJXdSvTodUb5"})
	token := call("POST", "https://"+counterpartHost+"/token",
		map[string]string{"app.oauth.grant_type": "client_credentials", "app.pcm_token_id": "c9ng8aKzxNXm"})
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(t, err)
	require.True(t, e.send.do(context.Background(), body))

	stored := func(id string) map[string]any {
		reports := e.sim().FindReports(pcmsim.ReportFilter{FapiInteractionID: id})
		if len(reports) != 1 {
			return nil
		}
		var info map[string]any
		require.NoError(t, json.Unmarshal(reports[0].AdditionalInfo, &info))
		return info
	}
	e.waitFor(30*time.Second, "both reports at PCM", func() (bool, string) {
		return stored(consent) != nil && stored(token) != nil, "waiting"
	})
	assert.Equal(t, map[string]any{"consentId": "urn:bancob:C1", "tokenId": "yJXdSvTodUb5"}, stored(consent))
	assert.Equal(t, map[string]any{"grantType": "CLIENT_CREDENTIALS", "tokenId": "c9ng8aKzxNXm"}, stored(token))

	m := e.metrics()
	assert.Zero(t, metric(m, "otelcol_exporter_pcm_reports_missing_additional_info"), "no obliged key missing")
	assert.Equal(t, float64(2), metric(m, mReports, "outcome", "accepted"))
}
