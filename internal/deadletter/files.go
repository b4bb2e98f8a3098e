package deadletter

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The rotation library (lumberjack) names a rotated file after the live one with the rotation
// time, in UTC, before the extension: dead-letter.jsonl → dead-letter-2026-11-25T12-00-00.000.jsonl,
// plus ".gz" once compressed.
const (
	backupTimeFormat = "2006-01-02T15-04-05.000"
	compressedSuffix = ".gz"
)

// rotatedFile is one rotated file of a live dead-letter file.
type rotatedFile struct {
	path       string
	rotated    time.Time
	compressed bool
}

// key is the rotated file's name without ".gz": a file and its compressed copy are one backup.
func (r rotatedFile) key() string { return strings.TrimSuffix(r.path, compressedSuffix) }

// rotationTime parses name as a rotated file of the live file named liveBase.
func rotationTime(liveBase, name string) (t time.Time, compressed, ok bool) {
	ext := filepath.Ext(liveBase)
	prefix := strings.TrimSuffix(liveBase, ext) + "-"
	rest, compressed := strings.CutSuffix(name, compressedSuffix)
	if !strings.HasPrefix(rest, prefix) || !strings.HasSuffix(rest, ext) || len(rest) != len(prefix)+len(backupTimeFormat)+len(ext) {
		return time.Time{}, false, false
	}
	t, err := time.Parse(backupTimeFormat, rest[len(prefix):len(rest)-len(ext)])
	return t, compressed, err == nil
}

// rotatedFiles lists the rotated files of the live file path, oldest first. A file and its
// compressed copy both appear (the copy is being written while both exist).
func rotatedFiles(path string) ([]rotatedFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []rotatedFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if t, compressed, ok := rotationTime(base, e.Name()); ok {
			out = append(out, rotatedFile{path: filepath.Join(dir, e.Name()), rotated: t, compressed: compressed})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].rotated.Equal(out[j].rotated) {
			return out[i].rotated.Before(out[j].rotated)
		}
		return !out[i].compressed // the plain file first
	})
	return out, nil
}

// Files lists the files of the dead-letter file path in the order they were written: its
// rotated files, oldest first, then the live file (when it exists). Where a rotated file and
// its compressed copy both exist, the compression is under way and only the plain file, which
// is complete, is listed.
func Files(path string) ([]string, error) {
	rotated, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for i, r := range rotated {
		if r.compressed && i > 0 && rotated[i-1].key() == r.key() {
			continue
		}
		files = append(files, r.path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		files = append(files, path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return files, nil
}

// LivePath is the live dead-letter file that path belongs to: path itself, or for a rotated file
// (dead-letter-2026-11-25T12-00-00.000.jsonl[.gz]) the file it was rotated from.
func LivePath(path string) string {
	dir, name := filepath.Split(path)
	rest := strings.TrimSuffix(name, compressedSuffix)
	n := len(backupTimeFormat)
	// A live file without extension has rotated files ending in the time (".000" is no extension).
	for _, ext := range []string{filepath.Ext(rest), ""} {
		stem := strings.TrimSuffix(rest, ext)
		if len(stem) <= n+1 || stem[len(stem)-n-1] != '-' {
			continue
		}
		if _, err := time.Parse(backupTimeFormat, stem[len(stem)-n:]); err == nil {
			return filepath.Join(dir, stem[:len(stem)-n-1]+ext)
		}
	}
	return path
}

// InRotationSet tells whether path is the live dead-letter file live or one of its rotated
// files (existing or not), after resolving relative paths, symbolic links and hard links: a
// file a collector may be appending to, renaming or removing.
func InRotationSet(live, path string) (bool, error) {
	liveDir, liveBase, err := resolve(live)
	if err != nil {
		return false, err
	}
	dir, base, err := resolve(path)
	if err != nil {
		return false, err
	}
	if a, b := filepath.Join(liveDir, liveBase), filepath.Join(dir, base); a == b {
		return true, nil
	} else if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil && os.SameFile(fa, fb) {
			return true, nil // a hard link, or another path to the same directory
		}
	}
	sameDir := liveDir == dir
	if da, err := os.Stat(liveDir); err == nil {
		if db, err := os.Stat(dir); err == nil {
			sameDir = sameDir || os.SameFile(da, db)
		}
	}
	if !sameDir {
		return false, nil
	}
	if base == liveBase {
		return true, nil
	}
	_, _, ok := rotationTime(liveBase, base)
	return ok, nil
}

// resolve returns the absolute directory (symbolic links resolved) and the name of path; when
// path itself is a symbolic link, its target's.
func resolve(path string) (dir, base string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	dir, base = filepath.Split(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Clean(dir), base, nil
}
