package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// TestReplayCreditPortability: credit-portability dead letters go back to the
// credit-portability API, CLIENT and SERVER reports each to their own path.
func TestReplayCreditPortability(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	const pid = "54d5348c-1a3f-4ff4-a8a8-d0724fb806c6"
	portability := func(role, fapi string, mods map[string]any) map[string]any {
		r := report(role, fapi, mods)
		delete(r, "additionalInfo")
		r["portabilityId"] = pid
		return r
	}
	client := portability("CLIENT", fapi1, map[string]any{
		"endpoint": "/open-banking/credit-portability/v1/portabilities", "httpMethod": "POST", "statusCode": 201,
	})
	client["creationDateTime"] = "2026-03-10T11:00:00Z"
	noCreation := portability("CLIENT", fapi2, map[string]any{
		"endpoint": "/open-banking/credit-portability/v1/portabilities", "httpMethod": "POST", "statusCode": 201,
	})
	server := portability("SERVER", fapi3, map[string]any{
		"endpoint": "/open-banking/credit-portability/v1/portabilities/{portabilityId}", "clientOrgId": orgB, "serverOrgId": orgA,
	})
	server["creditPortabilityStatus"] = "RECEIVED"
	server["statusUpdateDateTime"] = "2026-03-10T11:30:00Z"

	dead := filepath.Join(e.dir, "dead-letter.jsonl")
	w, err := deadletter.Open(dead)
	require.NoError(t, err)
	var entries []deadletter.Entry
	for _, r := range []map[string]any{client, noCreation, server} {
		entries = append(entries, deadletter.Entry{Time: time.Now().UTC(), Stage: deadletter.StageDiscarded, Reason: "as written",
			API: "credit_portability", TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: "0102030405060708",
			Report: json.RawMessage(jsonLine(t, r))})
	}
	require.NoError(t, w.Write(entries))
	require.NoError(t, w.Close())

	code, stdout, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", dead)
	assert.Equal(t, exitProblem, code, "stdout: %s\nstderr: %s", stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 4, stdout)
	assert.Regexp(t, `^line 1: ACCEPTED reportId=[0-9a-f-]{36} \(credit_portability CLIENT POST /open-banking/credit-portability/v1/portabilities 201\)$`, lines[0])
	assert.Equal(t, "line 2: still invalid, not sent: Missing property: creationDateTime", lines[1])
	assert.Regexp(t, `^line 3: ACCEPTED reportId=[0-9a-f-]{36} \(credit_portability SERVER GET /open-banking/credit-portability/v1/portabilities/\{portabilityId\} 200\)$`, lines[2])

	stored := e.sim.FindReports(pcmsim.ReportFilter{API: pcmsim.APICreditPortability})
	require.Len(t, stored, 2)
	assert.Equal(t, map[string]int{"200": 2}, e.sim.Stats().ReportRequests, "one POST per path")
	for _, r := range stored {
		assert.Equal(t, pid, r.CreditPortability["portabilityId"])
	}
}
