package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/mapping"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// send replays one report through pcm/<exporter>, as an operator would.
func (e *simEnv) send(exporter string, r map[string]any) {
	e.t.Helper()
	line := jsonLine(e.t, deadletter.Entry{Stage: deadletter.StageDiscarded, API: "private", Report: json.RawMessage(jsonLine(e.t, r))})
	path := e.file("send-"+exporter+".jsonl", line+"\n")
	code, stdout, stderr := runCmd(e.t, "-config", e.config, "-exporter", exporter, "replay", path)
	require.Equal(e.t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	status := func(args ...string) (int, string, string) {
		return runCmd(t, append([]string{"-config", e.config, "-exporter", "banco_a", "status"}, args...)...)
	}

	// banco_a reports its CLIENT side: UNPAIRED until banco_b reports the SERVER side.
	e.send("banco_a", report("CLIENT", fapi1, nil))
	code, stdout, stderr := status(fapi1)
	require.Equal(t, exitOK, code, stderr)
	client := e.sim.Reports()[0]
	assert.Regexp(t, `(?m)^status +UNPAIRED$`, stdout)
	assert.Regexp(t, `(?m)^reportId +`+client.ReportID+`$`, stdout)
	assert.Regexp(t, `(?m)^pairedReportId +-$`, stdout)
	assert.Regexp(t, `(?m)^fapiInteractionId +`+fapi1+`$`, stdout)
	assert.Regexp(t, `(?m)^createdAt +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, stdout)
	assert.Regexp(t, `(?m)^endpoint +/open-banking/accounts/v2/accounts$`, stdout)
	assert.Regexp(t, `(?m)^statusCode +200$`, stdout)
	assert.Regexp(t, `(?m)^additionalInfo +\{"consentId":"urn:bancob:C1"\}$`, stdout)
	assert.Equal(t, 1, strings.Count(stdout, fapi1), "the id is shown once")

	e.send("banco_b", report("SERVER", fapi1, nil))
	code, stdout, stderr = status(fapi1)
	require.Equal(t, exitOK, code, stderr)
	reports := e.sim.Reports()
	require.Len(t, reports, 2)
	assert.Regexp(t, `(?m)^status +PAIRED$`, stdout)
	assert.Regexp(t, `(?m)^pairedReportId +`+reports[1].ReportID+`$`, stdout)

	code, stdout, stderr = status("-json", fapi1)
	require.Equal(t, exitOK, code, stderr)
	var model map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &model), stdout)
	assert.Equal(t, "PAIRED", model["status"])
	assert.Equal(t, reports[0].ReportID, model["reportId"])
	assert.Equal(t, reports[1].ReportID, model["pairedReportId"])
	assert.Equal(t, "CLIENT", model["role"])
	assert.Equal(t, 200.0, model["statusCode"])

	code, stdout, stderr = status("6f1c2d3e-0000-4000-8000-000000000000")
	assert.Equal(t, exitProblem, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "pcmctl: report 6f1c2d3e-0000-4000-8000-000000000000: not found (PCM is eventually consistent: try again later)\n", stderr)

	// Other errors name the URL.
	require.NoError(t, e.sim.SetFaults(faults403()))
	code, _, stderr = status(fapi1)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, stderr, "GET https://127.0.0.1:")
	assert.Contains(t, stderr, "/report-api/v1/private/report/"+fapi1+": PCM answered HTTP 403 Forbidden")
	assert.Equal(t, map[string]int{"200": 3, "404": 1, "403": 1}, e.sim.Stats().QueryRequests)
}

// pcmsimToken fetches the current token of banco_a from pcmsim directly: PCM hands back the
// cached token, the very one pcmctl got.
func pcmsimToken(t *testing.T, e *simEnv) string {
	t.Helper()
	tlsCfg, err := e.pki.ClientTLS("banco_a")
	require.NoError(t, err)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.PostForm(e.sim.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-a"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(body, &tr))
	require.NotEmpty(t, tr.AccessToken)
	return tr.AccessToken
}

func TestToken(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	code, stdout, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "token")
	require.Equal(t, exitOK, code, stderr)
	m := regexp.MustCompile(`^token OK: expires at (\S+) \(in (\S+)\)\ntoken URL: (\S+)\nclient_id: client-a\n$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	expires, err := time.Parse(time.RFC3339, m[1])
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(6*time.Hour), expires, time.Minute, "pcmsim tokens live 6 h")
	left, err := time.ParseDuration(m[2])
	require.NoError(t, err)
	assert.InDelta(t, 6*time.Hour, left, float64(time.Minute))
	assert.Equal(t, e.sim.TokenURL(), m[3])

	token := pcmsimToken(t, e)
	assert.Equal(t, map[string]int{"issued": 1, "cached": 1}, e.sim.Stats().TokenRequests, "pcmctl's token is the cached one")
	for _, out := range []string{stdout, stderr} {
		assert.NotContains(t, out, token)
		for _, part := range strings.Split(token, ".") {
			assert.NotContains(t, out, part, "no part of the JWT")
		}
	}

	code, stdout, stderr = runCmd(t, "-config", e.config, "-exporter", "banco_a", "token", "-json")
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stdout, token)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.Equal(t, true, doc["ok"])
	assert.Equal(t, "client-a", doc["clientId"])
	assert.Equal(t, e.sim.TokenURL(), doc["tokenURL"])
	assert.InDelta(t, 6*3600, doc["expiresInSeconds"], 60)
	assert.ElementsMatch(t, []string{"ok", "expiresAt", "expiresInSeconds", "tokenURL", "clientId"}, keys(doc))
}

func TestTokenFailures(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	wrongClient := e.writeConfig("wrong-client.yaml", strings.Replace(e.exporter("banco_a", nil),
		"${file:"+filepath.Join(e.dir, "banco_a.client_id")+"}", "client-b", 1))
	wrongCert := e.writeConfig("wrong-cert.yaml", strings.NewReplacer("banco_a.crt", "server.crt", "banco_a.key", "server.key").
		Replace(e.exporter("banco_a", nil)))
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "banco_a.client_id.nl"), []byte("client-a\n"), 0o600))
	newline := e.writeConfig("newline.yaml", strings.Replace(e.exporter("banco_a", nil), "banco_a.client_id", "banco_a.client_id.nl", 1))
	missingKey := e.writeConfig("missing-key.yaml", strings.Replace(e.exporter("banco_a", nil), "banco_a.key", "nope.key", 1))
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"client_id of another organisation", wrongClient, []string{"obtaining PCM token: token endpoint answered HTTP ", "client_id \"client-b\""}},
		{"certificate that is not a client certificate", wrongCert, []string{"obtaining PCM token"}},
		{"client_id with a newline from ${file:}", newline, []string{"exporters::pcm/banco_a: token.client_id: has leading or trailing white space"}},
		{"unreadable key file", missingKey, []string{"exporters::pcm/banco_a: token.tls:", "nope.key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, "-config", tt.config, "token")
			assert.Equal(t, exitProblem, code)
			assert.Empty(t, stdout)
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stderr, "eyJ", "no token")
		})
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	embedded := mapping.DefaultCatalog()
	// A newer PCM list: payments v4 is back, accounts v2 list is gone.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(mapping.EmbeddedCatalogJSON(), &doc))
	doc["version"] = "1.07-test"
	private := embedded.Templates(mapping.ClassPrivate)
	private = slices.DeleteFunc(private, func(s string) bool { return s == accountsEP })
	private = append(private, "/open-banking/payments/v4/pix/payments")
	doc["private"] = private
	newer, err := json.Marshal(doc)
	require.NoError(t, err)
	newerPath := e.file("endpoints-1.07.json", string(newer))
	same := e.file("endpoints-same.json", string(mapping.EmbeddedCatalogJSON()))
	extension := e.file("extension.json", `{"version": "bank-a-1", "private": ["/open-banking/payments/v4/pix/payments"]}`)
	withFile := e.writeConfig("with-file.yaml", e.exporter("banco_a", []string{"endpoints_file: " + extension}))
	brokenPath := e.file("broken.json", `{"private": ["no-slash"]}`)

	v := embedded.Version()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
		wantErr  string
	}{
		{"embedded only", []string{"endpoints"}, exitOK,
			"embedded: version " + v + "\n  private 101 (incl. security 6), opendata 30, credit_portability 6\n", ""},
		{"with endpoints_file", []string{"-config", withFile, "endpoints"}, exitOK,
			"embedded: version " + v + "\n  private 101 (incl. security 6), opendata 30, credit_portability 6\n" +
				"endpoints_file " + extension + ": version bank-a-1 (extends the embedded list)\n  private 1 (incl. security 0), opendata 0, credit_portability 0\n" +
				"effective (pcm/banco_a): version " + v + " + bank-a-1\n  private 102 (incl. security 6), opendata 30, credit_portability 6\n", ""},
		{"diff against a newer list", []string{"endpoints", "-diff", newerPath}, exitProblem,
			"embedded: version " + v + "\n  private 101 (incl. security 6), opendata 30, credit_portability 6\n" +
				"diff: " + newerPath + " (version 1.07-test) against the effective catalog\n" +
				"+ private /open-banking/payments/v4/pix/payments\n" +
				"- private /open-banking/accounts/v2/accounts\n" +
				"1 only in " + newerPath + " (+), 1 only in the effective catalog (-)\n", ""},
		{"diff of the effective catalog with an endpoints_file", []string{"-config", withFile, "-exporter", "banco_a", "endpoints", "-diff", newerPath}, exitProblem,
			"- private /open-banking/accounts/v2/accounts\n0 only in " + newerPath + " (+), 1 only in the effective catalog (-)\n", ""},
		{"no difference", []string{"endpoints", "-diff", same}, exitOK,
			"0 only in " + same + " (+), 0 only in the effective catalog (-)\n", ""},
		{"unreadable diff file", []string{"endpoints", "-diff", filepath.Join(e.dir, "nope.json")}, exitProblem, "", "pcmctl: -diff: open "},
		{"invalid diff file", []string{"endpoints", "-diff", brokenPath}, exitProblem, "", "pcmctl: -diff " + brokenPath + ": endpoints catalog: private:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			assert.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.wantCode == exitOK || tt.wantErr == "" {
				assert.True(t, strings.HasSuffix(stdout, tt.want), "stdout:\n%s\nwant suffix:\n%s", stdout, tt.want)
			}
			if tt.wantErr != "" {
				assert.Contains(t, stderr, tt.wantErr)
			}
		})
	}

	code, stdout, stderr := runCmd(t, "endpoints", "-json", "-diff", newerPath)
	assert.Equal(t, exitProblem, code, stderr)
	var out struct {
		Catalogs []catalogInfo `json:"catalogs"`
		Diff     catalogDiff   `json:"diff"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	assert.Equal(t, map[string]int{"private": 101, "security": 6, "opendata": 30, "credit_portability": 6}, out.Catalogs[0].Counts)
	assert.Equal(t, catalogDiff{File: newerPath, Version: "1.07-test",
		OnlyInFile:      map[string][]string{"private": {"/open-banking/payments/v4/pix/payments"}},
		OnlyInEffective: map[string][]string{"private": {accountsEP}},
	}, out.Diff)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func faults403() pcmsim.Faults { return pcmsim.Faults{API: pcmsim.Fault{Mode: "403"}} }
