package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is sysconf(_SC_CLK_TCK), the unit of utime and stime in
// /proc/<pid>/stat. Linux fixes USER_HZ at 100 on every architecture.
const clockTicks = 100

// parseProcStat returns utime+stime, in clock ticks, from the contents of
// /proc/<pid>/stat (proc(5)). The command name (field 2) is in parentheses
// and may itself hold spaces and ')', so fields are counted after the last
// ')'.
func parseProcStat(data []byte) (uint64, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, fmt.Errorf("proc stat %q: no ')' after the command name", truncate(data))
	}
	// After ")": state is field 3, utime field 14, stime field 15.
	fields := bytes.Fields(data[end+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("proc stat %q: %d fields after the command name, want more than %d",
			truncate(data), len(fields), stime)
	}
	u, err := strconv.ParseUint(string(fields[utime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat utime %q: %w", fields[utime], err)
	}
	s, err := strconv.ParseUint(string(fields[stime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat stime %q: %w", fields[stime], err)
	}
	return u + s, nil
}

// cpuTicks returns the CPU time (user+system, all threads) used so far by
// the live process pid, in clock ticks.
func cpuTicks(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of pid %d: %w", pid, err)
	}
	t, err := parseProcStat(data)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	return t, nil
}

// truncate shortens data for error messages.
func truncate(data []byte) []byte {
	const n = 80
	if len(data) > n {
		return data[:n]
	}
	return data
}
