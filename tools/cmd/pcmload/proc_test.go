package main

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	// The command name may hold spaces and parentheses: fields are counted from the last ')'.
	line := "4242 (otel (col) x) S 1 4242 4242 0 -1 4194560 51234 0 12 0 1234 567 3 4 20 0 18 0 987654 2147483648 45678 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	c, err := parseProcStat([]byte(line))
	require.NoError(t, err)
	require.Equal(t, 12340*time.Millisecond, c.User)
	require.Equal(t, 5670*time.Millisecond, c.System)
	require.Equal(t, 18010*time.Millisecond, c.Total())

	later := cpuTimes{User: 13 * time.Second, System: 6 * time.Second}
	require.Equal(t, cpuTimes{User: 660 * time.Millisecond, System: 330 * time.Millisecond}, later.Sub(c))

	for _, bad := range []string{"", "4242 otelcol S 1", "4242 (otelcol) S 1 2 3", "4242 (otelcol) S 1 4242 4242 0 -1 4194560 51234 0 12 0 x 567 3"} {
		_, err := parseProcStat([]byte(bad))
		require.Error(t, err, bad)
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\totelcol-pcm\nState:\tS (sleeping)\nVmPeak:\t 2345678 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  150000 kB\nThreads:\t12\n"
	v, err := parseStatusKB([]byte(status), "VmHWM")
	require.NoError(t, err)
	require.Equal(t, int64(200<<20), v)

	_, err = parseStatusKB([]byte(status), "VmSwap")
	require.ErrorContains(t, err, "no VmSwap line")
	_, err = parseStatusKB([]byte("VmHWM:\t12 MB\n"), "VmHWM")
	require.Error(t, err)
	// VmHWM must not match a longer name that starts the same way.
	_, err = parseStatusKB([]byte("VmHWMX:\t12 kB\n"), "VmHWM")
	require.Error(t, err)
}

func TestReadOwnProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux only")
	}
	c, err := readCPU(0)
	require.NoError(t, err)
	require.GreaterOrEqual(t, c.Total(), time.Duration(0))
	rss, err := readPeakRSS(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, rss)
}

func TestParseMachineStat(t *testing.T) {
	stat := "cpu  1000 20 300 5000 100 5 15 10 50 0\ncpu0 500 10 150 2500 50 2 7 5 25 0\nintr 1234\n"
	m, err := parseMachineStat([]byte(stat))
	require.NoError(t, err)
	require.Equal(t, 13500*time.Millisecond, m.Busy)  // user nice system irq softirq steal
	require.Equal(t, 64500*time.Millisecond, m.Total) // + idle iowait; guest is inside user
	_, err = parseMachineStat([]byte("cpu0 1 2 3 4 5\n"))
	require.Error(t, err)
	_, err = parseMachineStat([]byte("cpu 1 2 x 4 5\n"))
	require.Error(t, err)
}
