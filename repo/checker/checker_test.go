package checker_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
	"github.com/hbackup/hbackup/snapshot"
)

// found reports whether some error in errs is a T and, when is is not
// nil, also matches is.
func found[T error](errs []error, is error) bool {
	for _, e := range errs {
		var target T
		if errors.As(e, &target) && (is == nil || errors.Is(e, is)) {
			return true
		}
	}
	return false
}

func describe(res *checker.Result) string {
	var b strings.Builder
	for _, e := range res.Errors {
		fmt.Fprintf(&b, "error: %v\n", e)
	}
	for _, h := range res.Hints {
		fmt.Fprintf(&b, "hint: %v\n", h)
	}
	return b.String()
}

func TestIntactRepository(t *testing.T) {
	tr := newTestRepo(t)
	res := tr.check(t)
	if !res.OK() || len(res.Hints) > 0 {
		t.Fatalf("intact repository:\n%s", describe(res))
	}
}

// TestDamage inflicts one kind of damage per case and checks that the
// right kind of error is reported, naming the damaged pack or tree.
func TestDamage(t *testing.T) {
	dataBlob := func(tr *testRepo, i int) repo.BlobHandle {
		return repo.BlobHandle{ID: tr.data[i], Type: repo.DataBlob}
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, tr *testRepo) string // returns the name the report must contain
		verify func(t *testing.T, res *checker.Result)
	}{
		{"flipped byte in pack", func(t *testing.T, tr *testRepo) string {
			pb := tr.locate(t, dataBlob(tr, 1))
			tr.flip(t, packHandle(pb.PackID), int64(pb.Offset)+100)
			return pb.PackID.String()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.PackError](res.Errors, repo.ErrIntegrity) || !found[*checker.PackError](res.Errors, checker.ErrPackHash) {
				t.Error("want a PackError for the damaged blob and the pack hash")
			}
		}},
		{"wrong MAC", func(t *testing.T, tr *testRepo) string {
			pb := tr.locate(t, dataBlob(tr, 2))
			tr.flip(t, packHandle(pb.PackID), int64(pb.Offset+pb.Length)-1)
			return pb.PackID.String()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.PackError](res.Errors, repo.ErrIntegrity) {
				t.Error("want a PackError for the blob that fails its MAC")
			}
		}},
		{"truncated pack", func(t *testing.T, tr *testRepo) string {
			pb := tr.locate(t, dataBlob(tr, 0))
			h := packHandle(pb.PackID)
			data := tr.load(t, h)
			tr.store(t, h, data[:len(data)/2])
			return pb.PackID.String()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.PackError](res.Errors, checker.ErrPackSize) {
				t.Error("want a PackError with ErrPackSize")
			}
		}},
		{"missing pack", func(t *testing.T, tr *testRepo) string {
			pb := tr.locate(t, dataBlob(tr, 0))
			tr.remove(t, packHandle(pb.PackID))
			return pb.PackID.String()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.PackError](res.Errors, checker.ErrPackMissing) {
				t.Error("want a PackError with ErrPackMissing")
			}
		}},
		{"missing index entry", func(t *testing.T, tr *testRepo) string {
			drop := tr.data[2]
			tr.rewriteIndex(t, func(f *repo.IndexFile) {
				for i := range f.Packs {
					f.Packs[i].Blobs = slices.DeleteFunc(f.Packs[i].Blobs, func(b repo.PackedBlob) bool { return b.ID == drop })
				}
			})
			return drop.String()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.MissingBlobError](res.Errors, repo.ErrBlobNotFound) {
				t.Error("want a MissingBlobError for the file's blob")
			}
			if !found[*checker.PackError](res.Errors, checker.ErrPackSize) {
				t.Error("want a PackError: size differs from what the index implies")
			}
			if !found[*checker.PackError](res.Errors, checker.ErrPackHeader) {
				t.Error("want a PackError: header entry not in the index")
			}
		}},
		{"corrupted tree blob", func(t *testing.T, tr *testRepo) string {
			pb := tr.locate(t, repo.BlobHandle{ID: tr.sub, Type: repo.TreeBlob})
			tr.flip(t, packHandle(pb.PackID), int64(pb.Offset)+20)
			return tr.sub.Str()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.TreeError](res.Errors, repo.ErrIntegrity) {
				t.Error("want a TreeError for the tree that does not decrypt")
			}
			if !found[*checker.PackError](res.Errors, repo.ErrIntegrity) {
				t.Error("want a PackError from reading the tree pack")
			}
		}},
		{"tree missing from index", func(t *testing.T, tr *testRepo) string {
			tr.rewriteIndex(t, func(f *repo.IndexFile) {
				for i := range f.Packs {
					f.Packs[i].Blobs = slices.DeleteFunc(f.Packs[i].Blobs, func(b repo.PackedBlob) bool { return b.ID == tr.sub })
				}
			})
			return tr.sub.String()
		}, func(t *testing.T, res *checker.Result) {
			var me *checker.MissingBlobError
			if !found[*checker.TreeError](res.Errors, repo.ErrBlobNotFound) || !errors.As(errors.Join(res.Errors...), &me) || me.Blob.Type != repo.TreeBlob {
				t.Error("want a TreeError holding a MissingBlobError for the subtree")
			}
		}},
		{"unreadable index", func(t *testing.T, tr *testRepo) string {
			h := tr.files(t, backend.IndexFile)[0]
			tr.flip(t, h, 40)
			return h.Name
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.IndexError](res.Errors, repo.ErrIntegrity) {
				t.Error("want an IndexError")
			}
		}},
		{"unreadable snapshot", func(t *testing.T, tr *testRepo) string {
			tr.flip(t, backend.Handle{Type: backend.SnapshotFile, Name: tr.snapshot.String()}, 30)
			return tr.snapshot.String()
		}, func(t *testing.T, res *checker.Result) {
			if !found[*checker.SnapshotError](res.Errors, repo.ErrIntegrity) {
				t.Error("want a SnapshotError")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRepo(t)
			name := tc.damage(t, tr)
			res := tr.check(t)
			if res.OK() {
				t.Fatalf("damage not detected:\n%s", describe(res))
			}
			tc.verify(t, res)
			if !strings.Contains(describe(res), name) {
				t.Errorf("report does not name %s", name)
			}
			for _, e := range res.Errors {
				if checker.IsHint(e) {
					t.Errorf("hint %v among errors", e)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", describe(res))
			}
		})
	}
}

// TestInvalidNodes stores a well-formed tree whose nodes break the rules
// check applies to nodes.
func TestInvalidNodes(t *testing.T) {
	tr := newTestRepo(t)
	ctx := context.Background()
	r := tr.open(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	null := repo.ID{}
	missing := repo.Hash([]byte("never stored"))
	bad := &snapshot.Tree{Nodes: []*snapshot.Node{
		{Name: "", Type: snapshot.NodeTypeSymlink, Content: nil},
		{Name: "dir-no-subtree", Type: snapshot.NodeTypeDir},
		{Name: "dir-null-subtree", Type: snapshot.NodeTypeDir, Subtree: &null},
		{Name: "file-missing-blob", Type: snapshot.NodeTypeFile, Content: []repo.ID{tr.data[0], missing}},
		{Name: "file-nil-content", Type: snapshot.NodeTypeFile, Content: nil},
		{Name: "file-null-blob", Type: snapshot.NodeTypeFile, Content: []repo.ID{null}},
		{Name: "weird", Type: "irregular"},
	}}
	root, err := snapshot.SaveTree(ctx, r, bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.Save(ctx, r, &snapshot.Snapshot{Tree: &root, Paths: []string{"/bad"}}); err != nil {
		t.Fatal(err)
	}
	res := tr.check(t)
	var te *checker.TreeError
	if len(res.Errors) != 1 || !errors.As(res.Errors[0], &te) || te.TreeID != root {
		t.Fatalf("want one TreeError for %v:\n%s", root.Str(), describe(res))
	}
	var nodes, missingBlobs []string
	for _, e := range te.Errors {
		var ne *checker.NodeError
		var me *checker.MissingBlobError
		switch {
		case errors.As(e, &ne):
			nodes = append(nodes, ne.Node)
		case errors.As(e, &me):
			missingBlobs = append(missingBlobs, me.Node+" "+me.Blob.ID.Str())
		default:
			t.Errorf("unexpected %T: %v", e, e)
		}
	}
	wantNodes := []string{"", "dir-no-subtree", "dir-null-subtree", "file-nil-content", "file-null-blob", "weird"}
	if fmt.Sprint(nodes) != fmt.Sprint(wantNodes) {
		t.Errorf("node errors for %q, want %q\n%s", nodes, wantNodes, describe(res))
	}
	if want := []string{"file-missing-blob " + missing.Str()}; fmt.Sprint(missingBlobs) != fmt.Sprint(want) {
		t.Errorf("missing blobs %q, want %q", missingBlobs, want)
	}
}

// TestSnapshotWithoutTree: a snapshot file that decodes but names no tree.
func TestSnapshotWithoutTree(t *testing.T) {
	tr := newTestRepo(t)
	id, err := tr.open(t).SaveUnpacked(context.Background(), backend.SnapshotFile, []byte(`{"time":"2026-01-01T00:00:00Z","paths":["/x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := tr.check(t)
	var se *checker.SnapshotError
	if len(res.Errors) != 1 || !errors.As(res.Errors[0], &se) || se.SnapshotID != id {
		t.Fatalf("want one SnapshotError for %v:\n%s", id.Str(), describe(res))
	}
}

// TestHintsOnly: damage restic calls non-critical gives hints, no errors.
func TestHintsOnly(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, tr *testRepo)
		verify func(hints []error) bool
	}{
		{"pack not in any index", func(t *testing.T, tr *testRepo) {
			before := tr.files(t, backend.IndexFile)
			r := tr.open(t)
			if _, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte("orphaned data")); err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for _, h := range tr.files(t, backend.IndexFile) {
				if !slices.Contains(before, h) {
					tr.remove(t, h) // the pack stays, its index goes
				}
			}
		}, func(hints []error) bool { return found[*checker.OrphanedPackHint](hints, nil) }},
		{"duplicate index", func(t *testing.T, tr *testRepo) {
			r := tr.open(t)
			id, _ := repo.ParseID(tr.files(t, backend.IndexFile)[0].Name)
			data, err := r.LoadUnpacked(ctx, backend.IndexFile, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.SaveUnpacked(ctx, backend.IndexFile, data); err != nil {
				t.Fatal(err)
			}
		}, func(hints []error) bool {
			var d *checker.DuplicatePackHint
			return errors.As(errors.Join(hints...), &d) && len(d.Indexes) == 2
		}},
		{"unused blob", func(t *testing.T, tr *testRepo) {
			r := tr.open(t)
			if _, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte("nobody uses this")); err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}, func(hints []error) bool {
			var u *checker.UnusedBlobHint
			return len(hints) == 1 && errors.As(hints[0], &u) && u.Blob.ID == repo.Hash([]byte("nobody uses this"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRepo(t)
			tc.damage(t, tr)
			res := tr.check(t)
			if !res.OK() || !tc.verify(res.Hints) {
				t.Fatalf("want only the hint:\n%s", describe(res))
			}
			for _, h := range res.Hints {
				if !checker.IsHint(h) {
					t.Errorf("%v is not a Hint", h)
				}
			}
		})
	}
}

// TestRandomDamageNeverPanics flips bytes and truncates files all over
// the repository; the checker must report, never panic or hang.
func TestRandomDamageNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 25 {
		tr := newTestRepo(t)
		types := []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile}
		for range 1 + rng.IntN(3) {
			files := tr.files(t, types[rng.IntN(len(types))])
			h := files[rng.IntN(len(files))]
			data := tr.load(t, h)
			if rng.IntN(4) == 0 {
				data = data[:rng.IntN(len(data))]
			} else {
				data[rng.IntN(len(data))] ^= byte(1 + rng.IntN(255))
			}
			tr.store(t, h, data)
		}
		res, err := checker.Check(context.Background(), tr.open(t), checker.Options{ReadData: true})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if res.OK() {
			t.Errorf("round %d: damage not detected", i)
		}
	}
}
