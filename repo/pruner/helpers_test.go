package pruner_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
	"github.com/hbackup/hbackup/snapshot"
)

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

// world is a repository in memory with several snapshots that share
// some data and own some, so forgetting one leaves partly used packs.
type world struct {
	be          backend.Backend
	compression repo.Compression // of the handles open returns
	snapshots   []repo.ID
	files       map[repo.ID]map[string][]byte // per snapshot: name -> content
}

// newWorld writes n snapshots; snapshot i holds the shared files and
// files of its own.
func newWorld(t *testing.T, n int) *world {
	return newWorldCompressed(t, n, repo.CompressionAuto)
}

// newWorldCompressed is newWorld with data blobs written in mode c.
func newWorldCompressed(t *testing.T, n int, c repo.Compression) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{be: mem.New(), files: map[repo.ID]map[string][]byte{}, compression: c}
	r, err := repo.Init(ctx, w.be, password, repo.InitOptions{KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	shared := map[string][]byte{}
	for i := range 12 {
		shared[fmt.Sprintf("shared%d", i)] = randomBytes(uint64(1000+i), 150_000)
	}
	for s := range n {
		files := map[string][]byte{}
		for k, v := range shared {
			files[k] = v
		}
		for i := range 10 {
			files[fmt.Sprintf("own%d-%d", s, i)] = randomBytes(uint64(s*100+i), 120_000+i)
		}
		// Compressible data too, so packs mix sizes.
		files[fmt.Sprintf("text%d", s)] = bytes.Repeat([]byte(fmt.Sprintf("line %d\n", s)), 30_000)
		w.snapshots = append(w.snapshots, w.backup(t, files, time.Date(2026, 1, 1+s, 0, 0, 0, 0, time.UTC)))
	}
	return w
}

// backup stores files as one snapshot, one blob per 64 KiB piece.
func (w *world) backup(t *testing.T, files map[string][]byte, when time.Time) repo.ID {
	t.Helper()
	ctx := context.Background()
	r := w.open(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tree := &snapshot.Tree{}
	for _, name := range names {
		var content []repo.ID
		data := files[name]
		for off := 0; off < len(data); off += 64 << 10 {
			id, _, err := r.SaveBlob(ctx, repo.DataBlob, data[off:min(len(data), off+64<<10)])
			if err != nil {
				t.Fatal(err)
			}
			content = append(content, id)
		}
		if err := tree.Insert(&snapshot.Node{Name: name, Type: snapshot.NodeTypeFile, Mode: 0o644,
			Size: uint64(len(data)), ModTime: when, AccessTime: when, ChangeTime: when, Content: content}); err != nil {
			t.Fatal(err)
		}
	}
	root, err := snapshot.SaveTree(ctx, r, tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := snapshot.Save(ctx, r, &snapshot.Snapshot{Time: when, Tree: &root, Paths: []string{"/src"}, Hostname: "host"})
	if err != nil {
		t.Fatal(err)
	}
	w.files[id] = files
	return id
}

func (w *world) open(t *testing.T) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), w.be, password, repo.Options{PackSize: repo.MinPackSize, Compression: w.compression})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// forget deletes snapshot files, as forget does.
func (w *world) forget(t *testing.T, ids ...repo.ID) {
	t.Helper()
	for _, id := range ids {
		if err := w.be.Remove(context.Background(), backend.Handle{Type: backend.SnapshotFile, Name: id.String()}); err != nil {
			t.Fatal(err)
		}
		delete(w.files, id)
	}
}

// verify restores every remaining snapshot in memory and compares it
// with what was backed up, through a fresh repository handle.
func (w *world) verify(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	r := w.open(t)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for id, files := range w.files {
		sn, err := snapshot.Load(ctx, r, id)
		if err != nil {
			t.Fatalf("snapshot %v: %v", id.Str(), err)
		}
		tree, err := snapshot.LoadTree(ctx, r, *sn.Tree)
		if err != nil {
			t.Fatalf("snapshot %v: %v", id.Str(), err)
		}
		if len(tree.Nodes) != len(files) {
			t.Fatalf("snapshot %v: %d files, want %d", id.Str(), len(tree.Nodes), len(files))
		}
		for _, n := range tree.Nodes {
			var got []byte
			for _, b := range n.Content {
				data, err := r.LoadBlob(ctx, repo.DataBlob, b, nil)
				if err != nil {
					t.Fatalf("snapshot %v file %s: %v", id.Str(), n.Name, err)
				}
				got = append(got, data...)
			}
			if !bytes.Equal(got, files[n.Name]) {
				t.Fatalf("snapshot %v file %s: content differs", id.Str(), n.Name)
			}
		}
	}
}

// check runs a full check with --read-data and fails on any error.
func (w *world) check(t *testing.T) *checker.Result {
	t.Helper()
	res, err := checker.Check(context.Background(), w.open(t), checker.Options{ReadData: true})
	if err != nil {
		t.Fatalf("check could not run: %v", err)
	}
	if !res.OK() {
		t.Fatalf("check found errors: %v", res.Errors)
	}
	return res
}

// fingerprint hashes every file in the backend, to prove nothing changed.
func fingerprint(t *testing.T, be backend.Backend) map[string][32]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][32]byte{}
	for _, ft := range []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile, backend.KeyFile} {
		err := be.List(ctx, ft, func(fi backend.FileInfo) error {
			h := backend.Handle{Type: ft, Name: fi.Name}
			return be.Load(ctx, h, 0, 0, func(rd io.Reader) error {
				data, err := io.ReadAll(rd)
				out[h.String()] = sha256.Sum256(data)
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
