package restorer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
)

// backupTestTree backs up a tree from testutil.MakeTestTree and returns
// its info and the snapshot's root tree.
func backupTestTree(t *testing.T, f *fixture) (testutil.TreeInfo, repo.ID) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 7, Special: true})
	t.Logf("test tree: %d paths, xattrs %v, fifo %v, devices %v/%v, chown %v, unreadable %v", len(info.Paths),
		info.Xattrs, info.Fifo, info.CharDevice, info.BlockDevice, info.Chown, info.Unreadable)
	var errs errorLog
	res, err := archiver.Backup(f.ctx, f.r, archiver.Options{Paths: []string{src}, OnError: errs.onError})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if len(errs.errs) > 0 {
		t.Fatalf("backup reported errors: %v", errs.errs)
	}
	return info, *res.Snapshot.Tree
}

func compareOptions(info testutil.TreeInfo) testutil.CompareOptions {
	return testutil.CompareOptions{Owner: info.Chown, Xattrs: info.Xattrs, Sparse: true}
}

// TestRoundTripWholeSnapshot restores the whole snapshot, so the source
// directory's own metadata comes from its node too.
func TestRoundTripWholeSnapshot(t *testing.T) {
	f := newFixture(t)
	info, root := backupTestTree(t, f)
	target := filepath.Join(t.TempDir(), "restore")
	var log errorLog
	st, err := Restore(f.ctx, f.r, root, target, Options{
		Owner: testutil.IsRoot(), Verify: true, Sparse: true, OnError: log.onError,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(log.errs) > 0 {
		t.Errorf("restore reported errors: %v", log.errs)
	}
	testutil.CompareTrees(t, info.Root, filepath.Join(target, info.Root), compareOptions(info))
	if st.Verified == 0 || st.Verified+hardlinkExtras(info) != st.Files {
		t.Errorf("stats %+v: every file but extra hardlinks should be verified", *st)
	}
}

// TestRoundTripSubtree restores only the source directory, as the CLI
// does for snapshot:sub/folder.
func TestRoundTripSubtree(t *testing.T) {
	f := newFixture(t)
	info, root := backupTestTree(t, f)
	sub, err := snapshot.FindSubtree(f.ctx, f.r, root, info.Root)
	if err != nil {
		t.Fatal(err)
	}
	// The target's own mode is not in the subtree; match it up front.
	fi, err := os.Stat(info.Root)
	must(t, err)
	target := filepath.Join(t.TempDir(), "restore")
	must(t, os.Mkdir(target, fi.Mode().Perm()))
	must(t, os.Chmod(target, fi.Mode().Perm()))
	if _, err := Restore(f.ctx, f.r, sub, target, Options{Owner: testutil.IsRoot(), Sparse: true}); err != nil {
		t.Fatal(err)
	}
	opt := compareOptions(info)
	opt.IgnoreRootMtime = true
	testutil.CompareTrees(t, info.Root, target, opt)
}

// hardlinkExtras counts the paths of MakeTestTree's hardlink groups beyond
// the first of each group (pair: 1, triple: 2).
func hardlinkExtras(info testutil.TreeInfo) uint64 {
	n := uint64(0)
	for _, p := range info.Paths {
		if strings.HasSuffix(p, "pair-2") || strings.HasSuffix(p, "triple-2") || strings.HasSuffix(p, "triple-3") {
			n++
		}
	}
	return n
}
