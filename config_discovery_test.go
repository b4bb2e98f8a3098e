package pcmexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// TestDirectoryDiscoveryConfig: counterparts.directory.discovery is read from the configuration,
// zero values are accepted (the package defaults apply) and out-of-range values are refused with
// the key named.
func TestDirectoryDiscoveryConfig(t *testing.T) {
	cfg := validConfig()
	cm := confmap.NewFromStringMap(map[string]any{"counterparts": map[string]any{"directory": map[string]any{
		"url":       "https://data.directory.openbankingbrasil.org.br/participants",
		"discovery": map[string]any{"enabled": true, "concurrency": 4, "timeout": "5s"},
	}}})
	require.NoError(t, cm.Unmarshal(cfg))
	assert.Equal(t, DirectoryDiscoveryConfig{Enabled: true, Concurrency: 4, Timeout: 5 * time.Second}, cfg.Counterparts.Directory.Discovery)
	require.NoError(t, confmap.Validate(cfg))

	for _, tt := range []struct {
		d       DirectoryDiscoveryConfig
		wantErr string
	}{
		{DirectoryDiscoveryConfig{Enabled: true}, ""},
		{DirectoryDiscoveryConfig{Enabled: true, Concurrency: 64, Timeout: time.Minute}, ""},
		{DirectoryDiscoveryConfig{Enabled: true, Concurrency: -1}, "counterparts.directory.discovery.concurrency: must be between 1 and 64 (0: 8), got -1"},
		{DirectoryDiscoveryConfig{Enabled: true, Concurrency: 65}, "counterparts.directory.discovery.concurrency: must be between 1 and 64 (0: 8), got 65"},
		{DirectoryDiscoveryConfig{Enabled: true, Timeout: -time.Second}, "counterparts.directory.discovery.timeout: must not be negative (0: 10s), got -1s"},
	} {
		cfg := validConfig()
		cfg.Counterparts.Directory.URL = "https://data.directory.openbankingbrasil.org.br/participants"
		cfg.Counterparts.Directory.Discovery = tt.d
		err := confmap.Validate(cfg)
		if tt.wantErr == "" {
			assert.NoError(t, err, "%+v", tt.d)
			continue
		}
		assert.ErrorContains(t, err, tt.wantErr)
	}
}
