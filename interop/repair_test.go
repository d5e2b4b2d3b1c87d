package interop_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
)

// TestRepairIndexDeletedIndex: with every index file gone, repair index
// indexes all packs again from their headers; restic then finds no error
// and both snapshots restore as before. rebuild-index --read-all-packs
// then replaces every index file and changes nothing else.
func TestRepairIndexDeletedIndex(t *testing.T) {
	m := newMixedRepo(t, false, noRawLink(t))
	before := listFiles(t, m.dir, backend.IndexFile)
	for _, id := range before {
		if err := os.Remove(filepath.Join(m.dir, "index", id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, code := m.restic.RunErr("check"); code == 0 {
		t.Fatal("restic check passed without any index")
	}
	_, stderr, code := m.hb.runErr("repair", "index")
	if code != 0 || !strings.Contains(string(stderr), "adding pack file to index") {
		t.Fatalf("repair index: exit %d\n%s", code, stderr)
	}
	out := requireResticCheck(t, m.restic)
	if strings.Contains(out, "not referenced in any index") {
		t.Fatalf("packs left unindexed:\n%s", out)
	}
	for _, sn := range resticSnapshots(t, m.restic) {
		restored := restoreBoth(t, m.restic, m.dir, sn.ID, m.src)
		if sn.Hostname == "hh" {
			testutil.CompareTrees(t, m.src, restored, testutil.CompareOptions{IgnoreRootMtime: true})
		}
	}

	rebuilt := listFiles(t, m.dir, backend.IndexFile)
	m.hb.run(t, "rebuild-index", "--read-all-packs")
	after := listFiles(t, m.dir, backend.IndexFile)
	for _, id := range after {
		if slices.Contains(rebuilt, id) {
			t.Errorf("index file %s survived --read-all-packs", id)
		}
	}
	requireResticCheck(t, m.restic)
}

// TestRepairIndexUnindexedPack: a pack uploaded without an index file (a
// backup killed between the two) is added to the index.
func TestRepairIndexUnindexedPack(t *testing.T) {
	m := newMixedRepo(t, false, noRawLink(t))
	ctx := context.Background()
	before := listFiles(t, m.dir, backend.IndexFile)
	r := openRepo(t, m.dir)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	blob, _, err := r.SaveBlob(ctx, repo.DataBlob, testutil.RandomBytes(77, 300<<10))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range listFiles(t, m.dir, backend.IndexFile) {
		if !slices.Contains(before, id) {
			if err := os.Remove(filepath.Join(m.dir, "index", id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out := m.restic.Run(t, "check"); !strings.Contains(string(out), "not referenced in any index") {
		t.Fatalf("restic check does not see the unindexed pack:\n%s", out)
	}

	_, stderr, code := m.hb.runErr("repair", "index")
	if code != 0 || strings.Count(string(stderr), "adding pack file to index") != 1 {
		t.Fatalf("repair index: exit %d, want one pack added\n%s", code, stderr)
	}
	out := requireResticCheck(t, m.restic)
	if strings.Contains(out, "not referenced in any index") {
		t.Fatalf("pack still unindexed:\n%s", out)
	}
	r2 := openRepo(t, m.dir)
	if err := r2.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !r2.Index().Has(repo.BlobHandle{ID: blob, Type: repo.DataBlob}) {
		t.Fatal("blob of the unindexed pack is not in the new index")
	}
}

// TestRepairMissingPack: a data pack is deleted. repair index drops it,
// restic check then reports the snapshot's missing blobs, and repair
// snapshots writes a snapshot without them (tagged "repaired", original
// set); once the broken one is forgotten, restic check --read-data passes
// and everything but the damaged files restores as before.
func TestRepairMissingPack(t *testing.T) {
	m := newMixedRepo(t, false, noRawLink(t))
	var hbSnap, resticSnap snapInfo
	for _, sn := range resticSnapshots(t, m.restic) {
		if sn.Hostname == "hh" {
			hbSnap = sn
		} else {
			resticSnap = sn
		}
	}
	pack, damaged := packOf(t, m.dir, hbSnap.ID, m.src+"/new-dir/big")
	if len(damaged) == 0 {
		t.Fatal("no damaged file")
	}
	orig := restoreBoth(t, m.restic, m.dir, hbSnap.ID, m.src)
	removePack(t, m.dir, pack)

	_, stderr, code := m.hb.runErr("repair", "index")
	if code != 0 || !strings.Contains(string(stderr), "removing not found pack file "+pack) {
		t.Fatalf("repair index: exit %d\n%s", code, stderr)
	}
	if _, _, code := m.restic.RunErr("check"); code == 0 {
		t.Fatal("restic check passed with blobs missing")
	}

	out := m.hb.run(t, "repair", "snapshots", "--dry-run")
	if !strings.Contains(string(out), "would modify 1 snapshots") {
		t.Fatalf("repair snapshots --dry-run:\n%s", out)
	}
	if n := len(resticSnapshots(t, m.restic)); n != 2 {
		t.Fatalf("dry run changed the snapshots: %d", n)
	}
	out = m.hb.run(t, "repair", "snapshots")
	if !strings.Contains(string(out), "removed missing content") || !strings.Contains(string(out), "modified 1 snapshots") {
		t.Fatalf("repair snapshots:\n%s", out)
	}
	var repaired snapInfo
	for _, sn := range resticSnapshots(t, m.restic) {
		switch sn.ID {
		case hbSnap.ID, resticSnap.ID:
		default:
			repaired = sn
		}
	}
	if repaired.Original != hbSnap.ID || !slices.Contains(repaired.Tags, "repaired") || repaired.Hostname != "hh" || repaired.Time != hbSnap.Time {
		t.Fatalf("repaired snapshot %+v, from %+v", repaired, hbSnap)
	}
	m.hb.run(t, "forget", hbSnap.ID)
	requireResticCheck(t, m.restic)

	got := restoreBoth(t, m.restic, m.dir, repaired.ID, m.src)
	for _, p := range damaged {
		rel := strings.TrimPrefix(p, m.src+"/")
		was, err1 := os.Stat(filepath.Join(orig, rel))
		now, err2 := os.Stat(filepath.Join(got, rel))
		if err1 != nil || err2 != nil || now.Size() >= was.Size() {
			t.Fatalf("damaged %s: before %v %v, after %v %v", rel, was, err1, now, err2)
		}
		for _, dir := range []string{orig, got} {
			if err := os.Remove(filepath.Join(dir, rel)); err != nil {
				t.Fatal(err)
			}
		}
	}
	testutil.CompareTrees(t, orig, got, testutil.CompareOptions{IgnoreDirMtime: true})

	// The restic snapshot lost nothing, so a second run changes nothing.
	out = m.hb.run(t, "repair", "snapshots")
	if !strings.Contains(string(out), "no snapshots were modified") {
		t.Fatalf("second repair snapshots:\n%s", out)
	}
}

// TestRepairMissingTreePack: the pack holding the root tree of hbackup's
// snapshot is deleted; repair snapshots removes that snapshot, as restic
// does, and leaves restic's intact, which then checks and restores.
func TestRepairMissingTreePack(t *testing.T) {
	m := newMixedRepo(t, false, noRawLink(t))
	var hbSnap, resticSnap snapInfo
	for _, sn := range resticSnapshots(t, m.restic) {
		if sn.Hostname == "hh" {
			hbSnap = sn
		} else {
			resticSnap = sn
		}
	}
	pack := rootTreePack(t, m.dir, hbSnap.ID)
	if pack == rootTreePack(t, m.dir, resticSnap.ID) {
		t.Fatal("both snapshots' root trees are in one pack")
	}
	removePack(t, m.dir, pack)
	m.hb.run(t, "repair", "index")

	out := string(m.hb.run(t, "repair", "snapshots", "--forget"))
	if !strings.Contains(out, `dir "/": not readable`) || !strings.Contains(out, "removed empty snapshot "+hbSnap.ID[:8]) {
		t.Fatalf("repair snapshots:\n%s", out)
	}
	sns := resticSnapshots(t, m.restic)
	if len(sns) != 1 || sns[0].ID != resticSnap.ID {
		t.Fatalf("snapshots after repair: %+v", sns)
	}
	requireResticCheck(t, m.restic)
	restoreBoth(t, m.restic, m.dir, resticSnap.ID, m.src)
}
