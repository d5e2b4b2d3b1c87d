package snapsource_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"github.com/hbackup/hbackup/zfs"
	"github.com/hbackup/hbackup/zfs/snapsource"
)

const password = "geheim"

func newRepo(t *testing.T) (string, *repo.Repository) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	be, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, password, repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return dir, r
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// backup freezes the datasets, backs them up and releases them.
func backup(t *testing.T, z *zfs.Runner, r *repo.Repository, parent *snapshot.Snapshot, opts snapsource.Options) (*archiver.Result, *archiver.Progress) {
	t.Helper()
	ctx := context.Background()
	f, err := snapsource.Freeze(ctx, z, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Datasets {
		if d.Source == d.Mountpoint || d.Source == "" {
			t.Fatalf("dataset %s read from %q, not from its snapshot", d.Name, d.Source)
		}
	}
	progress := &archiver.Progress{}
	res, err := archiver.Backup(ctx, r, archiver.Options{
		Paths: f.Paths(), Redirects: f.Redirects(), Tags: f.Tags(), Parent: parent, Progress: progress,
	})
	if rerr := f.Release(ctx); rerr != nil {
		t.Errorf("release: %v", rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, progress
}

// subtree returns the tree ID of the directory at path in the snapshot.
func subtree(t *testing.T, r *repo.Repository, sn *snapshot.Snapshot, path string) repo.ID {
	t.Helper()
	id := *sn.Tree
	for _, comp := range strings.Split(strings.Trim(path, "/"), "/") {
		tree, err := snapshot.LoadTree(context.Background(), r, id)
		if err != nil {
			t.Fatal(err)
		}
		n := tree.Find(comp)
		if n == nil || n.Subtree == nil {
			t.Fatalf("no directory %q on the way to %s", comp, path)
		}
		id = *n.Subtree
	}
	return id
}

// assertNoLeftovers checks that no snapshot, clone or hold is left.
func assertNoLeftovers(t *testing.T, pool *testutil.ZFSPool, datasets ...string) {
	t.Helper()
	ctx := context.Background()
	for _, ds := range datasets {
		snaps, err := pool.Runner.Snapshots(ctx, ds, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps {
			t.Errorf("snapshot left behind: %s (userrefs %d)", s.FullName(), s.UserRefs)
		}
	}
	all, err := pool.Runner.Datasets(ctx, pool.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.Origin != "" && d.Origin != "-" {
			t.Errorf("clone left behind: %s (origin %s)", d.Name, d.Origin)
		}
	}
}

// The whole cycle: back up from a snapshot, change one file, back up
// again. The second run reads only the changed file, unchanged
// directories keep their tree IDs, restic accepts the repository, and
// restic restores the real path with the content of the second snapshot.
func TestBackupFromSnapshots(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	restic := testutil.RequireBinary(t, "restic")
	_ = restic
	ds := pool.CreateDataset(t, "home", nil)
	live := pool.Path("home")
	for _, dir := range []string{"a", "b", "c/deep"} {
		for i := range 3 {
			writeFile(t, filepath.Join(live, dir, fmt.Sprintf("f%d", i)), strings.Repeat(dir, 1000+i))
		}
	}
	if err := os.Symlink("a/f0", filepath.Join(live, "link")); err != nil {
		t.Fatal(err)
	}
	repoDir, r := newRepo(t)
	opts := snapsource.Options{Datasets: []string{ds}, MountDir: t.TempDir()}

	res1, p1 := backup(t, pool.Runner, r, nil, opts)
	if got := res1.Snapshot.Paths; len(got) != 1 || got[0] != live {
		t.Fatalf("paths %v, want [%s]: the real mount point", got, live)
	}
	if !hasTagPrefix(res1.Snapshot.Tags, "zfs-snapshot="+ds+"@hbackup-") {
		t.Errorf("tags %v lack the ZFS snapshot name", res1.Snapshot.Tags)
	}
	if p1.FilesNew.Load() != 9 {
		t.Errorf("first backup: %d new files, want 9", p1.FilesNew.Load())
	}
	assertNoLeftovers(t, pool, ds)

	// A change after the first snapshot, then one more during the
	// second backup's snapshot lifetime must not be seen.
	writeFile(t, filepath.Join(live, "a", "f1"), "changed")
	parent, err := snapshot.Load(context.Background(), r, res1.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	opts.Time = time.Now().Add(2 * time.Second) // a distinct snapshot name
	res2, p2 := backup(t, pool.Runner, r, parent, opts)
	if p2.FilesChanged.Load() != 1 || p2.FilesNew.Load() != 0 || p2.FilesUnmodified.Load() != 8 {
		t.Errorf("second backup: changed %d new %d unmodified %d, want 1/0/8",
			p2.FilesChanged.Load(), p2.FilesNew.Load(), p2.FilesUnmodified.Load())
	}
	for _, dir := range []string{"b", "c", "c/deep"} {
		if a, b := subtree(t, r, res1.Snapshot, live+"/"+dir), subtree(t, r, res2.Snapshot, live+"/"+dir); a != b {
			t.Errorf("unchanged directory %s: tree %s then %s; device IDs not normalised?", dir, a.Str(), b.Str())
		}
	}
	if a, b := subtree(t, r, res1.Snapshot, live+"/a"), subtree(t, r, res2.Snapshot, live+"/a"); a == b {
		t.Errorf("changed directory a kept its tree ID")
	}
	assertNoLeftovers(t, pool, ds)

	rc := testutil.NewRestic(t, repoDir, password)
	rc.Run(t, "check", "--read-data")
	target := t.TempDir()
	rc.Run(t, "restore", "latest", "--target", target)
	testutil.CompareTrees(t, live, filepath.Join(target, live), testutil.CompareOptions{IgnoreRootMtime: true})
}

func hasTagPrefix(tags []string, prefix string) bool {
	for _, tg := range tags {
		if strings.HasPrefix(tg, prefix) {
			return true
		}
	}
	return false
}

// With Keep, the ZFS snapshot stays, released.
func TestKeepSnapshot(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "data", nil)
	writeFile(t, filepath.Join(pool.Path("data"), "x"), "x")
	_, r := newRepo(t)
	backup(t, pool.Runner, r, nil, snapsource.Options{Datasets: []string{ds}, MountDir: t.TempDir(), Keep: true})
	snaps, err := pool.Runner.Snapshots(context.Background(), ds, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || !strings.HasPrefix(snaps[0].Name, "hbackup-") || snaps[0].UserRefs != 0 {
		t.Fatalf("snapshots after a kept backup: %+v, want one released hbackup-*", snaps)
	}
}

// Several datasets in one backup, nested ones included: each is read
// from its own snapshot.
func TestSeveralDatasets(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	home := pool.CreateDataset(t, "home", nil)
	user := pool.CreateDataset(t, "home/user", nil)
	writeFile(t, filepath.Join(pool.Path("home"), "top"), "top")
	writeFile(t, filepath.Join(pool.Path("home/user"), "mine"), "mine")
	_, r := newRepo(t)
	res, _ := backup(t, pool.Runner, r, nil, snapsource.Options{Datasets: []string{home, user}, MountDir: t.TempDir()})
	ctx := context.Background()
	tree, err := snapshot.LoadTree(ctx, r, subtree(t, r, res.Snapshot, pool.Path("home/user")))
	if err != nil {
		t.Fatal(err)
	}
	if n := tree.Find("mine"); n == nil || n.Size != 4 {
		t.Fatalf("home/user/mine missing or wrong in the snapshot: %+v", n)
	}
	if len(res.Snapshot.Tags) != 2 {
		t.Errorf("tags %v, want one per dataset", res.Snapshot.Tags)
	}
	assertNoLeftovers(t, pool, home, user)
}

// A missing dataset is a clear error and leaves nothing behind on the
// datasets that do exist.
func TestMissingDataset(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "ok", nil)
	_, err := snapsource.Freeze(context.Background(), pool.Runner, snapsource.Options{
		Datasets: []string{ds, pool.Name + "/missing"}, MountDir: t.TempDir(),
	})
	if !errors.Is(err, zfs.ErrNotExist) || !strings.Contains(err.Error(), pool.Name+"/missing") {
		t.Fatalf("error %v, want ErrNotExist naming the dataset", err)
	}
	assertNoLeftovers(t, pool, ds)
}

// A run killed mid-backup leaves a held snapshot and a clone; the next run
// removes them, but leaves a live process's snapshot and kept snapshots.
func TestLeftoversOfDeadRunsAreRemoved(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ctx := context.Background()
	ds := pool.CreateDataset(t, "home", nil)
	writeFile(t, filepath.Join(pool.Path("home"), "x"), "x")
	host, _ := os.Hostname()

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadOwner := fmt.Sprintf("%s:%d", host, dead.Process.Pid)
	liveOwner := fmt.Sprintf("%s:%d", host, os.Getppid())
	z := pool.Runner
	mk := func(name, owner string, hold bool) string {
		full := ds + "@" + name
		if err := z.Snapshot(ctx, []string{full}, false, map[string]string{"hbackup:owner": owner}); err != nil {
			t.Fatal(err)
		}
		if hold {
			if err := z.Hold(ctx, snapsource.HoldTag, full); err != nil {
				t.Fatal(err)
			}
		}
		return full
	}
	crashed := mk("hbackup-20200101T000000Z", deadOwner, true)
	clone := pool.Name + "/crashed-clone"
	if err := z.Clone(ctx, crashed, clone, map[string]string{"readonly": "on", "mountpoint": filepath.Join(t.TempDir(), "c")}); err != nil {
		t.Fatal(err)
	}
	running := mk("hbackup-20200101T000001Z", liveOwner, true)
	kept := mk("hbackup-20200101T000002Z", deadOwner, false)
	t.Cleanup(func() { _ = z.Release(ctx, snapsource.HoldTag, running) })

	if err := snapsource.Cleanup(ctx, z, []string{ds}, "", nil); err != nil {
		t.Fatal(err)
	}
	snaps, err := z.Snapshots(ctx, ds, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range snaps {
		names = append(names, s.FullName())
	}
	if strings.Join(names, " ") != running+" "+kept {
		t.Errorf("snapshots after cleanup: %v, want [%s %s]", names, running, kept)
	}
	if _, err := z.Dataset(ctx, clone); !errors.Is(err, zfs.ErrNotExist) {
		t.Errorf("crashed run's clone: %v, want it destroyed", err)
	}
}

// A user without ZFS rights gets a clear permission error and nothing is
// created.
func TestNoPermission(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "home", nil)
	setpriv := testutil.RequireBinary(t, "setpriv")
	nobody := &zfs.Runner{ZFS: pool.Runner.ZFS, ZPool: pool.Runner.ZPool,
		Wrapper: []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}}
	_, err := snapsource.Freeze(context.Background(), nobody, snapsource.Options{Datasets: []string{ds}, MountDir: t.TempDir()})
	if !errors.Is(err, zfs.ErrPermission) && !errors.Is(err, zfs.ErrUnavailable) {
		t.Fatalf("error %v, want a permission error", err)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "permission denied") {
		t.Errorf("message %q does not say permission denied", err)
	}
	assertNoLeftovers(t, pool, ds)
}

// A clone that is busy (a process has a file open in it) cannot be
// destroyed: Release says so, and a later Release finishes the job.
func TestBusyCloneIsReleasedLater(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "home", nil)
	writeFile(t, filepath.Join(pool.Path("home"), "f"), "content")
	ctx := context.Background()
	f, err := snapsource.Freeze(ctx, pool.Runner, snapsource.Options{Datasets: []string{ds}, MountDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	open, err := os.Open(filepath.Join(f.Datasets[0].Source, "f"))
	if err != nil {
		t.Fatal(err)
	}
	rerr := f.Release(ctx)
	open.Close()
	if !errors.Is(rerr, zfs.ErrBusy) || !strings.Contains(rerr.Error(), f.Datasets[0].Clone) {
		t.Errorf("release of a busy clone: %v, want ErrBusy naming the clone", rerr)
	}
	if err := f.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	assertNoLeftovers(t, pool, ds)
}

// An interrupted backup (its context cancelled, as on SIGINT) still
// releases everything: Release does not use the cancelled context.
func TestReleaseAfterInterrupt(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "home", nil)
	writeFile(t, filepath.Join(pool.Path("home"), "f"), "content")
	ctx, cancel := context.WithCancel(context.Background())
	f, err := snapsource.Freeze(ctx, pool.Runner, snapsource.Options{Datasets: []string{ds}, MountDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, r := newRepo(t)
	cancel()
	if _, err := archiver.Backup(ctx, r, archiver.Options{Paths: f.Paths(), Redirects: f.Redirects()}); !errors.Is(err, context.Canceled) {
		t.Fatalf("backup with a cancelled context: %v", err)
	}
	if err := f.Release(ctx); err != nil {
		t.Fatalf("release after the interrupt: %v", err)
	}
	assertNoLeftovers(t, pool, ds)
}
