// Package procstat reads a process' memory figures from /proc, for the
// benchmarks that measure a program's resident set.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// MemoryMiB returns the kB fields of /proc/PID/status (VmRSS, VmHWM,
// RssAnon, RssFile, ...) in MiB, keyed without the colon; pid 0 is this
// process.
func MemoryMiB(pid int) (map[string]float64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		out[strings.TrimSuffix(f[0], ":")] = kb / 1024
	}
	return out, nil
}
