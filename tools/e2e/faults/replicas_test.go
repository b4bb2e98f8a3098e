//go:build e2e

package faults

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

// replica is one more collector process of the same organisation: its own OTLP endpoint,
// metrics port, persistent queue and dead letter, the same PCM and the same credentials — a
// replica of a StatefulSet (deploy/kubernetes).
type replica struct {
	col  *demo.Collector
	send *sender
	dead string
}

// startReplica renders the env's configuration with the replica's own ports and files and
// starts it.
func (e *env) startReplica(n int) *replica {
	e.t.Helper()
	ports := freePorts(e.t, 2)
	otlp := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	vars := map[string]string{}
	for k, v := range e.vars {
		vars[k] = v
	}
	dir := filepath.Join(e.dir, fmt.Sprintf("replica-%d", n))
	dead := filepath.Join(dir, "deadletter", "pcm.jsonl")
	vars["FAULTS_OTLP_ENDPOINT"] = otlp
	vars["FAULTS_METRICS_PORT"] = strconv.Itoa(ports[1])
	vars["FAULTS_STORAGE_DIR"] = filepath.Join(dir, "storage")
	vars["FAULTS_DEAD_LETTER"] = dead
	tmplPath, err := demo.FindRepoFile(collectorTemplate)
	require.NoError(e.t, err)
	tmpl, err := os.ReadFile(tmplPath)
	require.NoError(e.t, err)
	rendered, err := demo.RenderCollectorConfig(tmpl, vars)
	require.NoError(e.t, err)
	config := filepath.Join(dir, "collector.yaml")
	require.NoError(e.t, os.MkdirAll(filepath.Dir(dead), 0o755))
	require.NoError(e.t, os.WriteFile(config, rendered, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	col, err := demo.StartCollector(ctx, demo.CollectorConfig{
		Binary: e.bin, ConfigPath: config, LogPath: filepath.Join(dir, "collector.log"),
		MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1]), OTLPEndpoints: []string{otlp}, StartTimeout: 30 * time.Second,
	})
	require.NoError(e.t, err)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = col.Stop(ctx)
	})
	return &replica{col: col, send: newSender(otlp), dead: dead}
}

// TestThreeReplicasDeliverExactlyOnceUnderPCMsRateLimit runs three collector processes of one
// organisation side by side, as a StatefulSet of three replicas would, each fed by its own OTLP
// client: every report reaches PCM exactly once, nothing is dead-lettered, and the simulator's
// 300 req/s limit (PCM's, shared by every replica of an organisation) is never hit.
func TestThreeReplicasDeliverExactlyOnceUnderPCMsRateLimit(t *testing.T) {
	e := newEnv(t, envConfig{})
	replicas := []*replica{{col: e.col, send: e.send, dead: e.paths.deadLetter}, e.startReplica(2), e.startReplica(3)}
	for _, r := range replicas {
		r.send.startBackground(50*time.Millisecond, 20)
	}
	time.Sleep(10 * time.Second)
	for _, r := range replicas {
		r.send.stopBackground()
	}

	delivered := func() (missing, total int) {
		got := e.delivered()
		for _, r := range replicas {
			for _, id := range r.send.acceptedIDs() {
				total++
				if got[id] == 0 {
					missing++
				}
			}
		}
		return missing, total
	}
	e.waitFor(60*time.Second, "every replica's accepted spans at PCM", func() (bool, string) {
		missing, total := delivered()
		return missing == 0, fmt.Sprintf("%d of %d spans without a report", missing, total)
	})
	got := e.delivered()
	extra, ids := duplicates(got)
	assert.Zero(t, extra, "exactly once across replicas (e.g. %v)", ids)
	_, total := delivered()
	assert.Equal(t, total, len(got), "every stored report comes from a span a replica accepted")
	stats := e.simStats()
	assert.Zero(t, stats.ReportRequests["429"], "PCM's rate limit was never hit: %v", stats.ReportRequests)
	for i, r := range replicas {
		entries, err := deadletter.Read(r.dead)
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		assert.Empty(t, entries, "replica %d dead-lettered nothing", i+1)
	}
	t.Logf("3 replicas: %d reports in %v POSTs", total, stats.ReportRequests)
}
