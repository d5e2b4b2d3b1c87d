package restorer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// fixture is a fresh in-memory repository plus helpers to write trees by
// hand.
type fixture struct {
	t   *testing.T
	ctx context.Context
	be  *mem.Backend
	r   *repo.Repository
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	be := mem.New()
	r, err := repo.Init(ctx, be, "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return &fixture{t: t, ctx: ctx, be: be, r: r}
}

// blob stores data as a data blob.
func (f *fixture) blob(data []byte) repo.ID {
	f.t.Helper()
	id, _, err := f.r.SaveBlob(f.ctx, repo.DataBlob, data)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// flush writes open packs and the index, so later blobs go to new packs.
func (f *fixture) flush() {
	f.t.Helper()
	if err := f.r.Flush(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// tree stores a tree of the given nodes (in any order).
func (f *fixture) tree(nodes ...*snapshot.Node) repo.ID {
	f.t.Helper()
	var t snapshot.Tree
	for _, n := range nodes {
		if err := t.Insert(n); err != nil {
			f.t.Fatal(err)
		}
	}
	id, err := snapshot.SaveTree(f.ctx, f.r, &t)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// restore flushes and restores tree into a new temp dir, failing the test
// on error.
func (f *fixture) restore(tree repo.ID, opts Options) (string, *Stats) {
	f.t.Helper()
	f.flush()
	target := filepath.Join(f.t.TempDir(), "target")
	st, err := Restore(f.ctx, f.r, tree, target, opts)
	if err != nil {
		f.t.Fatalf("Restore: %v", err)
	}
	return target, st
}

// packOf returns the pack holding blob id.
func (f *fixture) packOf(id repo.ID) repo.PackedBlob {
	f.t.Helper()
	pbs := f.r.Index().Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})
	if len(pbs) == 0 {
		f.t.Fatalf("blob %s not indexed", id.Str())
	}
	return pbs[0]
}

// corrupt flips one byte inside the stored blob pb.
func (f *fixture) corrupt(pb repo.PackedBlob) {
	f.t.Helper()
	h := backend.Handle{Type: backend.PackFile, Name: pb.PackID.String()}
	data, err := backend.LoadAll(f.ctx, f.be, h)
	if err != nil {
		f.t.Fatal(err)
	}
	data[pb.Offset+pb.Length/2] ^= 0x55
	if err := f.be.Save(f.ctx, h, backend.NewByteReader(data)); err != nil {
		f.t.Fatal(err)
	}
}

var testTime = time.Date(2021, 3, 4, 5, 6, 7, 123456789, time.UTC)

// at returns testTime plus i hours and i nanoseconds, so each node has
// distinct times with a nanosecond part.
func at(i int) time.Time { return testTime.Add(time.Duration(i) * (time.Hour + time.Nanosecond)) }

// file stores each chunk as a blob and returns a file node of them.
func (f *fixture) file(name string, chunks ...[]byte) *snapshot.Node {
	f.t.Helper()
	n := &snapshot.Node{Name: name, Type: snapshot.NodeTypeFile, Mode: 0o644,
		ModTime: at(1), AccessTime: at(1), ChangeTime: at(1), Content: []repo.ID{}}
	for _, c := range chunks {
		n.Content = append(n.Content, f.blob(c))
		n.Size += uint64(len(c))
	}
	return n
}

func dirNode(name string, subtree repo.ID, mode os.FileMode, mtime time.Time) *snapshot.Node {
	return &snapshot.Node{Name: name, Type: snapshot.NodeTypeDir, Mode: os.ModeDir | mode,
		ModTime: mtime, AccessTime: mtime, ChangeTime: mtime, Subtree: &subtree}
}

func symlinkNode(name, target string, mtime time.Time) *snapshot.Node {
	return &snapshot.Node{Name: name, Type: snapshot.NodeTypeSymlink, Mode: os.ModeSymlink | 0o777,
		ModTime: mtime, AccessTime: mtime, ChangeTime: mtime, LinkTarget: target, Links: 1}
}

// errorLog records OnError calls and skips every item.
type errorLog struct {
	mu    sync.Mutex
	paths []string
	errs  []error
}

func (l *errorLog) onError(path string, err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paths = append(l.paths, path)
	l.errs = append(l.errs, err)
	return nil
}

// find returns the error reported for path, or nil.
func (l *errorLog) find(path string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range l.paths {
		if p == path {
			return l.errs[i]
		}
	}
	return nil
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantContent(t *testing.T, path string, want []byte) {
	t.Helper()
	if got := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s: got %d bytes, want %d bytes (equal prefix %d)", path, len(got), len(want), commonPrefix(got, want))
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func wantNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: want no such file, got err %v", path, err)
	}
}

// pattern returns n deterministic non-zero bytes derived from seed.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x = x*1103515245 + 12345
		b[i] = byte(x>>16) | 1
	}
	return b
}
