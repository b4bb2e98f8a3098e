package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseFlagsPipelines(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags(nil, &stderr)
	require.NoError(t, err)
	require.Equal(t, []string{"receiver", "pcm", "otlphttp"}, o.pipelines)

	o, err = parseFlags([]string{"-pipelines", "otlphttp, receiver"}, &stderr)
	require.NoError(t, err)
	require.Equal(t, []string{"otlphttp", "receiver"}, o.pipelines)

	stderr.Reset()
	_, err = parseFlags([]string{"-pipelines", "receiver,debug"}, &stderr)
	require.Error(t, err)
	require.Contains(t, stderr.String(), `-pipelines: unknown pipeline "debug" (receiver, pcm, otlphttp)`)
}

// Every known pipeline has its configuration in testdata/bench/.
func TestKnownPipelinesConfigs(t *testing.T) {
	for p, file := range knownPipelines {
		_, err := os.Stat(filepath.Join("..", "..", "testdata", "bench", file))
		require.NoError(t, err, p)
	}
}

func TestParseFlagsRepeat(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags(nil, &stderr)
	require.NoError(t, err)
	require.Equal(t, 3, o.repeat)
	require.Equal(t, 45*time.Minute, o.timeout) // 15 minutes per round

	o, err = parseFlags([]string{"-repeat", "1", "-timeout", "2m"}, &stderr)
	require.NoError(t, err)
	require.Equal(t, 1, o.repeat)
	require.Equal(t, 2*time.Minute, o.timeout)

	_, err = parseFlags([]string{"-repeat", "0"}, &stderr)
	require.Error(t, err)
	require.Contains(t, stderr.String(), "-repeat: at least 1")
}
