package interop_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDiffInterop compares diff output (text and JSON, with and without
// --metadata, both directions) with restic's, across a restic and an
// hbackup snapshot and across two hbackup snapshots with a type change.
func TestDiffInterop(t *testing.T) {
	m := newMixedRepo(t, true)
	var sns []struct {
		ShortID string `json:"short_id"`
	}
	// A third snapshot: a file turned into a directory, one removed.
	target := filepath.Join(m.src, "new-file")
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(target, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(m.src, "new-dir")); err != nil {
		t.Fatal(err)
	}
	m.hb.run(t, "backup", "-q", m.src)
	m.restic.RunJSON(t, &sns, "snapshots")
	if len(sns) != 3 {
		t.Fatalf("snapshots: %+v", sns)
	}
	for _, pair := range [][2]int{{0, 1}, {1, 0}, {1, 2}, {0, 2}} {
		a, b := sns[pair[0]].ShortID, sns[pair[1]].ShortID
		for _, flags := range [][]string{nil, {"--metadata"}, {"--json"}, {"--json", "--metadata"}} {
			args := append(append([]string{"diff"}, flags...), a, b)
			want := m.restic.Run(t, args...)
			got := m.hb.run(t, args...)
			if !bytes.Equal(want, got) {
				t.Errorf("%v:\nrestic:\n%s\nhbackup:\n%s", args, want, got)
			}
		}
	}
}
