package deadletter

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestFailedWritesAreBufferedAndRetriedInOrder: entries whose write failed are written later,
// before the newer ones, each exactly once.
func TestFailedWritesAreBufferedAndRetriedInOrder(t *testing.T) {
	tests := []struct {
		name      string
		fail      int // writes that fail
		partial   int // bytes each failing write still puts in the file
		wantFrags int // unreadable fragments left by partial writes
	}{
		{name: "disk full, nothing written", fail: 2},
		{name: "disk full half-way through a line", fail: 1, partial: 70, wantFrags: 1},
		{name: "disk full after whole lines", fail: 1, partial: len(mustLine(numbered(1, 1)[0])) * 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dead.jsonl")
			w, sink := openFlaky(t, path, Options{})
			require.NoError(t, w.Write(numbered(1, 2)))

			sink.set(tt.fail, tt.partial, syscall.ENOSPC)
			err := w.Write(numbered(3, 3))
			var werr *WriteError
			require.ErrorAs(t, err, &werr)
			assert.ErrorIs(t, err, syscall.ENOSPC)
			var overflow *OverflowError
			assert.False(t, errors.As(err, &overflow), "nothing handed back")
			wantFailed := 3
			if tt.partial > 70 {
				wantFailed = 1 // two whole lines made it
			}
			assert.Equal(t, wantFailed, werr.Failed)
			assert.Equal(t, wantFailed, werr.Buffered)

			for i := 1; i < tt.fail; i++ { // still failing: nothing new is written out of order
				err = w.Write(numbered(6, 1))
				require.ErrorAs(t, err, &werr)
				assert.Equal(t, 1, werr.Failed)
				assert.Equal(t, wantFailed+1, werr.Buffered)
				wantFailed++
			}
			next := 6 + tt.fail - 1
			require.NoError(t, w.Write(numbered(next, 1)), "the disk has room again")
			assert.Equal(t, Stats{Failed: int64(wantFailed), Recovered: int64(wantFailed)}, w.Stats())
			require.NoError(t, w.Close())

			got, err := Read(path)
			if tt.wantFrags == 0 {
				require.NoError(t, err)
			} else {
				require.Error(t, err, "the fragment is a line of its own")
				assert.Equal(t, tt.wantFrags, len(joinedErrors(err)))
			}
			assert.Equal(t, reasons(numbered(1, next)), reasons(got), "every entry once, in order")
		})
	}
}

func mustLine(e Entry) []byte {
	lines, err := encodeLines([]Entry{e})
	if err != nil {
		panic(err)
	}
	return lines[0]
}

func joinedErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestFileReplacedByADirectory: nothing is written into a directory (lumberjack would move it
// aside and give the new file its mode); the entries wait and are written once it is gone.
func TestFileReplacedByADirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dead.jsonl")
	w, err := OpenWithOptions(path, Options{})
	require.NoError(t, err)
	require.NoError(t, w.Write(numbered(1, 1)))

	require.NoError(t, os.Rename(path, filepath.Join(dir, "moved.jsonl")))
	require.NoError(t, os.Mkdir(path, 0o755))
	err = w.Write(numbered(2, 2))
	var werr *WriteError
	require.ErrorAs(t, err, &werr)
	assert.ErrorIs(t, err, ErrNotRegularFile)
	assert.Equal(t, 2, werr.Failed)
	assert.Equal(t, 2, werr.Buffered)

	require.NoError(t, os.Remove(path))
	require.NoError(t, w.Write(numbered(4, 1)))
	require.NoError(t, w.Close())

	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"e0000002", "e0000003", "e0000004"}, reasons(got))
	assert.Equal(t, os.FileMode(0o600), mode(t, path))
	moved, err := Read(filepath.Join(dir, "moved.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, []string{"e0000001"}, reasons(moved))
}

// TestFileRemovedUnderTheWriter: the entries go to a new file, not into the removed one.
func TestFileRemovedUnderTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	w, err := OpenWithOptions(path, Options{})
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.Write(numbered(1, 1)))
	require.NoError(t, os.Remove(path))
	require.NoError(t, w.Write(numbered(2, 1)))
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"e0000002"}, reasons(got))
}

// TestBufferFullHandsEntriesBack: the buffer is bounded in entries and in bytes; what does not
// fit comes back to the caller, in order, and is counted as lost.
func TestBufferFullHandsEntriesBack(t *testing.T) {
	lineSize := len(mustLine(numbered(1, 1)[0]))
	tests := []struct {
		name string
		opts Options
	}{
		{"entries", Options{BufferEntries: 3}},
		{"bytes", Options{BufferBytes: 3*lineSize + lineSize/2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dead.jsonl")
			w, sink := openFlaky(t, path, tt.opts)
			sink.set(1000, 0, syscall.EIO)

			err := w.Write(numbered(1, 2))
			var werr *WriteError
			require.ErrorAs(t, err, &werr)
			assert.Equal(t, WriteError{Failed: 2, Buffered: 2, Err: syscall.EIO}, *werr)

			err = w.Write(numbered(3, 3))
			require.ErrorAs(t, err, &werr)
			assert.Equal(t, 3, werr.Failed)
			assert.Equal(t, 3, werr.Buffered)
			var overflow *OverflowError
			require.ErrorAs(t, err, &overflow)
			assert.ErrorIs(t, overflow, ErrBufferFull)
			assert.Equal(t, []string{"e0000004", "e0000005"}, reasons(overflow.Entries))
			assert.Equal(t, int64(2), w.Stats().Lost)

			sink.set(0, 0, nil)
			require.NoError(t, w.Close(), "Close writes the buffer")
			got, err := Read(path)
			require.NoError(t, err)
			assert.Equal(t, []string{"e0000001", "e0000002", "e0000003"}, reasons(got))
		})
	}
}

// TestPeriodicRetryWritesTheBuffer: with no new Write, the buffered entries are written at the
// next retry tick (a fake ticker).
func TestPeriodicRetryWritesTheBuffer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	tick := make(chan time.Time)
	retried := make(chan struct{})
	core, logs := observer.New(zap.InfoLevel)
	w, sink := openFlaky(t, path, Options{Logger: zap.New(core), retryTick: tick, afterRetry: func() { retried <- struct{}{} }})
	sink.set(2, 0, syscall.ENOSPC)
	require.Error(t, w.Write(numbered(1, 2)))

	tick <- time.Time{}
	<-retried
	assert.Equal(t, 2, w.Stats().Buffered, "still failing")
	assert.Equal(t, 1, logs.FilterMessageSnippet("still cannot be written").Len())

	tick <- time.Time{}
	<-retried
	assert.Equal(t, Stats{Failed: 2, Recovered: 2}, w.Stats())
	assert.Equal(t, 1, logs.FilterMessageSnippet("written again").Len())
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"e0000001", "e0000002"}, reasons(got))
	require.NoError(t, w.Close())
}

// TestCloseHandsBackWhatItCannotWrite: at shutdown the buffer is written, or given back.
func TestCloseHandsBackWhatItCannotWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	w, sink := openFlaky(t, path, Options{})
	sink.set(1000, 0, syscall.EROFS)
	require.Error(t, w.Write(numbered(1, 2)))
	err := w.Close()
	var overflow *OverflowError
	require.ErrorAs(t, err, &overflow)
	assert.ErrorIs(t, err, syscall.EROFS)
	assert.Equal(t, numbered(1, 2), overflow.Entries)
	assert.Equal(t, int64(2), w.Stats().Lost)

	err = w.Write(numbered(3, 1))
	require.ErrorAs(t, err, &overflow, "after Close")
	assert.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, numbered(3, 1), overflow.Entries)
	require.NoError(t, w.Close(), "closing twice")
}
