package zfs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/zfs"
)

// These tests run the real zfs-fuse (see testutil.NewZFSPool).

func TestZFSFuseCapabilities(t *testing.T) {
	p := testutil.NewZFSPool(t)
	caps, err := p.Runner.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("zfs", "-?").CombinedOutput()
	if want := zfs.ParseUsage(string(out)); caps != want {
		t.Fatalf("caps %+v, want %+v", caps, want)
	}
	if caps.RawSend || caps.Bookmarks || caps.ReceiveNoMount {
		t.Logf("this zfs is not zfs-fuse 0.7: %+v", caps)
	}
}

func TestDatasetsAndSnapshots(t *testing.T) {
	ctx := context.Background()
	p := testutil.NewZFSPool(t)
	r := p.Runner
	a := p.CreateDataset(t, "a", nil)
	b := p.CreateDataset(t, "a/b", nil)

	d, err := r.Dataset(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != a || d.Type != "filesystem" || !d.Mounted || d.Mountpoint != p.Path("a") || d.Available == 0 || d.Creation.IsZero() {
		t.Fatalf("dataset %+v", d)
	}
	all, err := r.Datasets(ctx, p.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range all {
		names = append(names, d.Name)
	}
	if want := []string{p.Name, a, b}; !slices.Equal(names, want) {
		t.Fatalf("datasets %v, want %v", names, want)
	}
	if one, err := r.Datasets(ctx, a, false); err != nil || len(one) != 1 || one[0].Name != a {
		t.Fatalf("non-recursive datasets %+v, %v", one, err)
	}

	if err := r.Snapshot(ctx, []string{a + "@one"}, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Snapshot(ctx, []string{a + "@two"}, true, map[string]string{"hbackup:test": "x"}); err != nil {
		t.Fatal(err)
	}
	snaps, err := r.Snapshots(ctx, a, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].Name != "one" || snaps[1].Name != "two" || snaps[0].CreateTXG >= snaps[1].CreateTXG || snaps[0].GUID == 0 {
		t.Fatalf("snapshots %+v", snaps)
	}
	rec, err := r.Snapshots(ctx, a, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 3 || rec[2].FullName() != b+"@two" && rec[1].FullName() != b+"@two" {
		t.Fatalf("recursive snapshots %+v", rec)
	}
	if got, err := r.Get(ctx, a+"@two", "hbackup:test"); err != nil || got["hbackup:test"] != "x" {
		t.Fatalf("user property %v, %v", got, err)
	}
	// Snapshot of several datasets at once needs OpenZFS.
	caps, _ := r.Capabilities(ctx)
	err = r.Snapshot(ctx, []string{a + "@three", b + "@three"}, false, nil)
	if !caps.MultiSnapshot && !errors.Is(err, zfs.ErrUnsupported) {
		t.Fatalf("multi snapshot on zfs-fuse: %v", err)
	}

	if err := r.Rename(ctx, a+"@one", "uno"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, a+"@uno", "guid"); err != nil {
		t.Fatal(err)
	}
	if err := r.Clone(ctx, a+"@uno", p.Name+"/c", nil); err != nil {
		t.Fatal(err)
	}
	c, err := r.Dataset(ctx, p.Name+"/c")
	if err != nil || c.Origin != a+"@uno" {
		t.Fatalf("clone %+v, %v", c, err)
	}
	if err := r.Destroy(ctx, a+"@uno", zfs.DestroyOptions{}); !errors.Is(err, zfs.ErrBusy) {
		t.Fatalf("destroying a clone's origin: %v, want ErrBusy", err)
	}
	if err := r.Destroy(ctx, p.Name+"/c", zfs.DestroyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Destroy(ctx, a+"@two", zfs.DestroyOptions{Recursive: true}); err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Snapshots(ctx, a, true); err != nil || len(rec) != 1 {
		t.Fatalf("after destroy -r: %+v, %v", rec, err)
	}
	pools, err := r.Pools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pl := range pools {
		found = found || pl.Name == p.Name && pl.Health == "ONLINE" && pl.Size > 200<<20
	}
	if !found {
		t.Fatalf("pool %s not in %+v", p.Name, pools)
	}
}

func TestHolds(t *testing.T) {
	ctx := context.Background()
	p := testutil.NewZFSPool(t)
	r := p.Runner
	a := p.CreateDataset(t, "a", nil)
	snap := a + "@s"
	if err := r.Snapshot(ctx, []string{snap}, false, nil); err != nil {
		t.Fatal(err)
	}
	if tags, err := r.Holds(ctx, snap); err != nil || len(tags) != 0 {
		t.Fatalf("holds of a fresh snapshot: %v, %v", tags, err)
	}
	if err := r.Hold(ctx, "hbackup", snap); err != nil {
		t.Fatal(err)
	}
	if err := r.Hold(ctx, "hbackup", snap); !errors.Is(err, zfs.ErrExists) {
		t.Fatalf("second hold with the same tag: %v, want ErrExists", err)
	}
	snaps, err := r.Snapshots(ctx, a, false)
	if err != nil || len(snaps) != 1 || snaps[0].UserRefs != 1 {
		t.Fatalf("snapshots %+v, %v", snaps, err)
	}
	caps, _ := r.Capabilities(ctx)
	tags, err := r.Holds(ctx, snap)
	if caps.Holds {
		if err != nil || !slices.Equal(tags, []string{"hbackup"}) {
			t.Fatalf("holds %v, %v", tags, err)
		}
	} else if !errors.Is(err, zfs.ErrUnsupported) {
		t.Fatalf("holds on zfs-fuse: %v, %v; want ErrUnsupported", tags, err)
	}
	if err := r.Destroy(ctx, snap, zfs.DestroyOptions{}); !errors.Is(err, zfs.ErrBusy) {
		t.Fatalf("destroying a held snapshot: %v, want ErrBusy", err)
	}
	if err := r.Release(ctx, "other", snap); !errors.Is(err, zfs.ErrNotExist) {
		t.Fatalf("releasing a missing tag: %v, want ErrNotExist", err)
	}
	if err := r.Release(ctx, "hbackup", snap); err != nil {
		t.Fatal(err)
	}
	if err := r.Destroy(ctx, snap, zfs.DestroyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestErrorKinds(t *testing.T) {
	ctx := context.Background()
	p := testutil.NewZFSPool(t)
	r := p.Runner
	a := p.CreateDataset(t, "a", nil)

	_, err := r.Dataset(ctx, p.Name+"/missing")
	var ce *zfs.CommandError
	if !errors.Is(err, zfs.ErrNotExist) || !errors.As(err, &ce) || ce.ExitCode != 1 || ce.Stderr == "" {
		t.Fatalf("missing dataset: %#v", err)
	}
	if _, err := r.Snapshots(ctx, "nopool"+p.Name, false); !errors.Is(err, zfs.ErrNotExist) {
		t.Fatalf("snapshots of a missing pool's dataset: %v", err)
	}
	if err := r.Create(ctx, a, nil); !errors.Is(err, zfs.ErrExists) {
		t.Fatalf("creating an existing dataset: %v", err)
	}
	if err := r.Create(ctx, a+"/x/y", nil); !errors.Is(err, zfs.ErrNotExist) {
		t.Fatalf("creating without the parent: %v", err)
	}
	if err := r.CreateAll(ctx, a+"/x/y", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Snapshot(ctx, []string{a + "@x"}, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Snapshot(ctx, []string{a + "@x"}, false, nil); !errors.Is(err, zfs.ErrExists) {
		t.Fatalf("duplicate snapshot: %v", err)
	}
	if err := r.Mount(ctx, a); !errors.Is(err, zfs.ErrExists) {
		t.Fatalf("mounting a mounted dataset: %v", err)
	}
	if _, err := (&zfs.Runner{}).Pools(ctx); err != nil {
		t.Fatalf("zero Runner: %v", err)
	}
	if _, err := r.Bookmarks(ctx, a); err != nil {
		t.Fatal(err)
	}
	caps, _ := r.Capabilities(ctx)
	if !caps.Bookmarks {
		if err := r.Bookmark(ctx, a+"@x", a+"#x"); !errors.Is(err, zfs.ErrUnsupported) {
			t.Fatalf("bookmark on zfs-fuse: %v", err)
		}
	}

	// A busy dataset: a process has its working directory inside.
	busy := exec.Command("sleep", "1000")
	busy.Dir = p.Path("a")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	err = r.Unmount(ctx, a, false)
	_ = busy.Process.Kill()
	_ = busy.Wait()
	if !errors.Is(err, zfs.ErrBusy) {
		t.Fatalf("unmount of a busy dataset: %v, want ErrBusy", err)
	}
	if d, err := r.Dataset(ctx, a); err != nil || !d.Mounted {
		t.Fatalf("after a failed unmount: %+v, %v", d, err)
	}
	if err := r.Unmount(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.Path("a"), "nothing")); !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if d, err := r.Dataset(ctx, a); err != nil || d.Mounted {
		t.Fatalf("after unmount: %+v, %v", d, err)
	}
	if err := r.Mount(ctx, a); err != nil {
		t.Fatal(err)
	}
}

func TestMissingBinary(t *testing.T) {
	r := &zfs.Runner{ZFS: filepath.Join(t.TempDir(), "no-zfs")}
	_, err := r.Dataset(context.Background(), "p/a")
	if err == nil || !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing binary: %v", err)
	}
}

// zfs-fuse often reports a just-unmounted filesystem busy; Destroy must
// still succeed at once for a mounted clone nobody uses.
func TestDestroyMountedClone(t *testing.T) {
	ctx := context.Background()
	p := testutil.NewZFSPool(t)
	r := p.Runner
	a := p.CreateDataset(t, "a", nil)
	if err := r.Snapshot(ctx, []string{a + "@s"}, false, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		c := p.Name + "/clone"
		if err := r.Clone(ctx, a+"@s", c, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.Destroy(ctx, c, zfs.DestroyOptions{}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	if err := r.Destroy(ctx, a+"@s", zfs.DestroyOptions{}); err != nil {
		t.Fatal(err)
	}
}
