package main

import (
	"math"
	"slices"
)

// median returns the middle value (the mean of the two middle values for an
// even count), or 0 for no values.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// minMax returns the extremes, or zeros for no values.
func minMax(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	return slices.Min(xs), slices.Max(xs)
}

// ratio is restic's median time over hbackup's: above 1 hbackup is faster.
// ok is false when either side has no measurement.
func ratio(restic, hbackup float64) (r float64, ok bool) {
	if restic <= 0 || hbackup <= 0 || math.IsNaN(restic) || math.IsNaN(hbackup) {
		return 0, false
	}
	return restic / hbackup, true
}

// throughput is MB/s (10^6 bytes) for bytes in seconds, 0 when unknown.
func throughput(bytes int64, seconds float64) float64 {
	if bytes <= 0 || seconds <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / seconds
}
