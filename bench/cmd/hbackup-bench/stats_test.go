package main

import (
	"math"
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{2, 2, 9, 2, 100}, 2},
	} {
		in := slices.Clone(tc.in)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %g, want %g", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median reordered its input: %v", in)
		}
	}
}

func TestMinMax(t *testing.T) {
	if lo, hi := minMax([]float64{2, 7, 1, 4}); lo != 1 || hi != 7 {
		t.Errorf("minMax = %g, %g, want 1, 7", lo, hi)
	}
	if lo, hi := minMax(nil); lo != 0 || hi != 0 {
		t.Errorf("minMax(nil) = %g, %g", lo, hi)
	}
}

func TestRatio(t *testing.T) {
	if r, ok := ratio(10, 4); !ok || r != 2.5 {
		t.Errorf("ratio(10, 4) = %g, %v; want 2.5 (hbackup faster)", r, ok)
	}
	if r, ok := ratio(2, 4); !ok || r != 0.5 {
		t.Errorf("ratio(2, 4) = %g, %v; want 0.5 (hbackup slower)", r, ok)
	}
	for _, in := range [][2]float64{{0, 1}, {1, 0}, {math.NaN(), 1}} {
		if _, ok := ratio(in[0], in[1]); ok {
			t.Errorf("ratio(%g, %g) claims a value", in[0], in[1])
		}
	}
	if got := throughput(300e6, 2); got != 150 {
		t.Errorf("throughput = %g MB/s, want 150", got)
	}
	if got := throughput(0, 2); got != 0 {
		t.Errorf("throughput without bytes = %g, want 0", got)
	}
}

func TestToolResultFinish(t *testing.T) {
	r := &toolResult{Samples: []sample{
		{Seconds: 3, MaxRSS: 100, Bytes: 600e6, RepoSize: 10},
		{Seconds: 1, MaxRSS: 300, Bytes: 600e6, RepoSize: 30},
		{Seconds: 2, MaxRSS: 200, Bytes: 600e6, RepoSize: 20},
	}}
	r.finish()
	if r.Median != 2 || r.Min != 1 || r.Max != 3 || r.PeakRSS != 300 || r.RepoSize != 20 || r.MBps != 300 {
		t.Errorf("finish: %+v", r)
	}
	s := &scenarioResult{Restic: &toolResult{Samples: []sample{{Seconds: 3}}}, Hbackup: &toolResult{NA: "no"}}
	s.finish()
	if s.Ratio != 0 {
		t.Errorf("ratio with hbackup n/a = %g, want 0 (absent)", s.Ratio)
	}
}
