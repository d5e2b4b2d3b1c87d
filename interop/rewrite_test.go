package interop_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestRewriteExclude: hbackup rewrites a restic and an hbackup snapshot
// without excluded paths. The new snapshots keep time, host and paths,
// get the tag "rewrite" and name their original; they restore as the
// originals minus the excluded files with both tools, and restic checks
// every byte. Rewriting again is a no-op, as in restic; --forget replaces
// the snapshot instead.
func TestRewriteExclude(t *testing.T) {
	m := newMixedRepo(t, false, noRawLink(t))
	exclFile := filepath.Join(t.TempDir(), "excludes")
	if err := os.WriteFile(exclFile, []byte("# comment\ndedup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	excludeArgs := []string{"--exclude", "*.txt", "--exclude-file", exclFile, "--iexclude", "RANDOM-3MIB"}
	excluded := []string{"dirs/a/b/c/deep.txt", "dirs/a/sibling.txt", "dedup", "files/random-3MiB"}
	origs := resticSnapshots(t, m.restic)

	out := m.hb.run(t, append([]string{"rewrite", "--dry-run"}, excludeArgs...)...)
	if !strings.Contains(string(out), "would modify 2 snapshots") || len(resticSnapshots(t, m.restic)) != 2 {
		t.Fatalf("rewrite --dry-run:\n%s", out)
	}
	out = m.hb.run(t, append([]string{"rewrite"}, excludeArgs...)...)
	if !strings.Contains(string(out), "modified 2 snapshots") {
		t.Fatalf("rewrite:\n%s", out)
	}
	all := resticSnapshots(t, m.restic)
	if len(all) != 4 {
		t.Fatalf("%d snapshots after rewrite", len(all))
	}
	var rewritten []string
	for _, o := range origs {
		var n *snapInfo
		for i := range all {
			if all[i].Original == o.ID {
				n = &all[i]
			}
		}
		if n == nil {
			t.Fatalf("no rewritten version of %s", o.ID)
		}
		wantTags := append(slices.Clone(o.Tags), "rewrite")
		if n.Time != o.Time || n.Hostname != o.Hostname || !slices.Equal(n.Paths, o.Paths) || !slices.Equal(n.Tags, wantTags) {
			t.Fatalf("rewritten %+v from %+v", n, o)
		}
		rewritten = append(rewritten, n.ID)
		ls := string(m.restic.Run(t, "ls", n.ID))
		for _, x := range excluded {
			if strings.Contains(ls, m.src+"/"+x) {
				t.Errorf("%s still in the rewritten snapshot", x)
			}
		}
		was := restoreBoth(t, m.restic, m.dir, o.ID, m.src)
		now := restoreBoth(t, m.restic, m.dir, n.ID, m.src)
		for _, x := range excluded {
			if err := os.RemoveAll(filepath.Join(was, x)); err != nil {
				t.Fatal(err)
			}
		}
		testutil.CompareTrees(t, was, now, testutil.CompareOptions{IgnoreDirMtime: true})
	}
	requireResticCheck(t, m.restic)

	// Nothing left to exclude, or nothing matching: no new snapshot.
	out = m.hb.run(t, append(append([]string{"rewrite"}, excludeArgs...), rewritten...)...)
	if !strings.Contains(string(out), "no snapshots were modified") {
		t.Fatalf("second rewrite:\n%s", out)
	}
	out = m.hb.run(t, "rewrite", "--exclude", "no-such-name")
	if !strings.Contains(string(out), "no snapshots were modified") || len(resticSnapshots(t, m.restic)) != 4 {
		t.Fatalf("rewrite excluding nothing:\n%s", out)
	}

	// --forget replaces the snapshot: no extra tag, the old file is gone.
	target := rewritten[len(rewritten)-1]
	m.hb.run(t, "rewrite", "--forget", "--exclude", "new-file", target)
	all = resticSnapshots(t, m.restic)
	if len(all) != 4 {
		t.Fatalf("%d snapshots after rewrite --forget", len(all))
	}
	found := false
	for _, sn := range all {
		if sn.ID == target {
			t.Fatalf("rewrite --forget kept %s", target)
		}
		if sn.Original == target {
			found = true
			if strings.Count(strings.Join(sn.Tags, ","), "rewrite") != 1 {
				t.Errorf("tags %v", sn.Tags)
			}
			if strings.Contains(string(m.restic.Run(t, "ls", sn.ID)), m.src+"/new-file") {
				t.Error("new-file still in the snapshot")
			}
		}
	}
	if !found {
		t.Fatal("no snapshot with original " + target)
	}
	requireResticCheck(t, m.restic)
}
