package interop_test

import (
	"encoding/json"
	"slices"
	"testing"
)

type taggedSnapshot struct {
	ID       string   `json:"id"`
	Tags     []string `json:"tags"`
	Original string   `json:"original"`
	Hostname string   `json:"hostname"`
}

// TestTagInterop tags with hbackup and reads the result with restic:
// tags and original as restic would write them, and check passes. Then
// restic re-tags an hbackup-tagged snapshot, keeping original.
func TestTagInterop(t *testing.T) {
	m := newMixedRepo(t, false)
	var before []taggedSnapshot
	m.restic.RunJSON(t, &before, "snapshots")
	if len(before) != 2 {
		t.Fatalf("snapshots: %+v", before)
	}
	m.hb.run(t, "tag", "--add", "extra,more")
	m.hb.run(t, "tag", "--remove", "r", "--host", "hr")

	var after []taggedSnapshot
	m.restic.RunJSON(t, &after, "snapshots")
	want := map[string][]string{"hr": {"extra", "more"}, "hh": {"h", "extra", "more"}}
	for i, sn := range after {
		if !slices.Equal(sn.Tags, want[sn.Hostname]) || sn.Original != before[i].ID || sn.ID == before[i].ID {
			t.Fatalf("snapshot %d after tagging: %+v (was %s)", i, sn, before[i].ID)
		}
	}
	m.checkWithRestic(t)

	// restic changes an hbackup-tagged snapshot: original is untouched.
	m.restic.Run(t, "tag", "--set", "final", "--host", "hh")
	var last []taggedSnapshot
	if err := json.Unmarshal(m.hb.run(t, "snapshots", "--json", "--host", "hh"), &last); err != nil {
		t.Fatal(err)
	}
	if len(last) != 1 || !slices.Equal(last[0].Tags, []string{"final"}) || last[0].Original != before[1].ID {
		t.Fatalf("after restic tag: %+v", last)
	}
}
