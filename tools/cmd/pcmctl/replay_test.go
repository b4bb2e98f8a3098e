package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

const fapi5 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e05"

// writeDeadLetter writes a dead-letter file like the exporter does, with reports an operator
// has corrected (and some they have not): see the line comments.
func writeDeadLetter(t *testing.T, dir string) string {
	t.Helper()
	entry := func(stage deadletter.Stage, api string, r any) deadletter.Entry {
		return deadletter.Entry{Time: time.Now().UTC(), Stage: stage, Reason: "as the exporter wrote it", API: api,
			TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: "0102030405060708", Report: json.RawMessage(jsonLine(t, r))}
	}
	corrected := report("CLIENT", fapi1, nil)
	path := filepath.Join(dir, "dead-letter.jsonl")
	w, err := deadletter.Open(path)
	require.NoError(t, err)
	require.NoError(t, w.Write([]deadletter.Entry{
		entry(deadletter.StageDiscarded, "private", corrected),                                                             // 1: fixed → ACCEPTED
		entry(deadletter.StageInvalid, "private", report("CLIENT", fapi2, nil)),                                            // 2: fixed → ACCEPTED
		entry(deadletter.StageUnlisted, "private", report("CLIENT", fapi3, map[string]any{"endpoint": accountsEP + "/1"})), // 3: still invalid
		entry(deadletter.StageDiscarded, "private", report("CLIENT", fapi4, map[string]any{"serverOrgId": orgX})),          // 4: PCM discards again
		entry(deadletter.StageDiscarded, "private", corrected),                                                             // 5: same report as 1
		entry(deadletter.StageInvalid, "opendata", opendataReport()),                                                       // 6: → opendata API
		entry(deadletter.StageRejected, "private", report("SERVER", fapi5,
			map[string]any{"clientOrgId": orgB, "serverOrgId": orgA})), // 7: → ACCEPTED
	}))
	require.NoError(t, w.Close())
	return path
}

var reportIDPattern = regexp.MustCompile(`reportId=([0-9a-f-]{36})`)

func TestReplay(t *testing.T) {
	t.Parallel()
	acceptedLine := func(n, role, status string) string {
		return `^line ` + n + `: ACCEPTED reportId=[0-9a-f-]{36} \(private ` + role + ` GET /open-banking/accounts/v2/accounts ` + status + `\)$`
	}
	tests := []struct {
		name       string
		flags      []string
		faults     *pcmsim.Faults
		wantCode   int
		wantLines  []string // regular expressions, one per output line
		wantStderr string
		wantStored []string // fapiInteractionIds pcmsim stored ("" = opendata)
		wantPOSTs  map[string]int
		wantTokens bool
		wantOut    []string // stage of each line written to -out
	}{
		{
			name: "corrected lines are accepted, the others listed", flags: nil, wantCode: exitProblem,
			wantLines: []string{
				acceptedLine("1", "CLIENT", "200"),
				acceptedLine("2", "CLIENT", "200"),
				`^line 3: still invalid, not sent: Unlisted endpoint: /open-banking/accounts/v2/accounts/1$`,
				`^line 4: DISCARDED reportId=[0-9a-f-]{36}: OrganisationId doesn't exist on Directory: serverOrgId$`,
				`^line 5: duplicate of line 1, not sent$`,
				`^line 6: ACCEPTED reportId=[0-9a-f-]{36} \(opendata GET /open-banking/channels/v2/branches 200\)$`,
				acceptedLine("7", "SERVER", "200"),
				`^summary: 7 lines: 4 accepted, 1 DISCARDED, 1 still invalid, 0 not delivered, 1 duplicates, 0 not selected, 0 unreadable$`,
				`^wrote 2 lines to .*remaining.jsonl$`,
			},
			wantStored: []string{fapi1, fapi2, "", fapi5},
			wantPOSTs:  map[string]int{"200": 2, "207": 1}, // private [1 2] [4 7], opendata [6]
			wantTokens: true,
			wantOut:    []string{"invalid", "discarded"},
		},
		{
			name: "dry run: no token, no report request", flags: []string{"-dry-run"}, wantCode: exitProblem,
			wantLines: []string{
				`^dry run: nothing is sent$`,
				`^line 1: would send to https://127\.0\.0\.1:\d+/report-api/v1/private/report/ \(private CLIENT GET /open-banking/accounts/v2/accounts 200\)$`,
				`^line 2: would send to .*/report-api/v1/private/report/ `,
				`^line 3: still invalid, not sent: Unlisted endpoint: /open-banking/accounts/v2/accounts/1$`,
				`^line 4: would send to `,
				`^line 5: duplicate of line 1, not sent$`,
				`^line 6: would send to https://127\.0\.0\.1:\d+/report-api/v1/opendata/report \(opendata GET /open-banking/channels/v2/branches 200\)$`,
				`^line 7: would send to `,
				`^would send 4 private reports in 2 POSTs \(max_batch_size 2\)$`,
				`^would send 1 opendata report in 1 POST \(max_batch_size 2\)$`,
				`^summary: 7 lines: 5 would be sent, 0 accepted, 0 DISCARDED, 1 still invalid, 0 not delivered, 1 duplicates, 0 not selected, 0 unreadable$`,
				`^wrote 6 lines to `,
			},
			wantPOSTs: map[string]int{},
			wantOut:   []string{"discarded", "invalid", "invalid", "discarded", "invalid", "rejected"},
		},
		{
			name: "stage filter", flags: []string{"-stage", "discarded"}, wantCode: exitProblem,
			wantLines: []string{
				acceptedLine("1", "CLIENT", "200"),
				`^line 2: not selected \(stage invalid\)$`,
				`^line 3: not selected \(stage unlisted_endpoint\)$`,
				`^line 4: DISCARDED reportId=[0-9a-f-]{36}: OrganisationId doesn't exist on Directory: serverOrgId$`,
				`^line 5: duplicate of line 1, not sent$`,
				`^line 6: not selected \(stage invalid\)$`,
				`^line 7: not selected \(stage rejected\)$`,
				`^summary: 7 lines: 1 accepted, 1 DISCARDED, 0 still invalid, 0 not delivered, 1 duplicates, 4 not selected, 0 unreadable$`,
				`^wrote 5 lines to `,
			},
			wantStored: []string{fapi1},
			wantPOSTs:  map[string]int{"207": 1},
			wantTokens: true,
			wantOut:    []string{"invalid", "unlisted_endpoint", "discarded", "invalid", "rejected"},
		},
		{
			name: "a failed POST leaves its API's reports not delivered", faults: &pcmsim.Faults{API: pcmsim.Fault{Mode: "503", Count: 1}},
			wantCode: exitProblem,
			wantLines: []string{
				`^line 1: not delivered: PCM answered HTTP 503 Service Unavailable`,
				`^line 2: not delivered: `,
				`^line 3: still invalid, not sent: `,
				`^line 4: not delivered: `,
				`^line 5: duplicate of line 1, not sent$`,
				`^line 6: ACCEPTED reportId=`,
				`^line 7: not delivered: `,
				`^summary: 7 lines: 1 accepted, 0 DISCARDED, 1 still invalid, 4 not delivered, 1 duplicates, 0 not selected, 0 unreadable$`,
				`^wrote 5 lines to `,
			},
			wantStderr: "sending private reports to https://127.0.0.1:",
			wantStored: []string{""},
			wantPOSTs:  map[string]int{"503": 1, "200": 1},
			wantTokens: true,
			wantOut:    []string{"discarded", "invalid", "invalid", "discarded", "rejected"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSim(t)
			if tt.faults != nil {
				require.NoError(t, e.sim.SetFaults(*tt.faults))
			}
			dead := writeDeadLetter(t, e.dir)
			out := filepath.Join(e.dir, "remaining.jsonl")
			args := append([]string{"-config", e.config, "-exporter", "banco_a", "replay", "-out", out}, tt.flags...)
			code, stdout, stderr := runCmd(t, append(args, dead)...)
			assert.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.wantStderr == "" {
				assert.Empty(t, stderr)
			} else {
				assert.Contains(t, stderr, tt.wantStderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			require.Len(t, lines, len(tt.wantLines), stdout)
			for i, re := range tt.wantLines {
				assert.Regexp(t, re, lines[i])
			}

			// What pcmsim has: each report once, with the reportId printed.
			var stored []string
			printed := reportIDPattern.FindAllStringSubmatch(stdout, -1)
			ids := map[string]bool{}
			for _, m := range printed {
				ids[m[1]] = true
			}
			for _, r := range e.sim.Reports() {
				stored = append(stored, r.FapiInteractionID)
				assert.True(t, ids[r.ReportID], "stored report %s was printed", r.ReportID)
			}
			sort.Strings(stored)
			want := append([]string(nil), tt.wantStored...)
			sort.Strings(want)
			assert.Equal(t, want, stored)
			stats := e.sim.Stats()
			assert.Equal(t, tt.wantPOSTs, stats.ReportRequests)
			assert.Equal(t, tt.wantTokens, len(stats.TokenRequests) > 0, "token requests: %v", stats.TokenRequests)

			// -out keeps what still needs work, with PCM's new verdict where there is one.
			remaining, err := deadletter.Read(out)
			require.NoError(t, err)
			var stages []string
			for _, r := range remaining {
				stages = append(stages, string(r.Stage))
				assert.True(t, json.Valid(r.Report))
				assert.Equal(t, "0102030405060708090a0b0c0d0e0f10", r.TraceID, "trace id kept")
			}
			assert.Equal(t, tt.wantOut, stages)
		})
	}
}

// TestReplayIterate replays, fixes what is left in -out and replays that file again.
func TestReplayIterate(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	dead := writeDeadLetter(t, e.dir)
	out := filepath.Join(e.dir, "remaining.jsonl")
	code, _, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-out", out, dead)
	require.Equal(t, exitProblem, code, stderr)

	remaining, err := deadletter.Read(out)
	require.NoError(t, err)
	require.Len(t, remaining, 2)
	assert.Equal(t, deadletter.StageInvalid, remaining[0].Stage)
	assert.Equal(t, "Unlisted endpoint: /open-banking/accounts/v2/accounts/1", remaining[0].Reason)
	assert.Empty(t, remaining[0].ReportID)
	assert.Equal(t, deadletter.StageDiscarded, remaining[1].Stage)
	assert.Equal(t, "OrganisationId doesn't exist on Directory: serverOrgId", remaining[1].Reason)
	discarded := e.sim.Discarded()
	require.Len(t, discarded, 1)
	assert.Equal(t, discarded[0].ReportID, remaining[1].ReportID, "PCM's reportId of the DISCARDED item")

	// The operator fixes both and replays the remaining file; not over itself (refused), into a
	// new file.
	fixed := []deadletter.Entry{remaining[0], remaining[1]}
	fixed[0].Report = json.RawMessage(jsonLine(t, report("CLIENT", fapi3, nil)))
	fixed[1].Report = json.RawMessage(jsonLine(t, report("CLIENT", fapi4, nil)))
	var text strings.Builder
	for _, f := range fixed {
		text.WriteString(jsonLine(t, f) + "\n")
	}
	e.file("remaining.jsonl", text.String())
	code, stdout, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-json", "-out", out, out)
	require.Equal(t, exitUsage, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stderr, "refused: it is the dead-letter file")
	out2 := filepath.Join(e.dir, "remaining2.jsonl")
	code, stdout, stderr = runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-json", "-out", out2, out)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	var doc struct {
		Results []replayResult `json:"results"`
		Summary replaySummary  `json:"summary"`
		Written int            `json:"written"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc), stdout)
	assert.Equal(t, replaySummary{Lines: 2, Accepted: 2}, doc.Summary)
	assert.Zero(t, doc.Written)
	require.Len(t, doc.Results, 2)
	assert.Equal(t, "accepted", doc.Results[0].Outcome)
	assert.Equal(t, "ACCEPTED", doc.Results[0].Status)
	assert.Equal(t, "CLIENT", doc.Results[0].Role)
	remaining, err = deadletter.Read(out2)
	require.NoError(t, err)
	assert.Empty(t, remaining, "nothing left")
	assert.Len(t, e.sim.Reports(), 6)
}

// TestReplayUnreadableLines keeps what it cannot read in -out, byte for byte.
func TestReplayUnreadableLines(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	good := jsonLine(t, deadletter.Entry{Stage: deadletter.StageDiscarded, API: "private", Report: json.RawMessage(jsonLine(t, report("CLIENT", fapi1, nil)))})
	dead := e.file("dead.jsonl", "not json at all\n"+good+"\n"+`{"resourceSpans":[]}`+"\n")
	out := filepath.Join(e.dir, "out.jsonl")
	code, stdout, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-dry-run", "-out", out, dead)
	assert.Equal(t, exitProblem, code, stderr)
	assert.Contains(t, stdout, "line 1: unreadable: not valid JSON")
	assert.Contains(t, stdout, "line 3: unreadable: an OTLP traces document, not a report (use pcmctl validate)")
	assert.Contains(t, stdout, "wrote 3 lines to ")
	data, err := readFile(out)
	require.NoError(t, err)
	assert.Equal(t, "not json at all\n"+good+"\n"+`{"resourceSpans":[]}`+"\n", data)
}
