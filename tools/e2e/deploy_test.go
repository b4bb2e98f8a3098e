//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

// TestKubernetesExampleConfigIsValid: the collector configuration of the Kubernetes example
// (deploy/kubernetes/configmap.yaml) passes the built collector's own validation — every
// component exists in the distribution (health_check included) and the pcm exporter's Validate
// accepts both organisations' sections.
func TestKubernetesExampleConfigIsValid(t *testing.T) {
	bin := collectorBinary(t)
	path, err := demo.FindRepoFile("../deploy/kubernetes/configmap.yaml")
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cm))
	config := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(config, []byte(cm.Data["collector.yaml"]), 0o600))
	cmd := exec.Command(bin, "validate", "--config="+config)
	cmd.Env = append(os.Environ(), "PCM_CLIENT_ID_BANCO_A=client-a", "PCM_CLIENT_ID_BANCO_B=client-b")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
