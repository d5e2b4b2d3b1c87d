package docs

import (
	"fmt"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/schedule"
)

const timeLayout = "Mon 2006-01-02 15:04 MST"

// nextRuns lists the next n elapses of s after now, in the schedule's zone.
func nextRuns(s *schedule.Schedule, now time.Time, n int) []string {
	var out []string
	t := now
	for range n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t.In(s.Location()).Format(timeLayout))
	}
	return out
}

func zoneName(s *schedule.Schedule) string {
	if s.Location() == time.Local {
		return "local time"
	}
	return s.Location().String()
}

// duration prints whole days, hours or minutes the way the config says them.
func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// size prints bytes with a binary unit.
func size(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// keep prints one retention count; -1 keeps all.
func keep(n int) string {
	if n < 0 {
		return "all"
	}
	return fmt.Sprint(n)
}

// retentionText is a policy in words, skipping zero counts.
func retentionText(r config.Retention) string {
	var parts []string
	for _, k := range []struct {
		name string
		n    int
	}{{"last", r.Last}, {"hourly", r.Hourly}, {"daily", r.Daily}, {"weekly", r.Weekly}, {"monthly", r.Monthly}, {"yearly", r.Yearly}} {
		if k.n != 0 {
			parts = append(parts, k.name+" "+keep(k.n))
		}
	}
	if len(parts) == 0 {
		return "keep everything (no policy)"
	}
	s := "keep " + strings.Join(parts, ", ")
	if r.Prune {
		return s + "; prune after forget"
	}
	return s + "; forget only, no prune"
}

func resourcesText(r config.Resources) string {
	var parts []string
	if r.CPUs > 0 {
		parts = append(parts, fmt.Sprintf("%g CPUs", r.CPUs))
	}
	if r.Memory > 0 {
		parts = append(parts, "memory "+size(r.Memory))
	}
	switch r.IOClass {
	case "":
	case "idle":
		parts = append(parts, "IO class idle")
	default:
		parts = append(parts, fmt.Sprintf("IO class %s, priority %d", r.IOClass, r.IOPriority))
	}
	if r.Nice != 0 {
		parts = append(parts, fmt.Sprintf("nice %d", r.Nice))
	}
	if len(parts) == 0 {
		return "no limits"
	}
	return strings.Join(parts, ", ")
}

// sources is what a job backs up, in words.
func sources(j *config.Job) string {
	var parts []string
	for _, p := range j.Paths {
		parts = append(parts, code(p))
	}
	for _, d := range j.ZFS {
		parts = append(parts, "ZFS "+code(d))
	}
	return strings.Join(parts, ", ")
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
