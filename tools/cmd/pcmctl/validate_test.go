package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
	"github.com/pcm-otel/pcmexporter/mapping"
)

// reportCases are report lines with what PCM would answer. pcmsim is PCM's stand-in:
// TestValidateAgreesWithPCMSim checks that it answers the same.
func reportCases(t *testing.T) []reportCase {
	old := time.Now().Add(-8 * 24 * time.Hour).UTC().Format(mapping.TimestampLayout)
	deadLine := func(stage deadletter.Stage, api string, r any) string {
		return jsonLine(t, deadletter.Entry{Time: time.Now().UTC(), Stage: stage, Reason: "r", API: api, Report: json.RawMessage(jsonLine(t, r))})
	}
	return []reportCase{
		{"good CLIENT report", jsonLine(t, report("CLIENT", fapi1, nil)),
			"ACCEPTED (private CLIENT GET " + accountsEP + " 200)"},
		{"good SERVER report without additionalInfo", jsonLine(t, report("SERVER", fapi1, map[string]any{"clientOrgId": orgB, "serverOrgId": orgA, "additionalInfo": nil})),
			"ACCEPTED (private SERVER GET " + accountsEP + " 200)"},
		{"good opendata report", jsonLine(t, opendataReport()),
			"ACCEPTED (opendata GET " + branchesEP + " 200)"},
		{"missing fapiInteractionId", jsonLine(t, report("CLIENT", fapi1, map[string]any{"fapiInteractionId": nil})),
			"DISCARDED: Missing property: fapiInteractionId"},
		{"408 without fapiInteractionId", jsonLine(t, report("CLIENT", fapi1, map[string]any{"fapiInteractionId": nil, "statusCode": 408})),
			"ACCEPTED (private CLIENT GET " + accountsEP + " 408)"},
		{"unknown key and a string status code", jsonLine(t, report("CLIENT", fapi1, map[string]any{"foo": 1, "statusCode": "200"})),
			"DISCARDED: Additional property not allowed: foo; Field type mismatch: statusCode"},
		{"dead-letter line with a concrete path", deadLine(deadletter.StageUnlisted, "private", report("CLIENT", fapi1, map[string]any{"endpoint": accountsEP + "/123"})),
			"DISCARDED: Unlisted endpoint: " + accountsEP + "/123"},
		{"not our report", jsonLine(t, report("CLIENT", fapi1, map[string]any{"clientOrgId": orgB, "serverOrgId": orgA})),
			"DISCARDED: Requester id mismatch with clientOrgId"},
		{"too old", jsonLine(t, report("CLIENT", fapi1, map[string]any{"timestamp": old})),
			"DISCARDED: Report is too old: timestamp"},
		{"timestamp without milliseconds", jsonLine(t, report("CLIENT", fapi1, map[string]any{"timestamp": "2026-03-01T12:00:00Z"})),
			"DISCARDED: Invalid field value: timestamp must be in the format YYYY-MM-DDTHH:mm:ss.sssZ"},
		{"client-only key in a SERVER report", jsonLine(t, report("SERVER", fapi1, map[string]any{"clientOrgId": orgB, "serverOrgId": orgA, "clientSSId": ssB})),
			"DISCARDED: Additional property not allowed: clientSSId"},
		{"bad role and zero timespan", jsonLine(t, report("CLIENT", fapi1, map[string]any{"role": "client", "processTimespan": 0})),
			"DISCARDED: Invalid field value: role must be CLIENT or SERVER; Invalid field value: processTimespan must be greater than zero"},
		{"CLIENT without additionalInfo and bad org", jsonLine(t, report("CLIENT", fapi1, map[string]any{"additionalInfo": nil, "serverOrgId": "banco-b"})),
			"DISCARDED: Missing property: additionalInfo; Invalid field value: serverOrgId must be a UUID"},
		{"opendata report with a private key", deadLine(deadletter.StageInvalid, "opendata", mergeMap(opendataReport(), map[string]any{"role": "SERVER"})),
			"DISCARDED: Additional property not allowed: role"},
		{"bad consentId", jsonLine(t, report("CLIENT", fapi1, map[string]any{"additionalInfo": map[string]any{"consentId": 42}})),
			"DISCARDED: Field type mismatch: additionalInfo.consentId must be a string"},
		{"not an object", `["a report"]`, "DISCARDED: Invalid payload format: report MUST be an object"},
	}
}

type reportCase struct {
	name string
	line string
	want string // the verdict line after "file:N: "
}

// simDiffers lists the report cases pcmsim answers differently, and why: it checks less than
// the exporter's Validator.
var simDiffers = map[string]string{
	"bad consentId": "pcmsim does not check additionalInfo",
}

func mergeMap(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func TestValidateReports(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	cases := reportCases(t)
	var lines []any
	var want []string
	for _, c := range cases {
		lines = append(lines, c.line)
		want = append(want, c.want)
	}
	lines = append(lines, `{"fapiInteractionId": "truncated`)
	path := e.file("reports.jsonl", jsonLines(t, lines...))

	code, stdout, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "validate", path)
	assert.Equal(t, exitProblem, code, stderr)
	assert.Empty(t, stderr)
	out := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, out, len(cases)+2, stdout)
	for i, c := range cases {
		assert.Equal(t, path+":"+strconv.Itoa(i+1)+": "+c.want, out[i], c.name)
	}
	assert.True(t, strings.HasPrefix(out[len(cases)], path+":"+strconv.Itoa(len(cases)+1)+": unreadable: not valid JSON: "), out[len(cases)])
	assert.Equal(t, "summary: 16 reports (4 ACCEPTED, 12 DISCARDED), 0 spans (0 reported, 0 skipped, 0 invalid), 1 unreadable", out[len(cases)+1])

	// Only good reports (a pretty-printed one spanning several lines among them): exit 0.
	pretty, err := json.MarshalIndent(opendataReport(), "", "  ")
	require.NoError(t, err)
	good := e.file("good.jsonl", cases[0].line+"\n\n"+string(pretty)+"\n"+cases[2].line+"\n")
	code, stdout, stderr = runCmd(t, "-config", e.config, "-exporter", "banco_a", "validate", good)
	assert.Equal(t, exitOK, code, stderr)
	assert.Equal(t, strings.Join([]string{
		good + ":1: ACCEPTED (private CLIENT GET " + accountsEP + " 200)",
		good + ":3: ACCEPTED (opendata GET " + branchesEP + " 200)",
		good + ":13: ACCEPTED (opendata GET " + branchesEP + " 200)",
		"summary: 3 reports (3 ACCEPTED, 0 DISCARDED), 0 spans (0 reported, 0 skipped, 0 invalid), 0 unreadable",
	}, "\n")+"\n", stdout)

	// -json, and a file that does not exist next to a good one.
	code, stdout, stderr = runCmd(t, "-config", e.config, "-exporter", "banco_a", "validate", "-json", good, filepath.Join(e.dir, "missing.jsonl"))
	assert.Equal(t, exitProblem, code)
	assert.Equal(t, "pcmctl: open "+filepath.Join(e.dir, "missing.jsonl")+": no such file or directory\n", stderr)
	var doc struct {
		Results []validateResult `json:"results"`
		Summary validateSummary  `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc), stdout)
	require.Len(t, doc.Results, 4)
	assert.Equal(t, validateResult{File: good, Line: 1, Kind: "report", Verdict: "ACCEPTED", API: "private", Role: "CLIENT",
		Method: "GET", Endpoint: accountsEP, StatusCode: 200}, doc.Results[0])
	assert.Equal(t, "error", doc.Results[3].Verdict)
	assert.Contains(t, doc.Results[3].Message, "no such file or directory")
	assert.Equal(t, validateSummary{Reports: 3, Accepted: 3, Errors: 1}, doc.Summary)
}

// TestValidateAgreesWithPCMSim sends the report cases to pcmsim (PCM's stand-in) and checks
// that pcmctl validate predicted its verdict for each.
func TestValidateAgreesWithPCMSim(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	c := &cli{configPath: e.config, exporterName: "banco_a", stderr: os.Stderr}
	ec, err := c.loadConfig(context.Background())
	require.NoError(t, err)
	clients, err := newClients(context.Background(), ec)
	require.NoError(t, err)
	defer clients.Close()
	_, validator, err := pcmconfig.Mapping(ec.cfg, nil)
	require.NoError(t, err)

	for _, tc := range reportCases(t) {
		val := inputValue{raw: []byte(tc.line)}
		val.kind, _ = classify(val.raw)
		raw, entry, err := reportOf(val)
		require.NoError(t, err)
		entryAPI := ""
		if entry != nil {
			entryAPI = entry.API
		}
		api := inferAPI(raw, entryAPI, validator.Catalog)
		path := ec.cfg.PrivateReportPath
		if api == mapping.APIOpendata {
			path = ec.cfg.OpendataReportPath
		}
		if raw[0] != '{' || simDiffers[tc.name] != "" {
			continue // pcmapi refuses to send a non-object: PCM would answer 400 for the batch
		}
		results, err := clients.API.Send(context.Background(), path, [][]byte{raw})
		require.NoError(t, err, tc.name)
		require.Len(t, results, 1)
		predicted := strings.HasPrefix(tc.want, "ACCEPTED")
		assert.Equal(t, predicted, !results[0].Discarded(), "%s: pcmctl says %q, pcmsim says %s %q", tc.name, tc.want, results[0].Status, results[0].Message)
		if !predicted {
			// The same reasons, in PCM's words (the order may differ).
			assert.ElementsMatch(t, strings.Split(strings.TrimPrefix(tc.want, "DISCARDED: "), "; "),
				strings.Split(results[0].Message, "; "), tc.name)
		}
	}
}

// span adds an HTTP span to ss.
func addSpan(ss ptrace.ScopeSpans, kind ptrace.SpanKind, name string, attrs map[string]any) ptrace.Span {
	sp := ss.Spans().AppendEmpty()
	sp.SetName(name)
	sp.SetKind(kind)
	sp.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(ss.Spans().Len())})
	sp.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, byte(ss.Spans().Len())})
	start := time.Now().Add(-time.Minute)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(120 * time.Millisecond)))
	if err := sp.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return sp
}

func TestValidateTraces(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "banco-a-gateway")
	ss := rs.ScopeSpans().AppendEmpty()
	addSpan(ss, ptrace.SpanKindClient, "GET accounts", map[string]any{
		"http.request.method": "GET", "url.full": "https://api.banco-b.example/opbk" + accountsEP + "?page=1",
		"http.response.status_code": 200, "http.request.header.x-fapi-interaction-id": []any{fapi1},
	})
	addSpan(ss, ptrace.SpanKindServer, "GET /health", map[string]any{
		"http.request.method": "GET", "url.path": "/health", "http.response.status_code": 200,
	})
	addSpan(ss, ptrace.SpanKindClient, "GET unknown", map[string]any{
		"http.request.method": "GET", "url.full": "https://api.banco-b.example/open-banking/unknown/v1/things",
		"http.response.status_code": 200, "http.request.header.x-fapi-interaction-id": []any{fapi2},
	})
	addSpan(ss, ptrace.SpanKindClient, "GET accounts without id", map[string]any{
		"http.request.method": "GET", "url.full": "https://api.banco-b.example/opbk" + accountsEP,
		"http.response.status_code": 200,
	})
	addSpan(ss, ptrace.SpanKindInternal, "work", map[string]any{})
	addSpan(ss, ptrace.SpanKindServer, "GET branches", map[string]any{
		"http.request.method": "GET", "url.path": branchesEP, "http.response.status_code": 200, "client.address": "203.0.113.7",
	})
	data, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	// Two documents, as the collector's file exporter writes them: one per line.
	path := e.file("traces.json", string(data)+"\n"+string(data)+"\n")

	code, stdout, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "validate", path)
	assert.Equal(t, exitProblem, code, "invalid spans are problems")
	assert.Empty(t, stderr)
	trace := func(n byte) string { return "0102030405060708090a0b0c0d0e0f0" + string("0123456789abcdef"[n]) }
	spanID := func(n byte) string { return "01020304050607" + "0" + string("0123456789abcdef"[n]) }
	var want []string
	for _, line := range []string{"1", "2"} {
		p := path + ":" + line + ": span "
		want = append(want,
			p+trace(1)+"/"+spanID(1)+` "GET accounts": reported (private CLIENT GET `+accountsEP+` 200)`,
			p+trace(2)+"/"+spanID(2)+` "GET /health": skipped (not_open_finance)`,
			p+trace(3)+"/"+spanID(3)+` "GET unknown": invalid: Unlisted endpoint: /open-banking/unknown/v1/things`,
			p+trace(4)+"/"+spanID(4)+` "GET accounts without id": invalid: Missing property: fapiInteractionId`,
			p+trace(5)+"/"+spanID(5)+` "work": skipped (span_kind)`,
			p+trace(6)+"/"+spanID(6)+` "GET branches": reported (opendata GET `+branchesEP+` 200)`,
		)
	}
	want = append(want, "summary: 0 reports (0 ACCEPTED, 0 DISCARDED), 12 spans (4 reported, 4 skipped, 4 invalid), 0 unreadable")
	assert.Equal(t, strings.Join(want, "\n")+"\n", stdout)

	// With the -json flag after the file.
	code, stdout, _ = runCmd(t, "validate", path, "-json", "-config", e.config, "-exporter", "pcm/banco_a")
	assert.Equal(t, exitProblem, code)
	var doc struct {
		Results []validateResult `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	require.Len(t, doc.Results, 12)
	assert.Equal(t, validateResult{File: path, Line: 1, Kind: "span", Verdict: "skipped", SkipReason: "not_open_finance",
		TraceID: trace(2), SpanID: spanID(2), SpanName: "GET /health"}, doc.Results[1])
}
