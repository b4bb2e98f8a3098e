package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
)

// TestReplayNeverWritesOverAFileTheCollectorWrites: -out naming the dead-letter file (the
// input's or dead_letter.path), by any path, or one of its rotated files, or any existing
// file, is refused before anything is read or sent, and the file is left as it was.
func TestReplayNeverWritesOverAFileTheCollectorWrites(t *testing.T) { // not parallel: t.Chdir
	e := newSim(t)
	dead := writeDeadLetter(t, e.dir)
	configured := filepath.Join(e.dir, "collector", "pcm-dead-letter.jsonl")
	require.NoError(t, os.MkdirAll(filepath.Dir(configured), 0o700))
	require.NoError(t, os.WriteFile(configured, []byte("{}\n"), 0o600))
	config := e.writeConfig("with-dead-letter.yaml", e.exporter("banco_a", []string{"dead_letter:", "  path: " + configured}))
	require.NoError(t, os.Symlink(dead, filepath.Join(e.dir, "link.jsonl")))
	require.NoError(t, os.Symlink(filepath.Dir(configured), filepath.Join(e.dir, "collector-link")))
	existing := e.file("existing.jsonl", "keep me\n")
	t.Chdir(e.dir)

	refused := "refused: it is the dead-letter file "
	tests := []struct{ name, out, want string }{
		{"the input", dead, refused + dead},
		{"the input, relative", "dead-letter.jsonl", refused + dead},
		{"the input, relative and not clean", "./collector/../dead-letter.jsonl", refused + dead},
		{"the input through a symbolic link", filepath.Join(e.dir, "link.jsonl"), refused + dead},
		{"a rotated file of the input", "dead-letter-2026-11-25T12-00-00.000.jsonl", refused + dead},
		{"a compressed rotated file of the input", "dead-letter-2026-11-25T12-00-00.000.jsonl.gz", refused + dead},
		{"dead_letter.path", configured, refused + configured},
		{"dead_letter.path through a linked directory", "collector-link/pcm-dead-letter.jsonl", refused + configured},
		{"a rotated file of dead_letter.path", "collector/pcm-dead-letter-2026-11-25T12-00-00.000.jsonl", refused + configured},
		{"an existing file", existing, "the file exists; replay writes a new file and never replaces one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, e.dir)
			code, stdout, stderr := runCmd(t, "-config", config, "-exporter", "banco_a", "replay", "-dry-run", "-out", tt.out, dead)
			assert.Equal(t, exitUsage, code, stdout)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "pcmctl replay: -out "+tt.out+": "+tt.want)
			assert.Equal(t, before, snapshot(t, e.dir), "nothing written, renamed or created")
		})
	}

	// The same replay into a new file works, 0600 (it holds client IPs).
	code, _, stderr := runCmd(t, "-config", config, "-exporter", "banco_a", "replay", "-dry-run", "-out", "remaining.jsonl", dead)
	assert.Equal(t, exitProblem, code, stderr) // line 3 is still invalid
	fi, err := os.Stat(filepath.Join(e.dir, "remaining.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// snapshot is every file under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			files[path] = "-> " + target
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[path] = string(data)
		return nil
	}))
	return files
}

// TestReplayWhileTheCollectorAppends: the collector goes on appending to the dead-letter file
// through deadletter.Writer while the operator replays it (first, by mistake, with -out naming
// the file itself, which replay used to replace); no appended line is lost.
func TestReplayWhileTheCollectorAppends(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	dead := writeDeadLetter(t, e.dir)
	before, err := deadletter.Read(dead)
	require.NoError(t, err)

	w, err := deadletter.Open(dead)
	require.NoError(t, err)
	appended := make(chan int)
	started, stop := make(chan struct{}), make(chan struct{})
	go func() {
		n := 0
		for ; ; n++ {
			select {
			case <-stop:
				appended <- n
				return
			default:
			}
			entry := deadletter.Entry{Time: time.Now().UTC(), Stage: deadletter.StageUnlisted, Reason: fmt.Sprintf("appended %d", n),
				API: "private", Report: json.RawMessage(`{"endpoint":"/open-banking/unlisted"}`)}
			if err := w.Write([]deadletter.Entry{entry}); err != nil {
				t.Error(err)
			}
			if n == 10 {
				close(started)
			}
		}
	}()
	<-started
	code, _, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-out", dead, dead)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "refused: it is the dead-letter file")
	out := filepath.Join(e.dir, "remaining.jsonl")
	code, _, stderr = runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-out", out, dead)
	assert.Equal(t, exitProblem, code, stderr) // lines 3 and 4 are still refused
	close(stop)
	n := <-appended
	require.NoError(t, w.Close())

	after, err := deadletter.ReadAll(dead)
	require.NoError(t, err)
	require.Len(t, after, len(before)+n, "every line appended during the replay is there")
	assert.Equal(t, before, after[:len(before)])
	for i, e := range after[len(before):] {
		require.Equal(t, fmt.Sprintf("appended %d", i), e.Reason, "in order, once")
	}
	remaining, err := deadletter.Read(out)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(remaining), 2, "the replay's own results")
}

// TestReplayReadsACompressedRotatedFile: a rotated dead-letter file compressed by the collector
// is replayed as it is.
func TestReplayReadsACompressedRotatedFile(t *testing.T) {
	t.Parallel()
	e := newSim(t)
	dead := writeDeadLetter(t, e.dir)
	plain, err := os.ReadFile(dead)
	require.NoError(t, err)
	gzPath := filepath.Join(e.dir, "dead-letter-2026-11-25T12-00-00.000.jsonl.gz")
	f, err := os.Create(gzPath)
	require.NoError(t, err)
	gz := gzip.NewWriter(f)
	_, err = gz.Write(plain)
	require.NoError(t, err)
	require.NoError(t, gz.Close())
	require.NoError(t, f.Close())

	_, want, _ := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-dry-run", dead)
	code, got, stderr := runCmd(t, "-config", e.config, "-exporter", "banco_a", "replay", "-dry-run", gzPath)
	assert.Equal(t, exitProblem, code, stderr)
	assert.Equal(t, want, got)
	assert.Contains(t, got, "summary: 7 lines: 5 would be sent")
}
