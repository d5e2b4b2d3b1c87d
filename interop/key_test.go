package interop_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

type keyEntry struct {
	Current  bool   `json:"current"`
	ID       string `json:"id"`
	UserName string `json:"userName"`
	HostName string `json:"hostName"`
	Created  string `json:"created"`
}

// TestKeyInterop adds keys with each tool, compares `key list --json` of
// both, and removes keys across tools; restic check passes throughout.
func TestKeyInterop(t *testing.T) {
	m := newMixedRepo(t, false)
	pw := func(s string) string {
		p := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m.hb.run(t, "key", "add", "--new-password-file", pw("by-hbackup"), "--user", "hu", "--host", "hhost")
	m.restic.Run(t, "key", "add", "--new-password-file", pw("by-restic"), "--user", "ru", "--host", "rhost")

	list := func(who string) []keyEntry {
		var out []byte
		if who == "restic" {
			out = m.restic.Run(t, "key", "list", "--json")
		} else {
			out = m.hb.run(t, "key", "list", "--json")
		}
		var keys []keyEntry
		if err := json.Unmarshal(out, &keys); err != nil {
			t.Fatalf("%s key list: %v\n%s", who, err, out)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
		return keys
	}
	want, got := list("restic"), list("hbackup")
	if len(want) != 3 || !equalKeys(want, got) {
		t.Fatalf("key lists differ:\nrestic  %+v\nhbackup %+v", want, got)
	}

	// Each new password opens the repository with the other tool.
	m.restic.Password = "by-hbackup"
	m.restic.Run(t, "snapshots")
	m.hb.password = "by-restic"
	m.hb.run(t, "snapshots")

	// hbackup (opened with restic's key) removes its own key; restic,
	// opened with the original password, then lists two keys.
	var hbKey string
	for _, k := range got {
		if k.UserName == "hu" {
			hbKey = k.ID
		}
	}
	m.hb.run(t, "key", "remove", hbKey)
	m.restic.Password = "geheim"
	if keys := list("restic"); len(keys) != 2 {
		t.Fatalf("after remove: %+v", keys)
	}
	// passwd by hbackup; restic opens with the new password only.
	m.hb.run(t, "key", "passwd", "--new-password-file", pw("changed"))
	m.restic.Password = "by-restic"
	if _, _, code := m.restic.RunErr("snapshots"); code == 0 {
		t.Fatal("restic still opens with the replaced password")
	}
	m.restic.Password = "changed"
	m.checkWithRestic(t)
}

func equalKeys(a, b []keyEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
