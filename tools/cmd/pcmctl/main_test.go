package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/mapping"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

const (
	orgA = "11111111-1111-4111-8111-111111111111"
	orgB = "22222222-2222-4222-8222-222222222222"
	orgX = "99999999-9999-4999-8999-999999999999" // not in pcmsim's directory
	ssA  = "aaaaaaaa-0000-4000-8000-00000000000a"
	ssB  = "bbbbbbbb-0000-4000-8000-00000000000b"

	fapi1 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01"
	fapi2 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e02"
	fapi3 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e03"
	fapi4 = "0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e04"

	accountsEP = "/open-banking/accounts/v2/accounts"
	branchesEP = "/open-banking/channels/v2/branches"
)

// loadPKI is shared by the tests: key generation is the slow part under -race.
var loadPKI = sync.OnceValues(func() (*pcmsim.DevPKI, error) {
	return pcmsim.NewDevPKI(
		pcmsim.Org{Name: "banco_a", OrgID: orgA, SoftwareStatementID: ssA, ClientID: "client-a"},
		pcmsim.Org{Name: "banco_b", OrgID: orgB, SoftwareStatementID: ssB, ClientID: "client-b"},
	)
})

// simEnv is a running pcmsim and a collector configuration pointing at it, in a temp dir.
type simEnv struct {
	t      *testing.T
	dir    string
	pki    *pcmsim.DevPKI
	sim    *pcmsim.Server
	config string // collector.yaml with pcm/banco_a and pcm/banco_b
}

func newSim(t *testing.T) *simEnv {
	t.Helper()
	pki, err := loadPKI()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, pki.WriteFiles(dir))
	cfg, err := pki.Config()
	require.NoError(t, err)
	srv, err := pcmsim.New(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
	})
	e := &simEnv{t: t, dir: dir, pki: pki, sim: srv}
	// banco_a's client_id comes from a file, banco_b's from an env variable with a default:
	// both are expanded like the collector does.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "banco_a.client_id"), []byte("client-a"), 0o600))
	e.config = e.writeConfig("collector.yaml", e.exporter("banco_a", nil), e.exporter("banco_b", nil))
	return e
}

// exporter returns the YAML of exporter pcm/<name> for pcmsim; extra lines are appended to it.
func (e *simEnv) exporter(name string, extra []string) string {
	org, ok := e.pki.Org(name)
	require.True(e.t, ok)
	clientID := "${file:" + filepath.Join(e.dir, name+".client_id") + "}"
	if name == "banco_b" {
		clientID = "${env:PCMCTL_TEST_UNSET_CLIENT_ID:-client-b}"
	}
	lines := []string{
		"  pcm/" + name + ":",
		"    endpoint: " + e.sim.APIURL(),
		"    tls:",
		"      ca_file: " + filepath.Join(e.dir, "ca.crt"),
		"    token:",
		"      url: " + e.sim.TokenURL(),
		"      client_id: " + clientID,
		"      tls:",
		"        cert_file: " + filepath.Join(e.dir, name+".crt"),
		"        key_file: " + filepath.Join(e.dir, name+".key"),
		"        ca_file: " + filepath.Join(e.dir, "ca.crt"),
		"    org_id: " + org.OrgID,
		"    software_statement_id: " + org.SoftwareStatementID,
		"    max_batch_size: 2",
		"    counterparts:",
		"      hosts:",
		"        api.banco-b.example: " + orgB,
	}
	for _, l := range extra {
		lines = append(lines, "    "+l)
	}
	return strings.Join(lines, "\n")
}

// writeConfig writes a collector configuration with the given exporter sections.
func (e *simEnv) writeConfig(name string, exporters ...string) string {
	text := "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  debug:\n" + strings.Join(exporters, "\n") +
		"\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n"
	path := filepath.Join(e.dir, name)
	require.NoError(e.t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func (e *simEnv) file(name, content string) string {
	path := filepath.Join(e.dir, name)
	require.NoError(e.t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// run runs pcmctl in process.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// report is a private report as PCM reads it; mods change it (nil deletes a key).
func report(role string, fapi string, mods map[string]any) map[string]any {
	r := map[string]any{
		"fapiInteractionId": fapi,
		"endpoint":          accountsEP,
		"statusCode":        200,
		"httpMethod":        "GET",
		"clientOrgId":       orgA,
		"serverOrgId":       orgB,
		"timestamp":         time.Now().Add(-time.Hour).UTC().Format(mapping.TimestampLayout),
		"processTimespan":   120,
		"role":              role,
		"additionalInfo":    map[string]any{"consentId": "urn:bancob:C1"},
	}
	if role == "CLIENT" {
		r["clientSSId"] = ssA
		r["endpointUriPrefix"] = "https://api.banco-b.example/opbk"
	}
	if role == "SERVER" { // banco_b's side of the same call
		r["additionalInfo"] = map[string]any{}
	}
	for k, v := range mods {
		if v == nil {
			delete(r, k)
			continue
		}
		r[k] = v
	}
	return r
}

func opendataReport() map[string]any {
	return map[string]any{
		"endpoint": branchesEP, "statusCode": 200, "httpMethod": "GET",
		"timestamp":       time.Now().Add(-time.Minute).UTC().Format(mapping.TimestampLayout),
		"processTimespan": 15, "additionalInfo": map[string]any{"clientIp": "203.0.113.7"},
	}
}

func jsonLine(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func jsonLines(t *testing.T, values ...any) string {
	var b strings.Builder
	for _, v := range values {
		if s, ok := v.(string); ok {
			b.WriteString(s + "\n")
			continue
		}
		b.WriteString(jsonLine(t, v) + "\n")
	}
	return b.String()
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no arguments", nil, exitUsage, "", "usage: pcmctl"},
		{"-h", []string{"-h"}, exitOK, "Commands:", ""},
		{"help", []string{"help"}, exitOK, "Commands:", ""},
		{"help validate", []string{"help", "validate"}, exitOK, "validate [-json] FILE...", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"unknown global flag", []string{"-nope", "token"}, exitUsage, "", "flag provided but not defined: -nope"},
		{"validate -h", []string{"validate", "-h"}, exitOK, "usage: pcmctl [-config FILE] [-exporter NAME] validate", ""},
		{"replay -h", []string{"replay", "-h"}, exitOK, "-dry-run", ""},
		{"status -h", []string{"status", "-h"}, exitOK, "status [-json] FAPI_INTERACTION_ID", ""},
		{"token -h", []string{"token", "-h"}, exitOK, "The token itself is never printed", ""},
		{"endpoints -h", []string{"endpoints", "-h"}, exitOK, "-diff FILE", ""},
		{"unknown command flag", []string{"replay", "-force", "x.jsonl"}, exitUsage, "", "pcmctl replay: flag provided but not defined: -force"},
		{"validate without files", []string{"-config", "c.yaml", "validate"}, exitUsage, "", "pcmctl validate: no FILE given"},
		{"replay without file", []string{"-config", "c.yaml", "replay"}, exitUsage, "", "want exactly one DEADLETTER.jsonl"},
		{"replay unknown stage", []string{"-config", "c.yaml", "replay", "-stage", "discarded,lost", "x.jsonl"}, exitUsage, "", `-stage "lost": unknown stage (want unlisted_endpoint, invalid, discarded, rejected, retry_exhausted, shutdown)`},
		{"status without id", []string{"-config", "c.yaml", "status"}, exitUsage, "", "want exactly one fapiInteractionId"},
		{"status with a non-UUID", []string{"-config", "c.yaml", "status", "12345"}, exitUsage, "", `"12345" is not a fapiInteractionId (a UUID)`},
		{"token with arguments", []string{"-config", "c.yaml", "token", "extra"}, exitUsage, "", "unexpected arguments"},
		{"no -config", []string{"token"}, exitUsage, "", "no configuration: use -config collector.yaml"},
		{"missing config file", []string{"-config", "/nonexistent/collector.yaml", "token"}, exitProblem, "", "/nonexistent/collector.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			assert.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.wantStdout != "" {
				assert.Contains(t, stdout, tt.wantStdout)
			}
			if tt.wantStderr != "" {
				assert.Contains(t, stderr, tt.wantStderr)
			}
			if tt.wantCode == exitOK {
				assert.Empty(t, stderr)
			}
		})
	}
}

func TestConfigSelection(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	single := e.writeConfig("single.yaml", e.exporter("banco_a", nil))
	unnamed := e.writeConfig("unnamed.yaml", strings.Replace(e.exporter("banco_a", nil), "  pcm/banco_a:", "  pcm:", 1))
	invalid := e.writeConfig("invalid.yaml",
		strings.Replace(e.exporter("banco_a", nil), "max_batch_size: 2", "max_batch_size: 0", 1),
		strings.NewReplacer("pcm/banco_a:", "pcm/bad_org:", "org_id: "+orgA, "org_id: banco-a").Replace(e.exporter("banco_a", nil)))
	unknownKey := e.writeConfig("unknown.yaml", e.exporter("banco_a", []string{"org_idd: x"}))
	none := e.writeConfig("none.yaml")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{"the only pcm exporter is the default", []string{"-config", single, "token"}, exitOK, "client_id: client-a", nil},
		{"an unnamed pcm exporter", []string{"-config", unnamed, "token"}, exitOK, "client_id: client-a", nil},
		{"several exporters need -exporter", []string{"-config", e.config, "token"}, exitUsage, "",
			[]string{"several pcm exporters (pcm/banco_a, pcm/banco_b): choose one with -exporter"}},
		{"full name", []string{"-config", e.config, "-exporter", "pcm/banco_b", "token"}, exitOK, "client_id: client-b", nil},
		{"short name, flags after the command", []string{"token", "-config", e.config, "-exporter", "banco_a"}, exitOK, "client_id: client-a", nil},
		{"unknown exporter", []string{"-config", e.config, "-exporter", "banco_z", "token"}, exitUsage, "",
			[]string{`no exporter "banco_z"; pcm exporters in the file: pcm/banco_a, pcm/banco_b`}},
		{"no pcm exporter", []string{"-config", none, "token"}, exitUsage, "", []string{"no pcm exporter"}},
		{"validation errors as the collector prints them", []string{"-config", invalid, "-exporter", "pcm/bad_org", "token"}, exitProblem, "",
			[]string{"invalid configuration:", "exporters::pcm/bad_org: org_id: must be a UUID (your OrganisationId in the Directory), got \"banco-a\""}},
		{"validation errors of the other exporter", []string{"-config", invalid, "-exporter", "banco_a", "endpoints"}, exitProblem, "",
			[]string{"exporters::pcm/banco_a: max_batch_size: must be between 1 and 5000, got 0"}},
		{"unknown key", []string{"-config", unknownKey, "token"}, exitProblem, "", []string{"exporters::pcm/banco_a:", "org_idd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, tt.args...)
			assert.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.wantStdout != "" {
				assert.Contains(t, stdout, tt.wantStdout)
			}
			for _, want := range tt.wantStderr {
				assert.Contains(t, stderr, want)
			}
		})
	}
}

// TestEnvExpansion checks ${env:VAR} and ${VAR} (the default scheme) like the collector.
func TestEnvExpansion(t *testing.T) { // not parallel: t.Setenv
	e := newSim(t)
	t.Setenv("PCMCTL_TEST_ORG", orgA)
	t.Setenv("PCMCTL_TEST_CLIENT", "client-a")
	section := strings.Replace(e.exporter("banco_a", nil), "org_id: "+orgA, "org_id: ${env:PCMCTL_TEST_ORG}", 1)
	section = strings.Replace(section, "${file:"+filepath.Join(e.dir, "banco_a.client_id")+"}", "${PCMCTL_TEST_CLIENT}", 1)
	cfg := e.writeConfig("env.yaml", section)
	code, stdout, stderr := runCmd(t, "-config", cfg, "token")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "client_id: client-a")

	// An unset variable: the collector's warning explains the empty key.
	unset := e.writeConfig("unset.yaml", strings.Replace(e.exporter("banco_a", nil),
		"${file:"+filepath.Join(e.dir, "banco_a.client_id")+"}", "${env:PCMCTL_TEST_NOT_SET}", 1))
	code, _, stderr = runCmd(t, "-config", unset, "token")
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, stderr, "Configuration references unset environment variable")
	assert.Contains(t, stderr, "PCMCTL_TEST_NOT_SET")
	assert.Contains(t, stderr, "exporters::pcm/banco_a: token.client_id: required")
}

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "endpoints", "-json")
	require.Equal(t, exitOK, code, stderr)
	var out struct {
		Catalogs []catalogInfo `json:"catalogs"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
	require.Len(t, out.Catalogs, 1)
	assert.Equal(t, "embedded", out.Catalogs[0].Source)

	code, _, stderr = runCmd(t, "endpoints", "--", "-json")
	assert.Equal(t, exitUsage, code, "after -- everything is positional")
	assert.Contains(t, stderr, `unexpected arguments ["-json"]`)
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
