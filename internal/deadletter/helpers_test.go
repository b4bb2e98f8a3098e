package deadletter

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// lumberjack v2.2.1 starts one goroutine per Logger that Close does not stop
	// (natefinch/lumberjack issues #56 and #205, open); the Writer's own retry goroutine is
	// checked.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// numbered returns entries whose Reason is their number, from first on.
func numbered(first, n int) []Entry {
	entries := make([]Entry, n)
	for i := range entries {
		k := first + i
		entries[i] = Entry{Time: testTime, Stage: StageUnlisted, Reason: fmt.Sprintf("e%07d", k), API: "private",
			Report: json.RawMessage(fmt.Sprintf(`{"endpoint":"/open-banking/unlisted/%d","clientIp":"203.0.113.7"}`, k))}
	}
	return entries
}

func reasons(entries []Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Reason
	}
	return out
}

// flakySink fails the next `fail` writes with err, after writing `partial` bytes of each.
type flakySink struct {
	sink
	mu      sync.Mutex
	fail    int
	partial int
	err     error
	calls   int
}

func (f *flakySink) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail > 0 {
		f.fail--
		n := 0
		if f.partial > 0 && f.partial < len(p) {
			n, _ = f.sink.Write(p[:f.partial])
		}
		return n, f.err
	}
	return f.sink.Write(p)
}

func (f *flakySink) set(fail, partial int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.partial, f.err = fail, partial, err
}

// openFlaky opens a Writer whose writes go through a flakySink.
func openFlaky(t *testing.T, path string, opts Options) (*Writer, *flakySink) {
	t.Helper()
	w, err := OpenWithOptions(path, opts)
	require.NoError(t, err)
	w.mu.Lock()
	f := &flakySink{sink: w.out}
	w.out = f
	w.mu.Unlock()
	return w, f
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

// diskUse is the size and number of the files in dir (files removed while listing are skipped).
func diskUse(t *testing.T, dir string) (size int64, files []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		size += fi.Size()
		files = append(files, e.Name())
	}
	return size, files
}

// assertSequence checks that got is the n numbered entries from first on, in order, without
// printing thousands of them.
func assertSequence(t *testing.T, first, n int, got []Entry) {
	t.Helper()
	want := reasons(numbered(first, n))
	have := reasons(got)
	for i := range min(len(want), len(have)) {
		if want[i] != have[i] {
			t.Fatalf("entry %d is %s, want %s", i, have[i], want[i])
		}
	}
	if len(have) != len(want) {
		t.Fatalf("%d entries, want %d", len(have), len(want))
	}
}
