package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hbackup/hbackup/repo"
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
		boundOf("bound-verify blobs", 2, 3.5),
		boundOf("bound-verify packs", 1.5, 2.8),
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
		{"restore", 2, 2, 3.5},    // opening blobs alone
		{"check", 2, 1.5, 2.8},    // opening packs and blobs alone
		{"forget-prune", 2, 0, 0}, // no bound
	} {
		wall, cpu := boundFor(c.scenario, bounds, c.cores)
		if math.Abs(wall-c.wall) > 1e-9 || math.Abs(cpu-c.cpu) > 1e-9 {
			t.Errorf("boundFor(%s, %d cores) = %v, %v; want %v, %v", c.scenario, c.cores, wall, cpu, c.wall, c.cpu)
		}
	}
	// With the files' writing measured, restore needs both CPU times.
	bounds = append(bounds, boundOf("bound-write", 2.5, 4))
	if wall, cpu := boundFor("restore", bounds, 2); math.Abs(wall-3.75) > 1e-9 || math.Abs(cpu-7.5) > 1e-9 {
		t.Errorf("boundFor(restore) with bound-write = %v, %v; want 3.75, 7.5", wall, cpu)
	}
	// Every command derives the key too; a no-change backup lists and
	// lstats the source besides.
	bounds = append(bounds, boundOf("bound-kdf", 0.3, 0.5), boundOf("bound-stat", 0.2, 0.3))
	for _, c := range []struct {
		scenario  string
		wall, cpu float64
	}{
		{"backup-auto", 3.6, 7.2},     // (0.5 + 0.8 + 5.9) / 2
		{"backup-nochange", 0.4, 0.8}, // (0.5 + 0.3) / 2
		{"check", 1.65, 3.3},          // (0.5 + 2.8) / 2
		{"forget-prune", 0, 0},
	} {
		wall, cpu := boundFor(c.scenario, bounds, 2)
		if math.Abs(wall-c.wall) > 1e-9 || math.Abs(cpu-c.cpu) > 1e-9 {
			t.Errorf("boundFor(%s) with bound-kdf = %v, %v; want %v, %v", c.scenario, wall, cpu, c.wall, c.cpu)
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

// bound-verify must really verify: build packs of a few files, open every
// blob, and get all of their bytes back.
func TestVerifySample(t *testing.T) {
	dir := t.TempDir()
	var want int64
	for i, size := range []int{3 << 20, 200 << 10, 5000} {
		data := bytes.Repeat([]byte{byte('a' + i), 'x', byte(i)}, size/3)
		if i == 0 {
			for j := range data { // incompressible: stored as is
				data[j] = byte(j*7919 + j>>8*31)
			}
		}
		want += int64(len(data))
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files, err := sourceFiles(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, packHash := range []bool{true, false} {
		s, err := verifySample(context.Background(), files, packHash, 2)
		if err != nil {
			t.Fatal(err)
		}
		// Repeated chunks are stored once, so at most the files' bytes.
		if s.Bytes <= 0 || s.Bytes > want || s.RepoSize <= 0 {
			t.Errorf("packHash %v: %d bytes verified of %d, %d sealed", packHash, s.Bytes, want, s.RepoSize)
		}
	}
}

// The pipeline hashes two packs at a time as they fill: every pack ID it
// computes must still be the SHA-256 of the pack's bytes.
func TestPipelinePackIDs(t *testing.T) {
	p, err := newPipeline("off")
	if err != nil {
		t.Fatal(err)
	}
	p.packSize = 4 << 20 // several chunks per pack, several packs
	kept := p.keepPacks()
	rng := rand.New(rand.NewPCG(1, 2))
	var files [][]byte
	for range 24 {
		data := make([]byte, 1<<20+rng.IntN(1<<20))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		files = append(files, data)
	}
	if _, err := p.run(t.Context(), files, p.workers(2)); err != nil {
		t.Fatal(err)
	}
	packs := kept()
	if len(packs) < 6 {
		t.Fatalf("%d packs, want at least 6", len(packs))
	}
	for i, mp := range packs {
		if want := repo.ID(sha256.Sum256(mp.data)); mp.id != want {
			t.Errorf("pack %d (%d bytes): ID %v, want %v", i, len(mp.data), mp.id, want)
		}
	}
}
