package zfs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/zfs"
)

// snapNames lists the snapshot names of ds, oldest first.
func snapNames(t *testing.T, r *zfs.Runner, ds string) []string {
	t.Helper()
	snaps, err := r.Snapshots(context.Background(), ds, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range snaps {
		names = append(names, s.Name)
	}
	return names
}

func userRefs(t *testing.T, r *zfs.Runner, snap string) string {
	t.Helper()
	p, err := r.Get(context.Background(), snap, "userrefs")
	if err != nil {
		t.Fatal(err)
	}
	return p["userrefs"]
}

func TestReplicateFullThenIncremental(t *testing.T) {
	ctx := context.Background()
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	src := sp.CreateDataset(t, "home", nil)
	dst := dp.Name + "/backup/home"
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("home"), "a"), 3<<20, 1)
	if err := sp.Runner.Snapshot(ctx, []string{src + "@first"}, false, nil); err != nil {
		t.Fatal(err)
	}
	var progress int64
	o := zfs.ReplicateOptions{Source: src, Target: dst, Progress: func(n int64) { progress = n }}
	res, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.Created == "" || res.Latest != res.Created || res.Bytes < 3<<20 || progress == 0 {
		t.Fatalf("first run %+v (progress %d)", res, progress)
	}
	testutil.CompareTrees(t, sp.Path("home"), dp.Path("backup/home"), testutil.CompareOptions{IgnoreRootMtime: true})
	if got, want := snapNames(t, dp.Runner, dst), []string{"first", res.Created}; !slices.Equal(got, want) {
		t.Fatalf("target snapshots %v, want %v", got, want)
	}
	// The last common snapshot is held on both sides.
	for _, s := range []struct {
		r    *zfs.Runner
		snap string
	}{{sp.Runner, src + "@" + res.Created}, {dp.Runner, dst + "@" + res.Created}} {
		if refs := userRefs(t, s.r, s.snap); refs != "1" {
			t.Fatalf("%s userrefs %s, want 1", s.snap, refs)
		}
	}
	first := res.Created

	// Changes and an intermediate snapshot, then an incremental run.
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("home"), "b"), 1<<20, 2)
	if err := sp.Runner.Snapshot(ctx, []string{src + "@manual"}, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(sp.Path("home"), "a")); err != nil {
		t.Fatal(err)
	}
	res, err = zfs.Replicate(ctx, sp.Runner, dp.Runner, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Full || res.Common != first || res.Latest != res.Created || res.Bytes == 0 || res.Bytes > 2<<20 {
		t.Fatalf("incremental run %+v", res)
	}
	testutil.CompareTrees(t, sp.Path("home"), dp.Path("backup/home"), testutil.CompareOptions{IgnoreRootMtime: true})
	// The previous replication snapshot is released and pruned on both
	// sides; the intermediate one arrived.
	want := []string{"first", "manual", res.Created}
	if got := snapNames(t, dp.Runner, dst); !slices.Equal(got, want) {
		t.Fatalf("target snapshots %v, want %v", got, want)
	}
	if got := snapNames(t, sp.Runner, src); !slices.Equal(got, want) {
		t.Fatalf("source snapshots %v, want %v", got, want)
	}

	// Nothing new: an up-to-date run sends nothing.
	o.NoSnapshot = true
	res2, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, o)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Bytes != 0 || res2.Latest != res.Created || res2.Created != "" {
		t.Fatalf("up-to-date run %+v", res2)
	}
}

func TestReplicateNoCommonSnapshot(t *testing.T) {
	ctx := context.Background()
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	src := sp.CreateDataset(t, "home", nil)
	dst := dp.CreateDataset(t, "home", nil)
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("home"), "a"), 1<<20, 1)
	testutil.WriteRandomFile(t, filepath.Join(dp.Path("home"), "other"), 1<<10, 2)
	if err := dp.Runner.Snapshot(ctx, []string{dst + "@unrelated"}, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := sp.Runner.Snapshot(ctx, []string{src + "@s1"}, false, nil); err != nil {
		t.Fatal(err)
	}
	o := zfs.ReplicateOptions{Source: src, Target: dst}
	_, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, o)
	if !errors.Is(err, zfs.ErrNoCommonSnapshot) {
		t.Fatalf("got %v, want ErrNoCommonSnapshot", err)
	}
	// Nothing left behind, nothing overwritten.
	if got := snapNames(t, sp.Runner, src); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("source snapshots after failure %v", got)
	}
	if got := snapNames(t, dp.Runner, dst); !slices.Equal(got, []string{"unrelated"}) {
		t.Fatalf("target snapshots after failure %v", got)
	}
	if _, err := os.Stat(filepath.Join(dp.Path("home"), "other")); err != nil {
		t.Fatal(err)
	}
	// A target without snapshots is no better.
	empty := dp.CreateDataset(t, "empty", nil)
	if _, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, zfs.ReplicateOptions{Source: src, Target: empty, NoSnapshot: true}); !errors.Is(err, zfs.ErrNoCommonSnapshot) {
		t.Fatalf("empty target: %v", err)
	}
	o.Force = true
	res, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full {
		t.Fatalf("forced run %+v", res)
	}
	testutil.CompareTrees(t, sp.Path("home"), dp.Path("home"), testutil.CompareOptions{IgnoreRootMtime: true})
}

func TestReplicateMissingSource(t *testing.T) {
	ctx := context.Background()
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	_, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, zfs.ReplicateOptions{Source: sp.Name + "/nope", Target: dp.Name + "/x"})
	if !errors.Is(err, zfs.ErrNotExist) {
		t.Fatalf("got %v, want ErrNotExist", err)
	}
	if _, err := dp.Runner.Dataset(ctx, dp.Name+"/x"); !errors.Is(err, zfs.ErrNotExist) {
		t.Fatalf("target created anyway: %v", err)
	}
	// A source without snapshots, told not to take one.
	src := sp.CreateDataset(t, "bare", nil)
	if _, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, zfs.ReplicateOptions{Source: src, Target: dp.Name + "/x", NoSnapshot: true}); err == nil {
		t.Fatal("replicating a source without snapshots succeeded")
	}
}

func TestReplicateInterruptedThenRerun(t *testing.T) {
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	src := sp.CreateDataset(t, "data", nil)
	dst := dp.Name + "/data"
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("data"), "big"), 24<<20, 3)
	if err := sp.Runner.Snapshot(context.Background(), []string{src + "@base"}, false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := zfs.ReplicateOptions{Source: src, Target: dst,
		Progress: func(n int64) {
			if n >= 4<<20 {
				cancel() // kill the transfer midway
			}
		}}
	res, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %+v, %v; want context.Canceled", res, err)
	}
	if res.Bytes < 4<<20 || res.Bytes >= 24<<20 {
		t.Fatalf("interrupted after %d bytes", res.Bytes)
	}
	if got := userRefs(t, sp.Runner, src+"@base"); got != "0" {
		t.Fatalf("hold left on the source: userrefs %s", got)
	}
	// The snapshot this run took is gone again.
	if got := snapNames(t, sp.Runner, src); !slices.Equal(got, []string{"base"}) {
		t.Fatalf("source snapshots after the interrupted run: %v", got)
	}
	caps, err := dp.Runner.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !caps.ResumableReceive {
		// zfs-fuse's daemon removes the aborted receive's dataset on its
		// own schedule; on a loaded machine that can take a moment.
		var err error
		for range 300 {
			if _, err = dp.Runner.Dataset(context.Background(), dst); errors.Is(err, zfs.ErrNotExist) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !errors.Is(err, zfs.ErrNotExist) {
			t.Fatalf("zfs-fuse kept a partial target: %v", err)
		}
	}
	// zfs-fuse has no resumable receive: the rerun starts over and completes.
	o.Progress = nil
	res, err = zfs.Replicate(context.Background(), sp.Runner, dp.Runner, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.Latest != res.Created || res.Created == "" {
		t.Fatalf("rerun %+v", res)
	}
	testutil.CompareTrees(t, sp.Path("data"), dp.Path("data"), testutil.CompareOptions{IgnoreRootMtime: true})
}

func TestReplicateBandwidthLimit(t *testing.T) {
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	src := sp.CreateDataset(t, "d", nil)
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("d"), "f"), 2<<20, 4)
	// The limiter's burst caps each write, so a limit shows as many small
	// progress steps, each no larger than the burst.
	var steps []int64
	o := zfs.ReplicateOptions{Source: src, Target: dp.Name + "/d", BytesPerSecond: 64 << 20,
		Progress: func(n int64) { steps = append(steps, n) }}
	if _, err := zfs.Replicate(context.Background(), sp.Runner, dp.Runner, o); err != nil {
		t.Fatal(err)
	}
	prev := int64(0)
	for _, s := range steps {
		if s-prev > 256<<10 {
			t.Fatalf("a write of %d bytes passed a limiter with a 256 KiB burst", s-prev)
		}
		prev = s
	}
	if len(steps) < 8 {
		t.Fatalf("only %d progress steps for 2 MiB", len(steps))
	}
}

// A target that --force must destroy but that is in use fails with
// ErrBusy, leaving the source as it was and the target untouched.
func TestReplicateBusyTarget(t *testing.T) {
	ctx := context.Background()
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	src := sp.CreateDataset(t, "home", nil)
	dst := dp.CreateDataset(t, "home", nil)
	if err := dp.Runner.Snapshot(ctx, []string{dst + "@unrelated"}, false, nil); err != nil {
		t.Fatal(err)
	}
	busy := exec.Command("sleep", "1000")
	busy.Dir = dp.Path("home")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Process.Kill(); _ = busy.Wait() }()
	_, err := zfs.Replicate(ctx, sp.Runner, dp.Runner, zfs.ReplicateOptions{Source: src, Target: dst, Force: true})
	if !errors.Is(err, zfs.ErrBusy) {
		t.Fatalf("got %v, want ErrBusy", err)
	}
	if got := snapNames(t, sp.Runner, src); len(got) != 0 {
		t.Fatalf("stray source snapshots %v", got)
	}
	if got := snapNames(t, dp.Runner, dst); !slices.Equal(got, []string{"unrelated"}) {
		t.Fatalf("target snapshots %v", got)
	}
	if d, err := dp.Runner.Dataset(ctx, dst); err != nil || !d.Mounted {
		t.Fatalf("target after the failure: %+v, %v", d, err)
	}
}
