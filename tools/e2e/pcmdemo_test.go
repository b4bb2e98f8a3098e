//go:build e2e && unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/demo"
)

// buildPcmdemo compiles cmd/pcmdemo once per test binary.
var buildPcmdemo = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "pcmdemo-bin-")
	if err != nil {
		return "", err
	}
	addScratchDir(dir)
	bin := filepath.Join(dir, "pcmdemo")
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/pcmdemo")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func repoRoot() (string, error) {
	p, err := demo.FindRepoFile("go.mod")
	if err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
}

func pcmdemo(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	collector := collectorBinary(t)
	bin, err := buildPcmdemo()
	require.NoError(t, err)
	root, err := repoRoot()
	require.NoError(t, err)
	cmd := exec.Command(bin, append([]string{"run", "-collector", collector, "-dir", t.TempDir()}, args...)...)
	cmd.Dir = root // as `make run` does
	return cmd
}

// TestPcmdemoRun is `make run` with a short traffic phase, each scenario once: it exits 0 and
// prints the simulator's reconciliation table, the dead letters per reason and the scenario
// verdicts.
func TestPcmdemoRun(t *testing.T) {
	cmd := pcmdemo(t, "-count", "12", "-interval", "20ms", "-strict")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("pcmdemo took %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, err, out.String())
	text := out.String()
	for _, want := range []string{
		"PCM simulator summary",
		"PAIRED_INCONSISTENT",
		"Collector dead letters",
		"invalid: Missing property: fapiInteractionId",
		"invalid: Missing property: serverOrgId",
		"invalid: Missing property: clientOrgId",
		"unlisted_endpoint: Unlisted endpoint: /open-banking/accounts/v1/accounts",
		`otelcol_exporter_pcm_reports{api="private",exporter="pcm/banco_a",outcome="invalid",role="CLIENT"}`,
		"Both institutions' reports are PAIRED at PCM.",
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "FAIL")
	for _, s := range demo.Scenarios() {
		assert.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(s.Label())+`\s+1\s.*\sok$`), text)
	}
}

// TestPcmdemoSignal: with -keep-running, Ctrl-C (SIGINT) stops the demo, and the collector
// subprocess with it.
func TestPcmdemoSignal(t *testing.T) {
	cmd := pcmdemo(t, "-count", "3", "-interval", "10ms", "-keep-running")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var (
		mu           sync.Mutex
		collectorPID int
		log          strings.Builder
	)
	running := make(chan struct{})
	go func() { // reads everything until the pipe closes
		pidRE := regexp.MustCompile(`collector \(pid (\d+)\)`)
		lines := bufio.NewScanner(pr)
		signalled := false
		for lines.Scan() {
			line := lines.Text()
			mu.Lock()
			log.WriteString(line + "\n")
			if m := pidRE.FindStringSubmatch(line); m != nil {
				collectorPID, _ = strconv.Atoi(m[1])
			}
			mu.Unlock()
			if strings.HasPrefix(line, "Still running") && !signalled {
				signalled = true
				close(running)
			}
		}
	}()
	select {
	case <-running:
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("pcmdemo did not reach the keep-running state:\n%s", log.String())
	}
	mu.Lock()
	pid := collectorPID
	mu.Unlock()
	require.NotZero(t, pid)
	require.NoError(t, syscall.Kill(pid, 0), "the collector runs")

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		done <- err
	}()
	select {
	case err := <-done:
		mu.Lock()
		defer mu.Unlock()
		require.NoError(t, err, "pcmdemo exits 0 after Ctrl-C in keep-running mode:\n%s", log.String())
	case <-time.After(30 * time.Second):
		t.Fatal("pcmdemo did not stop after SIGINT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			t.Fatalf("the collector (pid %d) is still running", pid)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
