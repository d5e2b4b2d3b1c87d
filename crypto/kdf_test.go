package crypto

import (
	"testing"
	"time"
)

// fakeScrypt times scrypt runs as a machine would where one lane at
// N=2^15 takes lane, p lanes take p times as long times slowdown, and
// the first cold runs take cold longer (the heap faulting in).
type fakeScrypt struct {
	lane      time.Duration
	slowdown  float64
	cold      int
	coldExtra time.Duration
	runs      []Params
}

func (f *fakeScrypt) run(p Params) time.Duration {
	f.runs = append(f.runs, p)
	d := time.Duration(float64(f.lane) * float64(p.N) / (1 << 15) * float64(p.P))
	if p.P > 1 && f.slowdown > 0 {
		d = time.Duration(float64(d) * f.slowdown)
	}
	if len(f.runs) <= f.cold {
		d += f.coldExtra
	}
	return d
}

func TestCalibrateLikeRestic(t *testing.T) {
	for _, tc := range []struct {
		name string
		fake fakeScrypt
		mem  int
		want Params
	}{
		// restic 0.14 picks p=5..7 on the CI machine, where a warm lane
		// takes 70-85 ms and a process's first run ~230 ms.
		{"warm lane 70ms", fakeScrypt{lane: 70 * time.Millisecond}, 60 << 20, Params{N: 1 << 15, R: 8, P: 7}},
		{"cold first run", fakeScrypt{lane: 70 * time.Millisecond, cold: 1, coldExtra: 160 * time.Millisecond}, 60 << 20, Params{N: 1 << 15, R: 8, P: 7}},
		// A lane slower than the timeout halves N.
		{"slow machine", fakeScrypt{lane: 700 * time.Millisecond}, 60 << 20, Params{N: 1 << 14, R: 8, P: 1}},
		// p=7 runs 30% slower than 7 lanes (a loaded machine): p drops
		// to timeout over the time one of those lanes took.
		{"p too slow", fakeScrypt{lane: 70 * time.Millisecond, slowdown: 1.3}, 60 << 20, Params{N: 1 << 15, R: 8, P: 5}},
		// N's lane must stay strictly under the memory limit.
		{"memory exactly 64 MiB", fakeScrypt{lane: 10 * time.Millisecond}, 64 << 20, Params{N: 1 << 15, R: 8, P: 50}},
		{"memory above 64 MiB", fakeScrypt{lane: 10 * time.Millisecond}, 64<<20 + 1, Params{N: 1 << 16, R: 8, P: 25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := calibrate(500*time.Millisecond, tc.mem, tc.fake.run)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("calibrate = %+v, want %+v (runs %v)", got, tc.want, tc.fake.runs)
			}
		})
	}
}

func TestCalibrateRejectsNonsense(t *testing.T) {
	f := &fakeScrypt{lane: time.Millisecond}
	if _, err := calibrate(0, 60<<20, f.run); err == nil {
		t.Error("zero timeout accepted")
	}
	if _, err := calibrate(time.Second, 0, f.run); err == nil {
		t.Error("zero memory accepted")
	}
}
