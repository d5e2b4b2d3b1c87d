package copier_test

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"github.com/hbackup/hbackup/snapshot/copier"
)

var fastKDF = crypto.Params{N: 1024, R: 8, P: 1}

func newRepo(t *testing.T, password string, version uint, pol chunk.Polynomial) *repo.Repository {
	t.Helper()
	r, err := repo.Init(context.Background(), mem.New(), password, repo.InitOptions{Version: version, Polynomial: pol, KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// makeData writes a few random files (several chunks each) and a
// compressible text file.
func makeData(t *testing.T, dir string, seed int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		testutil.WriteRandomFile(t, filepath.Join(dir, "r", string(rune('a'+i))), 3<<19, seed+int64(i))
	}
	text := strings.Repeat("the same line of text, over and over\n", 20000)
	if err := os.WriteFile(filepath.Join(dir, "text.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func backup(t *testing.T, r *repo.Repository, dir, host string, tags ...string) *snapshot.Snapshot {
	t.Helper()
	res, err := archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{dir}, Host: host, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	return res.Snapshot
}

// files reads every file below a tree into a map of path to content.
func files(t *testing.T, r *repo.Repository, tree repo.ID) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := make(map[string][]byte)
	var walk func(dir string, id repo.ID)
	walk = func(dir string, id repo.ID) {
		tr, err := snapshot.LoadTree(ctx, r, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tr.Nodes {
			p := path.Join(dir, n.Name)
			if n.Subtree != nil {
				walk(p, *n.Subtree)
			}
			var buf bytes.Buffer
			for _, c := range n.Content {
				b, err := r.LoadBlob(ctx, repo.DataBlob, c, nil)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				buf.Write(b)
			}
			out[p] = buf.Bytes()
		}
	}
	walk("/", tree)
	return out
}

func copyAll(t *testing.T, src, dst *repo.Repository, sel copier.Selection) *copier.Result {
	t.Helper()
	ctx := context.Background()
	s, err := copier.Open(ctx, src, sel)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.CopyTo(ctx, dst, copier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func loadAll(t *testing.T, r *repo.Repository) []*snapshot.Snapshot {
	t.Helper()
	sns, err := snapshot.LoadAll(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return sns
}

// TestCopyV1ToV2 copies between repositories with different passwords,
// polynomials and versions, checks contents and metadata, and that a
// second copy writes nothing.
func TestCopyV1ToV2(t *testing.T) {
	dir := t.TempDir()
	makeData(t, dir, 1)
	src := newRepo(t, "source pw", 1, 0)
	dst := newRepo(t, "destination pw", 2, 0)
	first := backup(t, src, dir, "h1", "a")
	testutil.WriteRandomFile(t, filepath.Join(dir, "r", "new"), 1<<20, 99)
	r2, err := archiver.Backup(context.Background(), src, archiver.Options{Paths: []string{dir}, Host: "h1", Tags: []string{"b"}, Parent: first})
	if err != nil {
		t.Fatal(err)
	}
	second := r2.Snapshot
	if second.Parent == nil {
		t.Fatal("test setup: second backup has no parent")
	}

	res := copyAll(t, src, dst, copier.Selection{})
	if len(res.Copied) != 2 || len(res.Skipped) != 0 || res.DataBlobs == 0 || res.TreeBlobs == 0 {
		t.Fatalf("first copy: %+v", res)
	}
	got := loadAll(t, dst)
	if len(got) != 2 {
		t.Fatalf("destination has %d snapshots", len(got))
	}
	for i, want := range []*snapshot.Snapshot{first, second} {
		g := got[i]
		if g.Original == nil || *g.Original != want.ID() {
			t.Errorf("copy %d: original %v, want %v", i, g.Original, want.ID())
		}
		if g.Parent != nil {
			t.Errorf("copy %d keeps parent %v", i, g.Parent)
		}
		if !g.Time.Equal(want.Time) || *g.Tree != *want.Tree || g.Hostname != want.Hostname ||
			strings.Join(g.Tags, ",") != strings.Join(want.Tags, ",") || g.Summary == nil || g.ProgramVersion != want.ProgramVersion {
			t.Errorf("copy %d: metadata differs:\n got %+v\nwant %+v", i, g, want)
		}
		wantFiles, gotFiles := files(t, src, *want.Tree), files(t, dst, *g.Tree)
		if len(gotFiles) != len(wantFiles) {
			t.Fatalf("copy %d: %d files, want %d", i, len(gotFiles), len(wantFiles))
		}
		for p, b := range wantFiles {
			if !bytes.Equal(gotFiles[p], b) {
				t.Errorf("copy %d: %s differs", i, p)
			}
		}
	}
	// v2 destination: the text file's blobs are stored compressed.
	compressed := 0
	dst.Index().Each(func(pb repo.PackedBlob) {
		if pb.Type == repo.DataBlob && pb.UncompressedLength != 0 {
			compressed++
		}
	})
	if compressed == 0 {
		t.Error("no data blob was compressed in the v2 destination")
	}

	again := copyAll(t, src, dst, copier.Selection{})
	if len(again.Copied) != 0 || len(again.Skipped) != 2 || again.DataBlobs+again.TreeBlobs != 0 {
		t.Fatalf("second copy: %+v", again)
	}
	if n := len(loadAll(t, dst)); n != 2 {
		t.Fatalf("after second copy: %d snapshots", n)
	}

	// Copying the copies back finds the originals by their own IDs.
	back := copyAll(t, dst, src, copier.Selection{})
	if len(back.Copied) != 0 || len(back.Skipped) != 2 {
		t.Fatalf("copy back: %+v", back)
	}
}

// TestCopyDedup: with a shared polynomial the destination's data is
// reused; with different polynomials the chunks differ and are copied.
func TestCopyDedup(t *testing.T) {
	dir := t.TempDir()
	makeData(t, dir, 7)
	pol, err := chunk.RandomPolynomial()
	if err != nil {
		t.Fatal(err)
	}
	src := newRepo(t, "a", 2, pol)
	backup(t, src, dir, "h")

	shared := newRepo(t, "b", 2, pol)
	backup(t, shared, dir, "other")
	res := copyAll(t, src, shared, copier.Selection{})
	if len(res.Copied) != 1 || res.DataBlobs != 0 {
		t.Errorf("shared polynomial: %d data blobs copied, want 0 (%+v)", res.DataBlobs, res)
	}

	other := newRepo(t, "c", 2, 0)
	backup(t, other, dir, "other")
	res = copyAll(t, src, other, copier.Selection{})
	if len(res.Copied) != 1 || res.DataBlobs == 0 {
		t.Errorf("different polynomials: no data blobs copied (%+v)", res)
	}
}

// TestCopySelection: filters, IDs, "latest", and several destinations
// from one Source; a copy whose tags changed afterwards is not "the
// same" any more, so restic's rule copies the source again.
func TestCopySelection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	makeData(t, dir, 3)
	src := newRepo(t, "a", 2, 0)
	s1 := backup(t, src, dir, "h1", "x")
	s2 := backup(t, src, dir, "h2", "y")
	time.Sleep(time.Millisecond)
	s3 := backup(t, src, dir, "h2", "x")

	d1 := newRepo(t, "b", 2, 0)
	res := copyAll(t, src, d1, copier.Selection{Filter: snapshot.Filter{Hosts: []string{"h2"}}})
	if len(res.Copied) != 2 || res.Copied[0].Source.ID() != s2.ID() || res.Copied[1].Source.ID() != s3.ID() {
		t.Fatalf("--host h2: %+v", res.Copied)
	}
	res = copyAll(t, src, d1, copier.Selection{Filter: snapshot.Filter{Tags: []snapshot.TagList{{"x"}}}})
	if len(res.Copied) != 1 || res.Copied[0].Source.ID() != s1.ID() || len(res.Skipped) != 1 {
		t.Fatalf("--tag x: %+v", res)
	}

	d2, d3 := newRepo(t, "c", 1, 0), newRepo(t, "d", 2, 0)
	s, err := copier.Open(ctx, src, copier.Selection{IDs: []string{s1.ID().String()[:8], "latest", s1.ID().String()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*repo.Repository{d2, d3} {
		r, err := s.CopyTo(ctx, d, copier.Options{FlushBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Copied) != 2 || r.Copied[0].Source.ID() != s1.ID() || r.Copied[1].Source.ID() != s3.ID() {
			t.Fatalf("IDs: %+v", r.Copied)
		}
	}

	// Re-tag the copy of s1 in d2 (as restic tag would: new file, same
	// original); the next copy no longer recognises it.
	sns := loadAll(t, d2)
	retagged := *sns[0]
	retagged.Tags = []string{"x", "extra"}
	if _, err := snapshot.Save(ctx, d2, &retagged); err != nil {
		t.Fatal(err)
	}
	if err := d2.Backend().Remove(ctx, snapshotHandle(sns[0].ID())); err != nil {
		t.Fatal(err)
	}
	r, err := s.CopyTo(ctx, d2, copier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Copied) != 1 || r.Copied[0].Source.ID() != s1.ID() || r.DataBlobs != 0 {
		t.Fatalf("after retag: %+v", r)
	}

	if _, err := copier.Open(ctx, src, copier.Selection{IDs: []string{"deadbeef"}}); err == nil {
		t.Error("unknown ID: no error")
	}
	var ignored []string
	s, err = copier.Open(ctx, src, copier.Selection{IDs: []string{"deadbeef", s2.ID().Str()},
		OnError: func(what string, err error) error { ignored = append(ignored, what); return nil }})
	if err != nil || len(s.Snapshots()) != 1 || len(ignored) != 1 {
		t.Fatalf("ignored unknown ID: %v, %d snapshots, %v", err, len(s.Snapshots()), ignored)
	}
}

func snapshotHandle(id repo.ID) backend.Handle {
	return backend.Handle{Type: backend.SnapshotFile, Name: id.String()}
}

// TestCopyMissingSourcePack: a copy that cannot read a data blob fails
// and writes no snapshot; what it did write passes the index.
func TestCopyMissingSourcePack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	makeData(t, dir, 11)
	src := newRepo(t, "a", 2, 0)
	backup(t, src, dir, "h")
	var dataPack repo.ID
	src.Index().Each(func(pb repo.PackedBlob) {
		if pb.Type == repo.DataBlob {
			dataPack = pb.PackID
		}
	})
	if err := src.Backend().Remove(ctx, backend.Handle{Type: backend.PackFile, Name: dataPack.String()}); err != nil {
		t.Fatal(err)
	}
	dst := newRepo(t, "b", 2, 0)
	s, err := copier.Open(ctx, src, copier.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyTo(ctx, dst, copier.Options{}); err == nil {
		t.Fatal("copy with a missing source pack succeeded")
	}
	if n := len(loadAll(t, dst)); n != 0 {
		t.Fatalf("failed copy saved %d snapshots", n)
	}
}
