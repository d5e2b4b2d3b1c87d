package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tiny keeps the tests fast: one 100 KiB random file, 20 small files.
const tiny = 0.001

func generate(t *testing.T, p Params) (string, Stats) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := Generate(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func scan(t *testing.T, dir string) *Manifest {
	t.Helper()
	m, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGenerateIsDeterministic(t *testing.T) {
	p := Params{Seed: 1, Scale: tiny}
	a, st := generate(t, p)
	b, _ := generate(t, p)
	c, _ := generate(t, Params{Seed: 2, Scale: tiny})
	ma, mb, mc := scan(t, a), scan(t, b), scan(t, c)
	if ma.Sum != mb.Sum {
		t.Errorf("same seed, different trees:\n%s", strings.Join(Diff(ma, mb), "\n"))
	}
	if ma.Sum == mc.Sum {
		t.Error("seeds 1 and 2 gave the same tree")
	}
	if len(Diff(ma, mc)) == 0 {
		t.Error("Diff found nothing between seeds 1 and 2")
	}
	if st.Files != ma.Files || st.Bytes != ma.Bytes || st.Symlinks != ma.Symlinks || st.Dirs != ma.Dirs {
		t.Errorf("Generate reported %+v, the scan found files=%d bytes=%d symlinks=%d dirs=%d",
			st, ma.Files, ma.Bytes, ma.Symlinks, ma.Dirs)
	}
}

func TestGenerateShape(t *testing.T) {
	dir, st := generate(t, Params{Seed: 1, Scale: tiny})
	if want := 1 + 4 + 20 + 20; st.Files != want {
		t.Errorf("%d files, want %d (1 random, 4 text, 20 small, 20 empty)", st.Files, want)
	}
	for rel, want := range map[string]string{"links/to-file": "../random/r000.bin", "small/d01/s01/link-up": ".."} {
		if got, err := os.Readlink(filepath.Join(dir, rel)); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", rel, got, err, want)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, "text/data/metrics.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "timestamp,host,metric,") {
		t.Errorf("metrics.csv does not start with the CSV header (%v)", err)
	}
	for _, d := range emptyDirs() {
		if ents, err := os.ReadDir(filepath.Join(dir, d)); err != nil || len(ents) > 0 {
			t.Errorf("%s: %d entries (%v), want an empty dir", d, len(ents), err)
		}
	}
	if _, err := Generate(dir, Params{Seed: 1, Scale: tiny}); err == nil {
		t.Error("Generate into a non-empty dir succeeded")
	}
}

// TestLayoutScale checks sizes and counts without writing anything.
func TestLayoutScale(t *testing.T) {
	for _, tc := range []struct {
		scale         float64
		random, small int
		minMB, maxMB  float64
		leafDirs      int
	}{
		{1, 100, 20000, 1450, 1650, 200},
		{0.1, 10, 2000, 145, 165, 200},
	} {
		l := newLayout(Params{Seed: 1, Scale: tc.scale})
		var bytes int64
		leaves := map[string]bool{}
		for _, s := range l.all() {
			bytes += s.size
			if s.kind == kindSmall {
				leaves[filepath.Dir(s.rel)] = true
			}
		}
		mb := float64(bytes) / 1e6
		if len(l.random) != tc.random || len(l.small) != tc.small || len(leaves) != tc.leafDirs ||
			mb < tc.minMB || mb > tc.maxMB {
			t.Errorf("scale %g: %d random, %d small in %d dirs, %.0f MB; want %d, %d in %d, %.0f-%.0f MB",
				tc.scale, len(l.random), len(l.small), len(leaves), mb, tc.random, tc.small, tc.leafDirs, tc.minMB, tc.maxMB)
		}
	}
}

func TestDiffReportsEachKind(t *testing.T) {
	want := &Manifest{Entries: []Entry{
		{Rel: "a", Type: "file", Perm: 0o644, Size: 1, SHA256: "aa"},
		{Rel: "b", Type: "symlink", Target: "x"},
		{Rel: "c", Type: "dir", Perm: 0o755},
	}}
	got := &Manifest{Entries: []Entry{
		{Rel: "a", Type: "file", Perm: 0o644, Size: 1, SHA256: "bb"},
		{Rel: "b", Type: "symlink", Target: "y"},
		{Rel: "d", Type: "dir", Perm: 0o755},
	}}
	d := Diff(want, got)
	if len(d) != 4 || !strings.HasPrefix(d[0], "a: want file") || !strings.HasPrefix(d[1], "b: want symlink") ||
		!strings.HasPrefix(d[2], "c: missing") || !strings.HasPrefix(d[3], "d: unexpected") {
		t.Errorf("Diff =\n%s", strings.Join(d, "\n"))
	}
	if d := Diff(want, want); d != nil {
		t.Errorf("Diff of equal manifests = %q", d)
	}
}
