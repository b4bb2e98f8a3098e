//go:build e2e

package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// TestStopWithAnInMemoryQueueDeadLettersWhatWaits stops the collector gracefully while PCM
// answers 503 and the sending queue lives in memory only (no storage). exporterhelper drops
// what waits for a retry when it stops; the exporter must dead-letter every such report with
// stage "shutdown" instead (docs/pcm-rules.md §15.3): each span the collector accepted is then
// at PCM or in the dead letter, exactly once.
func TestStopWithAnInMemoryQueueDeadLettersWhatWaits(t *testing.T) {
	e := newEnv(t, envConfig{MemoryQueue: true, Faults: pcmsim.Faults{API: pcmsim.Fault{Mode: "503"}}})
	ctx := context.Background()
	for range 6 {
		require.True(t, e.send.post(ctx, 10), "the collector accepts spans while PCM is down")
	}
	e.waitFor(20*time.Second, "the exporter to meet 503s", func() (bool, string) {
		n := e.sim().Stats().ReportRequests["503"]
		return n >= 3, fmt.Sprintf("%d answers 503", n)
	})
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, e.col.Stop(stopCtx), "a graceful stop")

	dead := map[string]int{}
	for _, d := range e.deadLetters() {
		assert.Equal(t, deadletter.StageShutdown, d.Stage, d.Reason)
		for _, id := range interactionIDs([]byte("[" + string(d.Report) + "]")) {
			dead[strings.ToLower(id)]++
		}
	}
	delivered := e.delivered()
	accepted := e.send.acceptedIDs()
	require.Len(t, accepted, 60)
	for _, id := range accepted {
		assert.Equal(t, 1, dead[id]+delivered[id], "span %s: at PCM or in the dead letter, exactly once", id)
	}
	assert.Empty(t, delivered, "PCM took nothing")
	t.Logf("%d spans accepted, %d dead-lettered at shutdown", len(accepted), len(dead))
	logs := readLog(t, e.logPath())
	found := false
	for _, l := range logs {
		if strings.Contains(l.Msg, "dead-lettered") && strings.Contains(l.Msg, "in-memory sending queue") {
			found = true
		}
	}
	assert.True(t, found, "the log says what happened and how to avoid it")
}
