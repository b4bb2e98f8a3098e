package deadletter

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLivePath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/var/lib/otelcol/dead.jsonl", "/var/lib/otelcol/dead.jsonl"},
		{"/var/lib/otelcol/dead-2026-11-25T12-00-00.000.jsonl", "/var/lib/otelcol/dead.jsonl"},
		{"/var/lib/otelcol/dead-2026-11-25T12-00-00.000.jsonl.gz", "/var/lib/otelcol/dead.jsonl"},
		{"dead-letter-2026-11-25T12-00-00.000", "dead-letter"},
		{"/x/dead-2026-11-25.jsonl", "/x/dead-2026-11-25.jsonl"},                 // not a rotation time
		{"/x/2026-11-25T12-00-00.000.jsonl", "/x/2026-11-25T12-00-00.000.jsonl"}, // no live name
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, LivePath(tt.path), tt.path)
	}
}

// TestFilesInWriteOrder: rotated files oldest first (by the time in their name), then the live
// file; a rotated file being compressed is listed once, uncompressed.
func TestFilesInWriteOrder(t *testing.T) {
	dir := t.TempDir()
	touch := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		return p
	}
	live := touch("dead.jsonl")
	newest := touch("dead-2026-11-25T12-00-00.001.jsonl.gz")
	touch("dead-2026-11-24T00-00-00.000.jsonl.gz") // partial copy of the next one
	half := touch("dead-2026-11-24T00-00-00.000.jsonl")
	oldest := touch("dead-2026-11-23T23-59-59.999.jsonl")
	touch("other-2026-11-23T23-59-59.999.jsonl")
	touch("dead-2026-11-23.jsonl")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dead-2026-11-22T00-00-00.000.jsonl"), 0o700))

	files, err := Files(live)
	require.NoError(t, err)
	assert.Equal(t, []string{oldest, half, newest, live}, files)
}

func TestInRotationSet(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "dead.jsonl")
	require.NoError(t, os.WriteFile(live, nil, 0o600))
	other := t.TempDir()
	require.NoError(t, os.Symlink(live, filepath.Join(other, "link.jsonl")))
	require.NoError(t, os.Symlink(dir, filepath.Join(other, "dirlink")))
	require.NoError(t, os.Link(live, filepath.Join(other, "hard.jsonl")))
	t.Chdir(dir)

	tests := []struct {
		path string
		want bool
	}{
		{live, true},
		{"dead.jsonl", true},                                  // relative
		{"./sub/../dead.jsonl", true},                         // not clean
		{filepath.Join(other, "link.jsonl"), true},            // symbolic link to it
		{filepath.Join(other, "dirlink", "dead.jsonl"), true}, // through a linked directory
		{filepath.Join(other, "hard.jsonl"), true},            // hard link
		{"dead-2026-11-25T12-00-00.000.jsonl", true},          // a rotated file, existing or not
		{"dead-2026-11-25T12-00-00.000.jsonl.gz", true},       // compressed
		{filepath.Join(other, "dirlink", "dead-2026-11-25T12-00-00.000.jsonl"), true},
		{"remaining.jsonl", false},
		{"dead-remaining.jsonl", false},
		{filepath.Join(other, "dead.jsonl"), false}, // same name, another directory
	}
	for _, tt := range tests {
		got, err := InRotationSet(live, tt.path)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.path)
	}
}
