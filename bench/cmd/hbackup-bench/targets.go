package main

import (
	"math"
	"slices"
)

// target is the ratio (restic time / hbackup time) issues 3, 4 and 5 ask
// for in a scenario.
func target(scenario string) (float64, bool) {
	switch scenario {
	case "backup-auto", "backup-off", "backup-nochange", "backup-small":
		return 2.5, true
	case "restore", "check", "backup-changed", "backup-sftp", "forget-prune", "copy":
		return 2, true
	}
	return 0, false
}

// boundLines names the bound lines that together limit a scenario: for
// backups, reading the source and the CPU pipeline for the same data; for
// a backup with nothing changed, listing and lstat of the source; for
// restore, opening the blobs; for check, opening the packs and blobs. Each
// command also derives the key from the repository's key file
// (bound-kdf) before it can decrypt or encrypt anything.
func boundLines(scenario string) ([]string, bool) {
	switch scenario {
	case "backup-auto":
		return []string{"bound-kdf", "bound-read", "bound-pipeline auto"}, true
	case "backup-off":
		return []string{"bound-kdf", "bound-read", "bound-pipeline off"}, true
	case "backup-nochange":
		return []string{"bound-kdf", "bound-stat"}, true
	case "backup-small":
		return []string{"bound-kdf", "bound-read small/", "bound-pipeline small/"}, true
	case "restore":
		// Opening every blob, and writing the files (measured between
		// the tools' restores: run on its own, at another time, it was
		// slower than the restores themselves on this VM).
		return []string{"bound-kdf", "bound-verify blobs", "bound-write"}, true
	case "check":
		// Without reading the pack files, so a little low.
		return []string{"bound-kdf", "bound-verify packs"}, true
	}
	return nil, false
}

// boundFor is the least time a scenario can take on this machine by its
// bound lines: reading and processing must both happen, can at best
// overlap completely, and together need their CPU time spread over all
// cores, so the bound is max(read, pipeline, (read CPU + pipeline CPU) /
// cores). cpu is that CPU time, the least any tool spends. Both are 0
// when the scenario has no bound or none was measured.
func boundFor(scenario string, bounds []*boundResult, cores int) (wall, cpu float64) {
	names, ok := boundLines(scenario)
	if !ok {
		return 0, 0
	}
	for _, br := range bounds {
		if slices.Contains(names, br.Name) && br.Result.Median > 0 {
			wall = math.Max(wall, br.Result.Median)
			cpu += br.Result.CPU
		}
	}
	if wall == 0 || cores < 1 {
		return wall, cpu
	}
	return math.Max(wall, cpu/float64(cores)), cpu
}
