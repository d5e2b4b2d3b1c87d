package interop_test

import (
	"bytes"
	"testing"
)

// TestStatsInterop compares `stats --json` (and the text report) of both
// tools in every mode, for all snapshots and for one; the tree has hard
// links, duplicate files and a restic and an hbackup snapshot.
func TestStatsInterop(t *testing.T) {
	m := newMixedRepo(t, true)
	for _, mode := range []string{"restore-size", "files-by-contents", "raw-data", "blobs-per-file"} {
		for _, extra := range [][]string{{"--json"}, {"--json", "latest"}, {"--json", "--host", "hr"}, {}} {
			args := append([]string{"stats", "--mode", mode}, extra...)
			want := m.restic.Run(t, args...)
			got := m.hb.run(t, args...)
			if !bytes.Equal(want, got) {
				t.Errorf("%v:\nrestic  %s\nhbackup %s", args, want, got)
			}
		}
	}
}
