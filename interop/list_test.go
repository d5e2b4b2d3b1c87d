package interop_test

import (
	"slices"
	"strings"
	"testing"
)

// TestListInterop compares `list` of every type with restic's.
func TestListInterop(t *testing.T) {
	m := newMixedRepo(t, false)
	for _, kind := range []string{"blobs", "packs", "index", "snapshots", "keys", "locks"} {
		want := strings.Split(strings.TrimSpace(string(m.restic.Run(t, "list", kind))), "\n")
		got := strings.Split(strings.TrimSpace(string(m.hb.run(t, "list", kind))), "\n")
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("list %s:\nrestic  %q\nhbackup %q", kind, want, got)
		}
		if kind != "locks" && len(got) == 0 {
			t.Errorf("list %s: empty", kind)
		}
	}
}
