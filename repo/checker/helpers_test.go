package checker_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
	"github.com/hbackup/hbackup/snapshot"
)

// fastKDF keeps tests quick; restic accepts any valid parameters.
var fastKDF = crypto.Params{N: 1024, R: 8, P: 1}

const password = "secret"

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// testRepo is a small repository in memory: a root tree with two files
// and a subdirectory, one snapshot.
type testRepo struct {
	be       *mem.Backend
	root     repo.ID   // root tree
	sub      repo.ID   // subdirectory tree
	data     []repo.ID // data blobs, in file order
	snapshot repo.ID
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	ctx := context.Background()
	tr := &testRepo{be: mem.New()}
	r, err := repo.Init(ctx, tr.be, password, repo.InitOptions{KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range 4 {
		id, _, err := r.SaveBlob(ctx, repo.DataBlob, randomBytes(uint64(i), 20000+i*1000))
		if err != nil {
			t.Fatal(err)
		}
		tr.data = append(tr.data, id)
	}
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	file := func(name string, content ...repo.ID) *snapshot.Node {
		return &snapshot.Node{Name: name, Type: snapshot.NodeTypeFile, Mode: 0o644,
			ModTime: mtime, AccessTime: mtime, ChangeTime: mtime, Content: append([]repo.ID{}, content...)}
	}
	sub := &snapshot.Tree{Nodes: []*snapshot.Node{file("c.bin", tr.data[3]), file("empty")}}
	if tr.sub, err = snapshot.SaveTree(ctx, r, sub); err != nil {
		t.Fatal(err)
	}
	root := &snapshot.Tree{Nodes: []*snapshot.Node{
		file("a.bin", tr.data[0], tr.data[1]),
		file("b.bin", tr.data[2]),
		{Name: "link", Type: snapshot.NodeTypeSymlink, LinkTarget: "a.bin", ModTime: mtime, AccessTime: mtime, ChangeTime: mtime},
		{Name: "sub", Type: snapshot.NodeTypeDir, Mode: 0o755 | 1<<31, ModTime: mtime, AccessTime: mtime, ChangeTime: mtime, Subtree: &tr.sub},
	}}
	if tr.root, err = snapshot.SaveTree(ctx, r, root); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &snapshot.Snapshot{Time: mtime, Tree: &tr.root, Paths: []string{"/src"}, Hostname: "host"}
	if tr.snapshot, err = snapshot.Save(ctx, r, sn); err != nil {
		t.Fatal(err)
	}
	return tr
}

// open returns a fresh handle on the repository, index not loaded.
func (tr *testRepo) open(t *testing.T) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), tr.be, password, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// check runs a full check with --read-data.
func (tr *testRepo) check(t *testing.T) *checker.Result {
	t.Helper()
	res, err := checker.Check(context.Background(), tr.open(t), checker.Options{ReadData: true})
	if err != nil {
		t.Fatalf("check could not run: %v", err)
	}
	return res
}

// locate returns where the index puts a blob.
func (tr *testRepo) locate(t *testing.T, h repo.BlobHandle) repo.PackedBlob {
	t.Helper()
	r := tr.open(t)
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	pbs := r.Index().Lookup(h)
	if len(pbs) == 0 {
		t.Fatalf("blob %v not indexed", h)
	}
	return pbs[0]
}

func (tr *testRepo) load(t *testing.T, h backend.Handle) []byte {
	t.Helper()
	data, err := backend.LoadAll(context.Background(), tr.be, h)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (tr *testRepo) store(t *testing.T, h backend.Handle, data []byte) {
	t.Helper()
	if err := tr.be.Save(context.Background(), h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
}

func (tr *testRepo) remove(t *testing.T, h backend.Handle) {
	t.Helper()
	if err := tr.be.Remove(context.Background(), h); err != nil {
		t.Fatal(err)
	}
}

// flip inverts one byte of a file.
func (tr *testRepo) flip(t *testing.T, h backend.Handle, at int64) {
	t.Helper()
	data := tr.load(t, h)
	data[at] ^= 0xff
	tr.store(t, h, data)
}

func (tr *testRepo) files(t *testing.T, ft backend.FileType) []backend.Handle {
	t.Helper()
	var out []backend.Handle
	err := tr.be.List(context.Background(), ft, func(fi backend.FileInfo) error {
		out = append(out, backend.Handle{Type: ft, Name: fi.Name})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func packHandle(id repo.ID) backend.Handle {
	return backend.Handle{Type: backend.PackFile, Name: id.String()}
}

// indexJSON is an index file as restic writes it, for tests that rewrite
// one.
type indexJSON struct {
	Packs []indexPackJSON `json:"packs"`
}
type indexPackJSON struct {
	ID    repo.ID         `json:"id"`
	Blobs []indexBlobJSON `json:"blobs"`
}
type indexBlobJSON struct {
	ID                 repo.ID       `json:"id"`
	Type               repo.BlobType `json:"type"`
	Offset             uint32        `json:"offset"`
	Length             uint32        `json:"length"`
	UncompressedLength uint32        `json:"uncompressed_length,omitempty"`
}

// rewriteIndex replaces every index file by one that edit changed.
func (tr *testRepo) rewriteIndex(t *testing.T, edit func(*repo.IndexFile)) {
	t.Helper()
	ctx := context.Background()
	r := tr.open(t)
	for _, h := range tr.files(t, backend.IndexFile) {
		id, _ := repo.ParseID(h.Name)
		f, err := r.LoadIndexFile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		edit(f)
		var out indexJSON
		for _, p := range f.Packs {
			jp := indexPackJSON{ID: p.ID, Blobs: []indexBlobJSON{}}
			for _, b := range p.Blobs {
				jp.Blobs = append(jp.Blobs, indexBlobJSON{b.ID, b.Type, b.Offset, b.Length, b.UncompressedLength})
			}
			out.Packs = append(out.Packs, jp)
		}
		data, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.SaveUnpacked(ctx, backend.IndexFile, data); err != nil {
			t.Fatal(err)
		}
		tr.remove(t, h)
	}
}
