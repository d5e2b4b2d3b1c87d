package systemd

import (
	"fmt"
	"math"

	"github.com/hbackup/hbackup/job/config"
)

// Properties returns a job's resource limits as [Service] settings, e.g.
// CPUQuota=150% for 1.5 CPUs. Unset limits yield nothing.
func Properties(r config.Resources) []string {
	var p []string
	if r.CPUs > 0 {
		// systemd takes whole percents; never round a limit down to zero.
		p = append(p, fmt.Sprintf("CPUQuota=%d%%", max(1, int(math.Round(r.CPUs*100)))))
	}
	if r.Memory > 0 {
		p = append(p, "MemoryMax="+memSize(r.Memory))
	}
	if r.IOClass != "" {
		p = append(p, "IOSchedulingClass="+r.IOClass)
		if r.IOClass != "idle" {
			p = append(p, fmt.Sprintf("IOSchedulingPriority=%d", r.IOPriority))
		}
	}
	if r.Nice != 0 {
		p = append(p, fmt.Sprintf("Nice=%d", r.Nice))
	}
	return p
}

// memSize uses systemd's binary suffixes when they are exact.
func memSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d", n)
}
