package deadletter

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Read parses one dead-letter file, the live one or a rotated one (gzip-compressed or not).
// It reads without locking, so a collector can go on appending. A line that is not an entry
// (a fragment left by a write that failed half-way) does not stop it: the other entries are
// returned with an error naming each such line.
func Read(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var in io.Reader = r
	if magic, _ := r.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		in = gz
	}
	return readLines(path, bufio.NewReader(in))
}

func readLines(path string, r *bufio.Reader) ([]Entry, error) {
	var entries []Entry
	var errs []error
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var e Entry
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				errs = append(errs, fmt.Errorf("%s line %d: %w", path, n, jerr))
			} else {
				entries = append(entries, e)
			}
		}
		if err == io.EOF {
			return entries, errors.Join(errs...)
		}
		if err != nil {
			return entries, errors.Join(append(errs, fmt.Errorf("%s: %w", path, err))...)
		}
	}
}

// ReadAll reads every file of the dead-letter file path in the order they were written
// (Files): the rotated files, oldest first, compressed ones included, then the live file.
func ReadAll(path string) ([]Entry, error) {
	files, err := Files(path)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	var errs []error
	for _, f := range files {
		got, err := Read(f)
		if errors.Is(err, fs.ErrNotExist) && f != path {
			// Compressed since it was listed.
			got, err = Read(f + compressedSuffix)
		}
		entries = append(entries, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return entries, errors.Join(errs...)
}
