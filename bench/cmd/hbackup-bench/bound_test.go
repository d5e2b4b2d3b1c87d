package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func boundOf(name string, wall, cpu float64) *boundResult {
	r := &toolResult{Samples: []sample{{Seconds: wall, CPU: cpu, Bytes: 100e6}}}
	r.finish()
	return &boundResult{Name: name, Result: r}
}

func TestBoundFor(t *testing.T) {
	bounds := []*boundResult{
		boundOf("bound-read", 0.5, 0.8),
		boundOf("bound-pipeline auto", 3, 5.9),
		boundOf("bound-pipeline off", 1, 1.5),
	}
	for _, c := range []struct {
		scenario  string
		cores     int
		wall, cpu float64
	}{
		{"backup-auto", 2, 3.35, 6.7}, // (0.8 + 5.9) / 2 CPU-bound
		{"backup-auto", 8, 3, 6.7},    // the pipeline's wall time
		{"backup-off", 2, 1.15, 2.3},
		{"backup-small", 2, 0, 0}, // not measured
		{"restore", 2, 0, 0},      // no bound
	} {
		wall, cpu := boundFor(c.scenario, bounds, c.cores)
		if math.Abs(wall-c.wall) > 1e-9 || math.Abs(cpu-c.cpu) > 1e-9 {
			t.Errorf("boundFor(%s, %d cores) = %v, %v; want %v, %v", c.scenario, c.cores, wall, cpu, c.wall, c.cpu)
		}
	}
}

func TestPrintBoundsAndTargets(t *testing.T) {
	auto := &scenarioResult{Name: "backup-auto",
		Restic:  &toolResult{Samples: []sample{{Seconds: 10, CPU: 20}}},
		Hbackup: &toolResult{Samples: []sample{{Seconds: 5, CPU: 15}}}}
	restore := &scenarioResult{Name: "restore",
		Restic:  &toolResult{Samples: []sample{{Seconds: 8}}},
		Hbackup: &toolResult{NA: "no restore"}}
	auto.finish()
	restore.finish()
	rep := &report{Runs: 1, Machine: machine{CPUs: 2}, Scenarios: []*scenarioResult{auto, restore},
		Bounds: []*boundResult{boundOf("bound-read", 1, 1), boundOf("bound-pipeline auto", 5, 9)}}
	var out bytes.Buffer
	if err := printReport(&out, rep); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^bounds: .*not a tool`,
		`(?m)^bound-pipeline auto +5\.00s +5\.00-5\.00 +9\.00 +20 +- `,
		`(?m)^backup-auto +≥ 2\.5 +2\.00 +5\.00s +2\.00 +1\.00 +10\.00 +2\.00 +0\.67 +target beyond the bound`,
		`(?m)^restore +≥ 2\.0 +n/a +- +- +- +- +- +- *$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output does not match %s:\n%s", re, out.String())
		}
	}
}

// TestPipelineAndRead runs both bounds on a few small files.
func TestPipelineAndRead(t *testing.T) {
	dir := t.TempDir()
	var want int64
	for i, size := range []int{0, 100, 300 << 10, 2 << 20} {
		data := bytes.Repeat([]byte{byte('a' + i), 'x', 'y'}, size/3+1)[:size]
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want += int64(size)
	}
	files, err := sourceFiles(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 || files[0].size != 2<<20 {
		t.Fatalf("sourceFiles: %+v, want 4 files, the largest first", files)
	}
	ctx := context.Background()
	if n, err := readAll(ctx, files, 2); err != nil || n != want {
		t.Errorf("readAll = %d, %v; want %d", n, err, want)
	}
	for _, mode := range []string{"auto", "off"} {
		s, err := pipelineSample(ctx, files, mode, 2)
		if err != nil || s.Bytes != want || s.Seconds <= 0 || s.RepoSize <= 0 {
			t.Errorf("pipeline %s: %+v, %v; want %d bytes", mode, s, err, want)
		}
	}
}
