package deadletter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// sink is where the lines go: the rotation library, or a failing double in tests.
type sink interface {
	Write(p []byte) (int, error)
	Close() error
}

// Writer appends entries to a size-capped, rotated dead-letter file. It is safe for
// concurrent use.
//
// Entries that cannot be written (disk full, file replaced by a directory, …) are kept in a
// bounded in-memory buffer and written first, in order, at the next Write, at the periodic
// retry, or at Close. What does not fit the buffer is handed back in an OverflowError.
type Writer struct {
	path     string
	opts     Options
	maxBytes int
	logger   *zap.Logger

	mu           sync.Mutex
	out          sink
	live         os.FileInfo // the file out has open, as of the last write; nil: unknown
	midLine      bool        // a failed write left a fragment of a line: start the next on a new line
	pending      [][]byte    // lines not written yet, oldest first
	pendingBytes int
	buf          []byte
	closed       bool
	stats        Stats

	stop chan struct{}
	done chan struct{}
}

// Open opens (or creates) the dead-letter file path with the default Options.
func Open(path string) (*Writer, error) {
	return OpenWithOptions(path, Options{})
}

// OpenWithOptions opens (or creates) the dead-letter file path for appending, creating its
// directory if needed, and starts the periodic retry (stopped by Close). The live file and
// the rotated files are set to mode 0600 if an older version left them readable by others
// (logged).
func OpenWithOptions(path string, opts Options) (*Writer, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating dead-letter directory: %w", err)
	}
	w := &Writer{
		path:     path,
		opts:     opts,
		maxBytes: opts.MaxSizeMB * megabyte,
		logger:   opts.Logger,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if err := w.checkLive(); err != nil {
		return nil, fmt.Errorf("opening dead-letter file: %w", err)
	}
	w.fixRotatedModes()
	out := rotator(path, opts)
	// An empty write opens (or creates, 0600) the file now: a path that cannot be written
	// fails the start rather than the first dead letter.
	if _, err := out.Write(nil); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("opening dead-letter file: %w", err)
	}
	w.out = out
	if fi, err := os.Stat(path); err == nil {
		w.live = fi
	}
	w.prune()

	tick, stopTick := opts.retryTick, func() {}
	if tick == nil {
		ticker := time.NewTicker(opts.RetryInterval)
		tick, stopTick = ticker.C, ticker.Stop
	}
	go w.retryLoop(tick, stopTick)
	return w, nil
}

// Write appends the entries (after the buffered ones) and syncs the file, so that a crash
// right after does not lose them.
//
// When the file cannot be written, the entries are buffered and Write returns a *WriteError
// (how many failed, how many are buffered). Entries that fit neither the buffer nor a file
// come back in an *OverflowError (joined with the WriteError when both happen): the caller
// must log them in full, as a last resort, and count them as lost.
func (w *Writer) Write(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	lines, err := encodeLines(entries)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.stats.Lost += int64(len(entries))
		return &OverflowError{Entries: entries, Err: ErrClosed}
	}

	var handBack []int // indexes of entries handed back
	var why []error
	keep, idx := make([][]byte, 0, len(lines)), make([]int, 0, len(lines))
	for i, line := range lines {
		if len(line)+1 > w.maxBytes { // +1: a fragment may need a new line first
			handBack = append(handBack, i)
			continue
		}
		keep, idx = append(keep, line), append(idx, i)
	}
	if len(handBack) > 0 {
		why = append(why, ErrTooLarge)
	}

	var errs []error
	werr := w.flushLocked()
	if werr == nil {
		var n int
		n, werr = w.writeLines(keep)
		keep, idx = keep[n:], idx[n:]
	}
	if len(keep) > 0 {
		n := w.bufferLocked(keep)
		w.stats.Failed += int64(len(keep))
		errs = append(errs, &WriteError{Failed: len(keep), Buffered: len(w.pending), Err: werr})
		if n < len(keep) {
			handBack = append(handBack, idx[n:]...)
			why = append(why, ErrBufferFull)
		}
	}
	if len(handBack) > 0 {
		sort.Ints(handBack)
		lost := make([]Entry, len(handBack))
		for i, j := range handBack {
			lost[i] = entries[j]
		}
		w.stats.Lost += int64(len(lost))
		errs = append(errs, &OverflowError{Entries: lost, Err: errors.Join(why...)})
	}
	return errors.Join(errs...)
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Buffered, s.BufferedBytes = len(w.pending), w.pendingBytes
	return s
}

// Close stops the periodic retry, writes the buffered entries and closes the file. Entries it
// could not write come back in an *OverflowError: log them in full and count them as lost.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done

	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	if err := w.flushLocked(); err != nil {
		lost := make([]Entry, 0, len(w.pending))
		for _, line := range w.pending {
			var e Entry
			if json.Unmarshal(line, &e) == nil {
				lost = append(lost, e)
			}
		}
		w.stats.Lost += int64(len(w.pending))
		w.pending, w.pendingBytes = nil, 0
		errs = append(errs, &OverflowError{Entries: lost, Err: err})
	}
	if err := w.out.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing dead-letter file: %w", err))
	}
	return errors.Join(errs...)
}

func (w *Writer) retryLoop(tick <-chan time.Time, stopTick func()) {
	defer close(w.done)
	defer stopTick()
	failing := false
	for {
		select {
		case <-w.stop:
			return
		case <-tick:
			w.mu.Lock()
			if n := len(w.pending); n > 0 {
				if err := w.flushLocked(); err != nil && !failing {
					w.logger.Warn("Dead-letter file still cannot be written; the entries wait in memory",
						zap.String("path", w.path), zap.Int("buffered", len(w.pending)), zap.Error(err))
				}
			}
			failing = len(w.pending) > 0
			w.mu.Unlock()
			if w.opts.afterRetry != nil {
				w.opts.afterRetry()
			}
		}
	}
}

// flushLocked writes the buffered lines, oldest first.
func (w *Writer) flushLocked() error {
	if len(w.pending) == 0 {
		return nil
	}
	n, err := w.writeLines(w.pending)
	for _, line := range w.pending[:n] {
		w.pendingBytes -= len(line)
	}
	w.pending = append([][]byte(nil), w.pending[n:]...)
	w.stats.Recovered += int64(n)
	if err == nil {
		w.pending = nil
		w.logger.Info("Dead-letter file written again; the buffered entries are in it",
			zap.String("path", w.path), zap.Int("entries", n))
	}
	return err
}

// bufferLocked keeps lines, in order, while they fit; it returns how many it kept.
func (w *Writer) bufferLocked(lines [][]byte) int {
	for i, line := range lines {
		if len(w.pending) >= w.opts.BufferEntries || w.pendingBytes+len(line) > w.opts.BufferBytes {
			return i
		}
		w.pending = append(w.pending, line)
		w.pendingBytes += len(line)
	}
	return len(lines)
}

// writeLines writes lines in writes of at most one file's size (the rotation library refuses
// larger ones) and returns how many lines are in the file.
func (w *Writer) writeLines(lines [][]byte) (int, error) {
	written := 0
	for written < len(lines) {
		size, end := 1, written // 1: room for a new line before a fragment
		for end < len(lines) && size+len(lines[end]) <= w.maxBytes {
			size += len(lines[end])
			end++
		}
		n, err := w.writeChunk(lines[written:end])
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func (w *Writer) writeChunk(lines [][]byte) (int, error) {
	if err := w.checkLive(); err != nil {
		return 0, err
	}
	w.buf = w.buf[:0]
	if w.midLine {
		w.buf = append(w.buf, '\n')
	}
	start := len(w.buf)
	for _, line := range lines {
		w.buf = append(w.buf, line...)
	}
	n, err := w.out.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		// The lines written whole are in the file; the others are retried. A fragment gets a
		// line of its own before the retry, so that it cannot spoil the next entry.
		done, end := 0, start
		for _, line := range lines {
			if end += len(line); end > n {
				break
			}
			done++
		}
		if n > 0 {
			w.midLine = w.buf[n-1] != '\n'
		}
		// The next write reopens the path: the file may have been replaced or removed.
		_ = w.out.Close()
		w.live = nil
		return done, err
	}
	w.midLine = false
	w.afterWrite()
	return len(lines), nil
}

// encodeLines encodes each entry as one JSON line.
func encodeLines(entries []Entry) ([][]byte, error) {
	lines := make([][]byte, len(entries))
	for i := range entries {
		line, err := json.Marshal(&entries[i])
		if err != nil {
			// Only an invalid Report (not JSON) can get here; keep the line with the report quoted.
			e := entries[i]
			e.Report, _ = json.Marshal(string(e.Report))
			if line, err = json.Marshal(&e); err != nil {
				return nil, fmt.Errorf("encoding dead-letter entry: %w", err)
			}
		}
		lines[i] = append(line, '\n')
	}
	return lines, nil
}
