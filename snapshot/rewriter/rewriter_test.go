package rewriter_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/rewriter"
)

func newRepo(t *testing.T) *repo.Repository {
	t.Helper()
	r, err := repo.Init(context.Background(), mem.New(), "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func saveSnapshot(t *testing.T, r *repo.Repository, tree repo.ID) *snapshot.Snapshot {
	t.Helper()
	sn := &snapshot.Snapshot{Time: time.Unix(1700000000, 0).UTC(), Tree: &tree, Paths: []string{"/src"}, Hostname: "h", Tags: []string{"t"}}
	if _, err := snapshot.Save(context.Background(), r, sn); err != nil {
		t.Fatal(err)
	}
	return sn
}

func snapshotExists(t *testing.T, r *repo.Repository, id repo.ID) bool {
	_, err := r.Backend().Stat(context.Background(), backend.Handle{Type: backend.SnapshotFile, Name: id.String()})
	return err == nil
}

// Repair drops missing blobs from files, empties unreadable directories
// and keeps everything else; --forget removes the broken snapshot.
func TestRepair(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	good, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte("still here"))
	if err != nil {
		t.Fatal(err)
	}
	lostBlob := repo.Hash([]byte("never stored"))
	lostTree := repo.Hash([]byte("no such tree"))
	sub, err := snapshot.SaveTree(ctx, r, &snapshot.Tree{Nodes: []*snapshot.Node{
		{Name: "f", Type: snapshot.NodeTypeFile, Size: 100, Content: []repo.ID{good, lostBlob}},
		{Name: "whole", Type: snapshot.NodeTypeFile, Size: 10, Content: []repo.ID{good}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	root, err := snapshot.SaveTree(ctx, r, &snapshot.Tree{Nodes: []*snapshot.Node{
		{Name: "lost", Type: snapshot.NodeTypeDir, Subtree: &lostTree},
		{Name: "ok", Type: snapshot.NodeTypeDir, Subtree: &sub},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := saveSnapshot(t, r, root)
	old := sn.ID()

	type event struct {
		ev rewriter.RepairEvent
		p  string
	}
	var events []event
	tr := rewriter.Repair(r.Index(), func(ev rewriter.RepairEvent, p string) { events = append(events, event{ev, p}) })
	res, err := rewriter.Snapshot(ctx, r, sn, tr, rewriter.Options{Forget: true, Tag: "repaired", DryRun: true})
	if err != nil || res.Outcome != rewriter.Rewritten || !snapshotExists(t, r, old) || *sn.Tree != root {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	events = nil
	res, err = rewriter.Snapshot(ctx, r, sn, tr, rewriter.Options{Forget: true, Tag: "repaired"})
	if err != nil || res.Outcome != rewriter.Rewritten {
		t.Fatalf("repair: %+v %v", res, err)
	}
	want := []event{{rewriter.EmptiedDir, "/lost"}, {rewriter.MissingContent, "/ok/f"}}
	if !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	if snapshotExists(t, r, old) || !snapshotExists(t, r, res.NewID) || *sn.Original != old || !slices.Equal(sn.Tags, []string{"t"}) {
		t.Fatalf("snapshot files or fields wrong: %+v", sn)
	}
	empty := repo.Hash([]byte("{\"nodes\":[]}\n"))
	n, err := snapshot.FindNode(ctx, r, *sn.Tree, "/lost")
	if err != nil || *n.Subtree != empty {
		t.Fatalf("/lost: %v %v", n, err)
	}
	f, err := snapshot.FindNode(ctx, r, *sn.Tree, "/ok/f")
	if err != nil || !slices.Equal(f.Content, []repo.ID{good}) || f.Size != 10 {
		t.Fatalf("/ok/f: %+v %v", f, err)
	}
	w, err := snapshot.FindNode(ctx, r, *sn.Tree, "/ok/whole")
	if err != nil || w.Size != 10 {
		t.Fatalf("/ok/whole: %+v %v", w, err)
	}
}

// A snapshot whose root tree is gone is removed (not in a dry run).
func TestRepairUnreadableRoot(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	sn := saveSnapshot(t, r, repo.Hash([]byte("gone")))
	var events []rewriter.RepairEvent
	tr := rewriter.Repair(r.Index(), func(ev rewriter.RepairEvent, _ string) { events = append(events, ev) })
	for _, dry := range []bool{true, false} {
		res, err := rewriter.Snapshot(ctx, r, sn, tr, rewriter.Options{DryRun: dry})
		if err != nil || res.Outcome != rewriter.Removed || snapshotExists(t, r, sn.ID()) == !dry {
			t.Fatalf("dry run %v: %+v %v", dry, res, err)
		}
	}
	if !slices.Equal(events, []rewriter.RepairEvent{rewriter.UnreadableRoot, rewriter.UnreadableRoot}) {
		t.Fatalf("events %v", events)
	}
}

// A tree that would not re-encode to its own ID is not rewritten by
// exclusion (fields could be lost), but repair may.
func TestUnstableTree(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	odd := []byte(`{"nodes": [{"name":"a.tmp","type":"file","mtime":"2020-01-01T00:00:00Z","atime":"2020-01-01T00:00:00Z","ctime":"2020-01-01T00:00:00Z","uid":0,"gid":0,"content":[]}]}`)
	root, _, err := r.SaveBlob(ctx, repo.TreeBlob, odd)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ex, err := filter.NewExcluder(filter.ExcludeOptions{Excludes: []string{"*.tmp"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rewriter.Exclude(ex, nil).Rewrite(ctx, r, root)
	if !errors.Is(err, rewriter.ErrUnstableTree) {
		t.Fatalf("exclude from an unstable tree: %v", err)
	}
	tr := rewriter.Repair(r.Index(), nil)
	if id, err := tr.Rewrite(ctx, r, root); err != nil || id != root {
		t.Fatalf("repair of an intact unstable tree: %v %v", id, err)
	}
}
