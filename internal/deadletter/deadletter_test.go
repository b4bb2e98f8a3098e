package deadletter

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteAppendsLinesAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dead.jsonl")
	w, err := Open(path)
	require.NoError(t, err)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	require.NoError(t, w.Write([]Entry{
		{Time: now, Stage: StageInvalid, Reason: "Missing property: clientOrgId", API: "private", Report: json.RawMessage(`{"endpoint":"/x"}`)},
		{Time: now, Stage: StageDiscarded, Reason: "Unlisted endpoint: /y", API: "private", ReportID: "r1", Report: json.RawMessage(`{"endpoint":"/y"}`)},
	}))
	require.NoError(t, w.Close())

	w, err = Open(path)
	require.NoError(t, err)
	require.NoError(t, w.Write([]Entry{{Time: now, Stage: StageRejected, Reason: "403 Forbidden", API: "opendata", Report: json.RawMessage(`{}`)}}))
	require.NoError(t, w.Close())

	entries, err := Read(path)
	require.NoError(t, err)
	require.Len(t, entries, 3)
	require.Equal(t, StageDiscarded, entries[1].Stage)
	require.Equal(t, "r1", entries[1].ReportID)
	require.JSONEq(t, `{"endpoint":"/y"}`, string(entries[1].Report))
	require.Equal(t, StageRejected, entries[2].Stage)
}

func TestWriteKeepsAReportThatIsNotJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	w, err := Open(path)
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.Write([]Entry{{Stage: StageInvalid, Reason: "broken", Report: json.RawMessage(`{"a":`)}}))
	entries, err := Read(path)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, `"{\"a\":"`, string(entries[0].Report))
}

func TestConcurrentWritesDoNotInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	w, err := Open(path)
	require.NoError(t, err)
	defer w.Close()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				require.NoError(t, w.Write([]Entry{{Stage: StageInvalid, Reason: "x", Report: json.RawMessage(`{"k":"v"}`)}, {Stage: StageInvalid, Reason: "y", Report: json.RawMessage(`{}`)}}))
			}
		}()
	}
	wg.Wait()
	entries, err := Read(path)
	require.NoError(t, err)
	require.Len(t, entries, 8*20*2)
}
