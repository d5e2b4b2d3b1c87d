package dataset

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFiles returns the content of every regular file under dir.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nonFiles is the manifest without its regular files.
func nonFiles(m *Manifest) *Manifest {
	out := &Manifest{}
	for _, e := range m.Entries {
		if e.Type != "file" {
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

// TestMutate runs at scale 0.005 (125 files, ~7 MB): at tinier scales one
// file is already more than 5% of them.
func TestMutate(t *testing.T) {
	p := Params{Seed: 7, Scale: 0.005}
	dir, _ := generate(t, p)
	before := readFiles(t, dir)
	m0 := scan(t, dir)
	changes, err := Mutate(dir, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	after := readFiles(t, dir)
	m1 := scan(t, dir)

	if d := Diff(nonFiles(m0), nonFiles(m1)); d != nil {
		t.Errorf("Mutate changed more than file contents:\n%s", strings.Join(d, "\n"))
	}
	if len(after) != len(before) {
		t.Errorf("%d files before, %d after", len(before), len(after))
	}
	changed := map[string]bool{}
	for rel, b := range after {
		if !bytes.Equal(b, before[rel]) {
			changed[rel] = true
		}
	}
	pct := 100 * float64(len(changed)) / float64(len(before))
	if pct < 3 || pct > 8 {
		t.Errorf("%d of %d files changed (%.1f%%), want 3-8%%", len(changed), len(before), pct)
	}
	kinds := map[ChangeKind]int{}
	for _, c := range changes {
		kinds[c.Kind]++
		if !changed[c.Rel] {
			t.Errorf("%s: reported as %s but unchanged", c.Rel, c.Kind)
		}
		delete(changed, c.Rel)
		checkChange(t, c, before[c.Rel], after[c.Rel])
	}
	for rel := range changed {
		t.Errorf("%s changed but Mutate did not report it", rel)
	}
	if kinds[Append] == 0 || kinds[Overwrite] == 0 {
		t.Errorf("changes by kind: %v, want both appends and overwrites", kinds)
	}

	// The same round on a fresh copy makes the same change; Reset undoes it.
	dir2, _ := generate(t, p)
	if _, err := Mutate(dir2, p, 1); err != nil {
		t.Fatal(err)
	}
	if m2 := scan(t, dir2); m2.Sum != m1.Sum {
		t.Errorf("round 1 differs between two copies:\n%s", strings.Join(Diff(m1, m2), "\n"))
	}
	rels := make([]string, len(changes))
	for i, c := range changes {
		rels[i] = c.Rel
	}
	if err := Reset(dir, p, rels); err != nil {
		t.Fatal(err)
	}
	if m := scan(t, dir); m.Sum != m0.Sum {
		t.Errorf("Reset did not restore the tree:\n%s", strings.Join(Diff(m0, m), "\n"))
	}
}

// checkChange verifies that old became new only in the way c describes.
func checkChange(t *testing.T, c Change, old, new []byte) {
	t.Helper()
	limit := int64(MaxSmallAppend)
	switch {
	case strings.HasPrefix(c.Rel, "random/"):
		limit = MiB
	case strings.HasPrefix(c.Rel, "text/"):
		limit = int64(len(old))/50 + KiB
	case c.Kind == Overwrite:
		limit = MaxSmallOverwrite
	}
	if c.Len <= 0 || c.Len > limit {
		t.Errorf("%s: %s of %d bytes, want 1-%d", c.Rel, c.Kind, c.Len, limit)
	}
	switch c.Kind {
	case Append:
		if c.Offset != int64(len(old)) || int64(len(new)) != c.Offset+c.Len || !bytes.Equal(new[:len(old)], old) {
			t.Errorf("%s: not an append of %d bytes at %d (size %d -> %d, or old content changed)",
				c.Rel, c.Len, c.Offset, len(old), len(new))
		}
	case Overwrite:
		end := c.Offset + c.Len
		if len(new) != len(old) || !bytes.Equal(new[:c.Offset], old[:c.Offset]) || !bytes.Equal(new[end:], old[end:]) {
			t.Errorf("%s: not an in-place overwrite of [%d,%d) (size %d -> %d)", c.Rel, c.Offset, end, len(old), len(new))
		}
	default:
		t.Errorf("%s: unknown change kind %q", c.Rel, c.Kind)
	}
}
