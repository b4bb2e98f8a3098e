package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage: pcmdemo run")
	errOut.Reset()
	assert.Equal(t, 2, run([]string{"walk"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "walk"`)
	errOut.Reset()
	assert.Equal(t, 0, run([]string{"run", "-h"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "-keep-running")
	assert.Equal(t, 2, run([]string{"run", "extra"}, &out, &errOut))
}

func TestParseFlags(t *testing.T) {
	t.Setenv("OTELCOL_BINARY", "/opt/otelcol-pcm")
	var errOut bytes.Buffer
	o, err := parseFlags(nil, &errOut)
	require.NoError(t, err)
	assert.Equal(t, "/opt/otelcol-pcm", o.collector)
	assert.Equal(t, ".dev", o.dir)
	assert.Equal(t, 15*time.Second, o.duration)
	assert.False(t, o.keepRunning)

	o, err = parseFlags([]string{"-collector", "x", "-count", "5", "-keep-running", "-strict"}, &errOut)
	require.NoError(t, err)
	assert.Equal(t, "x", o.collector)
	assert.Equal(t, 5, o.count)
	assert.True(t, o.keepRunning)
	assert.True(t, o.strict)
}

func TestJudge(t *testing.T) {
	paired, _ := demo.ScenarioByName("paired-balances")
	timeout, _ := demo.ScenarioByName("timeout-no-id")
	ok := demo.ScenarioVerdict{Scenario: paired, Runs: 2, OK: 2, PairedExpected: true}
	bad := demo.ScenarioVerdict{Scenario: timeout, Runs: 1, OK: 0}
	assert.NoError(t, judge([]demo.ScenarioVerdict{ok, bad}, false), "only PAIRED scenarios decide by default")
	err := judge([]demo.ScenarioVerdict{ok, bad}, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "3/timeout-no-id")

	ok.OK = 1
	err = judge([]demo.ScenarioVerdict{ok}, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1/paired-balances")
	err = judge([]demo.ScenarioVerdict{bad}, false)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "no PAIRED call"))
}

func TestRunWithoutCollector(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-collector", "/nonexistent/otelcol-pcm", "-dir", t.TempDir()}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "make build")
}
