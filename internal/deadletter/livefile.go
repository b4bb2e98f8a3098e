package deadletter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"go.uber.org/zap"
	"gopkg.in/natefinch/lumberjack.v2"
)

// checkLive looks at what is at the path before a write: the rotation library would write
// into a file removed or moved under it, and would move a directory found at the path aside
// and create the file with the directory's mode.
func (w *Writer) checkLive() error {
	fi, err := os.Stat(w.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if w.live != nil {
			// Removed under us: write a new file rather than into the removed one.
			_ = w.out.Close()
			w.live, w.midLine = nil, false
		}
		if err := os.MkdirAll(filepath.Dir(w.path), 0o750); err != nil {
			return fmt.Errorf("creating dead-letter directory: %w", err)
		}
		return nil
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s (%s): %w", w.path, fi.Mode().Type(), ErrNotRegularFile)
	}
	if w.live != nil && !os.SameFile(fi, w.live) {
		// Moved away and replaced: append to the file now at the path.
		_ = w.out.Close()
		w.live, w.midLine = nil, false
	}
	w.fixMode(w.path, fi)
	return nil
}

// afterWrite syncs the live file and, when it is a new one (rotated), removes the rotated
// files beyond MaxBackups at once: the rotation library does it in the background, which
// would let a flood run ahead of it.
func (w *Writer) afterWrite() {
	// The rotation library does not expose its file; fsync through another descriptor of it.
	f, err := os.Open(w.path)
	if err != nil {
		w.logger.Warn("Could not sync the dead-letter file", zap.String("path", w.path), zap.Error(err))
		w.live = nil
		return
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		w.logger.Warn("Could not sync the dead-letter file", zap.String("path", w.path), zap.Error(err))
	}
	fi, err := f.Stat()
	if err != nil {
		w.live = nil
		return
	}
	rotated := w.live == nil || !os.SameFile(fi, w.live)
	w.live = fi
	if rotated {
		w.fixMode(w.path, fi)
		w.prune()
	}
}

// prune removes the oldest rotated files beyond MaxBackups (a file and its compressed copy
// count once).
func (w *Writer) prune() {
	rotated, err := rotatedFiles(w.path)
	if err != nil {
		w.logger.Warn("Could not list the rotated dead-letter files", zap.String("path", w.path), zap.Error(err))
		return
	}
	kept := map[string]bool{}
	for i := len(rotated) - 1; i >= 0; i-- {
		r := rotated[i]
		if kept[r.key()] || len(kept) < w.opts.MaxBackups {
			kept[r.key()] = true
			continue
		}
		if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.logger.Warn("Could not remove an old rotated dead-letter file", zap.String("path", r.path), zap.Error(err))
		}
	}
}

// fixRotatedModes tightens the mode of the files rotated by an older version.
func (w *Writer) fixRotatedModes() {
	rotated, err := rotatedFiles(w.path)
	if err != nil {
		return
	}
	for _, r := range rotated {
		if fi, err := os.Stat(r.path); err == nil {
			w.fixMode(r.path, fi)
		}
	}
}

// fixMode makes a dead-letter file readable by its owner only. Older versions created it
// 0640, and the rotation library gives every new file the mode of the one it replaces.
func (w *Writer) fixMode(path string, fi os.FileInfo) {
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return
	}
	if err := os.Chmod(path, perm&^0o077); err != nil {
		w.logger.Warn("Dead-letter file is readable by others and its mode could not be changed",
			zap.String("path", path), zap.Stringer("mode", perm), zap.Error(err))
		return
	}
	w.logger.Warn("Dead-letter file was readable by others (it holds client IPs); its mode was tightened",
		zap.String("path", path), zap.Stringer("previous_mode", perm), zap.Stringer("mode", perm&^0o077))
}

// rotators keeps one lumberjack.Logger per file and settings for the life of the process.
// lumberjack v2.2.1 starts a goroutine per Logger that Close does not stop (natefinch/lumberjack
// issues 56 and 205, open); a Writer reopened at every collector reload reuses the Logger (a
// closed Logger reopens its file at the next write) rather than leaving one more goroutine.
var rotators = struct {
	sync.Mutex
	byKey map[rotatorKey]*lumberjack.Logger
}{byKey: map[rotatorKey]*lumberjack.Logger{}}

type rotatorKey struct {
	path                        string
	maxSize, maxBackups, maxAge int
	compress                    bool
}

func rotator(path string, opts Options) *lumberjack.Logger {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	key := rotatorKey{path: path, maxSize: opts.MaxSizeMB, maxBackups: opts.MaxBackups, maxAge: opts.maxAgeDays(), compress: opts.Compress}
	rotators.Lock()
	defer rotators.Unlock()
	if l, ok := rotators.byKey[key]; ok {
		return l
	}
	l := &lumberjack.Logger{Filename: path, MaxSize: key.maxSize, MaxBackups: key.maxBackups, MaxAge: key.maxAge, Compress: key.compress}
	rotators.byKey[key] = l
	return l
}
