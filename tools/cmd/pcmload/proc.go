package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ). The kernel reports it
// as 100 on every architecture Go supports on Linux, whatever CONFIG_HZ is.
const userHZ = 100

// cpuTimes is the CPU time a process has used, from /proc/<pid>/stat.
type cpuTimes struct {
	User, System time.Duration
}

// Total is user + system time.
func (c cpuTimes) Total() time.Duration { return c.User + c.System }

// Sub returns the CPU used between an earlier reading and c.
func (c cpuTimes) Sub(earlier cpuTimes) cpuTimes {
	return cpuTimes{User: c.User - earlier.User, System: c.System - earlier.System}
}

// parseProcStat reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may itself contain spaces and parentheses, so
// the fields are counted from the last ')'.
func parseProcStat(data []byte) (cpuTimes, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return cpuTimes{}, errors.New("proc stat: no command name")
	}
	// After ") ": field 3 (state) is the first; utime is field 14, stime field 15.
	fields := bytes.Fields(data[end+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return cpuTimes{}, fmt.Errorf("proc stat: %d fields after the command name, want at least %d", len(fields), stime+1)
	}
	u, err := strconv.ParseUint(string(fields[utime]), 10, 64)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("proc stat: utime: %w", err)
	}
	s, err := strconv.ParseUint(string(fields[stime]), 10, 64)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("proc stat: stime: %w", err)
	}
	tick := time.Second / userHZ
	return cpuTimes{User: time.Duration(u) * tick, System: time.Duration(s) * tick}, nil
}

// parseStatusKB returns the value of a "Name:   1234 kB" line of /proc/<pid>/status in bytes.
func parseStatusKB(data []byte, name string) (int64, error) {
	for line := range bytes.Lines(data) {
		rest, ok := bytes.CutPrefix(line, []byte(name+":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("proc status: %s: unexpected value %q", name, bytes.TrimSpace(rest))
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status: %s: %w", name, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("proc status: no %s line", name)
}

func procPath(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return fmt.Sprintf("/proc/%d/%s", pid, name)
}

// readCPU returns the CPU time of process pid (0: this process).
func readCPU(pid int) (cpuTimes, error) {
	data, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return cpuTimes{}, err
	}
	return parseProcStat(data)
}

// readPeakRSS returns VmHWM, the peak resident set size of process pid, in bytes.
func readPeakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(data, "VmHWM")
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux ≥ 4.0, "5" > clear_refs), so that
// each step reports its own peak. When it fails the peak is the process's since its start.
func resetPeakRSS(pid int) error {
	return os.WriteFile(procPath(pid, "clear_refs"), []byte("5"), 0)
}

// machineCPU is the CPU time of all cores together, from the first line of /proc/stat.
type machineCPU struct {
	Busy, Total time.Duration
}

// parseMachineStat reads the aggregate "cpu" line of /proc/stat: user nice system idle iowait
// irq softirq steal (guest time is already in user). Busy is everything but idle and iowait.
func parseMachineStat(data []byte) (machineCPU, error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return machineCPU{}, errors.New("proc stat: no aggregate cpu line")
	}
	var m machineCPU
	tick := time.Second / userHZ
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("proc stat: cpu field %d: %w", i+1, err)
		}
		d := time.Duration(n) * tick
		m.Total += d
		if i != 3 && i != 4 { // idle, iowait
			m.Busy += d
		}
	}
	return m, nil
}

// readMachineCPU reads /proc/stat.
func readMachineCPU() (machineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	return parseMachineStat(data)
}
