package lab

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the machine's aggregate CPU time from /proc/stat, in clock
// ticks: busy (user, nice, system, irq, softirq, steal) and idle (idle,
// iowait).
type cpuTimes struct{ busy, idle uint64 }

// readCPU reads the aggregate "cpu" line of /proc/stat.
func readCPU(path string) (cpuTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return cpuTimes{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 9 || fields[0] != "cpu" {
			continue
		}
		var v [8]uint64
		for i := range v {
			if v[i], err = strconv.ParseUint(fields[i+1], 10, 64); err != nil {
				return cpuTimes{}, fmt.Errorf("%s: %w", path, err)
			}
		}
		// user nice system idle iowait irq softirq steal
		return cpuTimes{busy: v[0] + v[1] + v[2] + v[5] + v[6] + v[7], idle: v[3] + v[4]}, nil
	}
	if err := sc.Err(); err != nil {
		return cpuTimes{}, err
	}
	return cpuTimes{}, fmt.Errorf("%s: no cpu line", path)
}

// busyShare returns the share of CPU time spent busy between a and b, 0 if
// none passed.
func busyShare(a, b cpuTimes) float64 {
	busy, idle := b.busy-a.busy, b.idle-a.idle
	if b.busy < a.busy || b.idle < a.idle || busy+idle == 0 {
		return 0
	}
	return float64(busy) / float64(busy+idle)
}
