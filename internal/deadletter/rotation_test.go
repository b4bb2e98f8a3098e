package deadletter

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestFloodStaysWithinTheCap: a scanner hitting unlisted paths cannot fill the disk: after
// every write the files take at most max_size_mb × (max_backups + 1), and what is kept is the
// newest entries, in order.
func TestFloodStaysWithinTheCap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dead.jsonl")
	const maxBackups = 2
	w, err := OpenWithOptions(path, Options{MaxSizeMB: 1, MaxBackups: maxBackups})
	require.NoError(t, err)
	const total, batch = 200_000, 2_000 // ≈ 30 MB of lines, 30 times the cap
	limit := int64((maxBackups + 1) * megabyte)
	rotations := map[string]bool{}
	for first := 1; first <= total; first += batch {
		require.NoError(t, w.Write(numbered(first, batch)))
		size, files := diskUse(t, dir)
		require.LessOrEqual(t, size, limit, "after entry %d: %v", first+batch-1, files)
		require.LessOrEqual(t, len(files), maxBackups+1, files)
		for _, f := range files {
			rotations[f] = true
		}
	}
	require.NoError(t, w.Close())
	assert.Greater(t, len(rotations), 20, "it rotated")

	files, err := Files(path)
	require.NoError(t, err)
	assert.Len(t, files, maxBackups+1, "the newest rotated files are kept")
	got, err := ReadAll(path)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	assertSequence(t, total-len(got)+1, len(got), got) // the newest entries, in order
}

// TestRotatedFilesAreOwnerOnly: older versions created the file 0640 and lumberjack gives a
// new file the mode of the one it rotates; Open tightens them (with a notice) and every file
// after is 0600.
func TestRotatedFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dead.jsonl")
	old := filepath.Join(dir, "dead-2026-11-20T10-00-00.000.jsonl")
	require.NoError(t, os.WriteFile(path, mustLine(numbered(1, 1)[0]), 0o640))
	require.NoError(t, os.WriteFile(old, mustLine(numbered(0, 1)[0]), 0o640))
	require.NoError(t, os.Chmod(path, 0o640)) // whatever the umask
	require.NoError(t, os.Chmod(old, 0o644))

	core, logs := observer.New(zap.WarnLevel)
	w, err := OpenWithOptions(path, Options{MaxSizeMB: 1, Logger: zap.New(core)})
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
	assert.Equal(t, os.FileMode(0o600), mode(t, old))
	notices := logs.FilterMessageSnippet("readable by others").All()
	require.Len(t, notices, 2)

	for first := 2; first < 12_000; first += 1000 { // ≈ 1.7 MB: one rotation at least
		require.NoError(t, w.Write(numbered(first, 1000)))
	}
	require.NoError(t, w.Close())
	files, err := Files(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3, "rotated")
	for _, f := range files {
		assert.Equal(t, os.FileMode(0o600), mode(t, f), f)
	}
	got, err := ReadAll(path)
	require.NoError(t, err)
	assertSequence(t, 0, 12_002, got)
}

// TestCompressedRotatedFilesAreRead: with compress on, ReadAll reads the gzipped rotated
// files, in order, and they are 0600 too.
func TestCompressedRotatedFilesAreRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	w, err := OpenWithOptions(path, Options{MaxSizeMB: 1, MaxBackups: 5, Compress: true})
	require.NoError(t, err)
	const total = 20_000 // ≈ 3 MB: three rotations
	for first := 1; first <= total; first += 1000 {
		require.NoError(t, w.Write(numbered(first, 1000)))
	}
	require.NoError(t, w.Close())
	// lumberjack compresses in its own goroutine, which has no completion signal.
	require.Eventually(t, func() bool {
		rotated, err := rotatedFiles(path)
		require.NoError(t, err)
		for _, r := range rotated {
			if !r.compressed {
				return false
			}
		}
		return len(rotated) >= 2
	}, 20*time.Second, 10*time.Millisecond)

	files, err := Files(path)
	require.NoError(t, err)
	for _, f := range files[:len(files)-1] {
		assert.True(t, strings.HasSuffix(f, ".jsonl.gz"), f)
		assert.Equal(t, os.FileMode(0o600), mode(t, f), f)
	}
	got, err := ReadAll(path)
	require.NoError(t, err)
	assertSequence(t, 1, total, got)
}

// TestEntryLargerThanAFileIsHandedBack: lumberjack refuses a write larger than a file; such an
// entry can never be written, so it comes back at once instead of blocking the buffer.
func TestEntryLargerThanAFileIsHandedBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	w, err := OpenWithOptions(path, Options{MaxSizeMB: 1})
	require.NoError(t, err)
	defer w.Close()
	entries := numbered(1, 3)
	big, err := json.Marshal(map[string]string{"endpoint": strings.Repeat("x", megabyte)})
	require.NoError(t, err)
	entries[1].Report = big
	err = w.Write(entries)
	var overflow *OverflowError
	require.ErrorAs(t, err, &overflow)
	assert.ErrorIs(t, err, ErrTooLarge)
	var werr *WriteError
	assert.NotErrorAs(t, err, &werr, "the others were written")
	assert.Equal(t, []string{"e0000002"}, reasons(overflow.Entries))
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"e0000001", "e0000003"}, reasons(got))
}

// TestReadGzip: Read recognises a gzipped file by its content.
func TestReadGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead-2026-11-25T12-00-00.000.jsonl.gz")
	f, err := os.Create(path)
	require.NoError(t, err)
	gz := gzip.NewWriter(f)
	for _, e := range numbered(1, 3) {
		_, err := gz.Write(mustLine(e))
		require.NoError(t, err)
	}
	require.NoError(t, gz.Close())
	require.NoError(t, f.Close())
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, reasons(numbered(1, 3)), reasons(got))
}

// TestReopeningDoesNotAddGoroutines: a collector reload closes and reopens the Writer; the
// rotation library's goroutine, which Close does not stop, is reused, not added again.
func TestReopeningDoesNotAddGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	before := millGoroutines()
	for i := 1; i <= 5; i++ {
		w, err := OpenWithOptions(path, Options{})
		require.NoError(t, err)
		require.NoError(t, w.Write(numbered(i, 1)))
		require.NoError(t, w.Close())
	}
	assert.Equal(t, before+1, millGoroutines())
	got, err := Read(path)
	require.NoError(t, err)
	assertSequence(t, 1, 5, got)
}

func millGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "lumberjack%2ev2.(*Logger).millRun(")
}
