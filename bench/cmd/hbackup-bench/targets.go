package main

import "math"

// targets are the ratios (restic time / hbackup time) issues 3 and 5 ask for.
var targets = map[string]float64{
	"backup-auto":     2.5,
	"backup-off":      2.5,
	"backup-nochange": 2.5,
	"restore":         2,
	"check":           2,
	"backup-changed":  2,
	"backup-small":    2.5,
	"forget-prune":    2,
	"copy":            2,
}

// boundLines names, per scenario, the bound lines that together limit it:
// reading the source and the CPU pipeline for the same data.
var boundLines = map[string][2]string{
	"backup-auto":  {"bound-read", "bound-pipeline auto"},
	"backup-off":   {"bound-read", "bound-pipeline off"},
	"backup-small": {"bound-read small/", "bound-pipeline small/"},
}

// boundFor is the least time a scenario can take on this machine by its
// bound lines: reading and processing must both happen, can at best
// overlap completely, and together need their CPU time spread over all
// cores, so the bound is max(read, pipeline, (read CPU + pipeline CPU) /
// cores). cpu is that CPU time, the least any tool spends. Both are 0
// when the scenario has no bound or none was measured.
func boundFor(scenario string, bounds []*boundResult, cores int) (wall, cpu float64) {
	names, ok := boundLines[scenario]
	if !ok {
		return 0, 0
	}
	for _, br := range bounds {
		if (br.Name == names[0] || br.Name == names[1]) && br.Result.Median > 0 {
			wall = math.Max(wall, br.Result.Median)
			cpu += br.Result.CPU
		}
	}
	if wall == 0 || cores < 1 {
		return wall, cpu
	}
	return math.Max(wall, cpu/float64(cores)), cpu
}
