package cache_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/cache"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
)

const password = "cache-test"

var fastKDF = crypto.Params{N: 1024, R: 8, P: 1}

// counting wraps a backend and counts what Load reads, per file type.
type counting struct {
	backend.Backend
	mu    sync.Mutex
	bytes map[backend.FileType]int64
	calls map[backend.FileType]int
}

func newCounting(be backend.Backend) *counting {
	c := &counting{Backend: be}
	c.reset()
	return c
}

func (c *counting) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes = make(map[backend.FileType]int64)
	c.calls = make(map[backend.FileType]int)
}

func (c *counting) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(io.Reader) error) error {
	c.mu.Lock()
	c.calls[h.Type]++
	c.mu.Unlock()
	return c.Backend.Load(ctx, h, length, offset, func(rd io.Reader) error {
		return fn(&countingReader{rd: rd, c: c, t: h.Type})
	})
}

// total returns the bytes loaded of the given types (all when none).
func (c *counting) total(types ...backend.FileType) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for t, b := range c.bytes {
		if len(types) == 0 || contains(types, t) {
			n += b
		}
	}
	return n
}

func (c *counting) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for t, b := range c.bytes {
		parts = append(parts, fmt.Sprintf("%v: %d B in %d loads", t, b, c.calls[t]))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func contains(list []backend.FileType, t backend.FileType) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

type countingReader struct {
	rd io.Reader
	c  *counting
	t  backend.FileType
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rd.Read(p)
	r.c.mu.Lock()
	r.c.bytes[r.t] += int64(n)
	r.c.mu.Unlock()
	return n, err
}

// makeSource writes a tree of many small directories, so a snapshot has
// many tree blobs.
func makeSource(t *testing.T, dirs int) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	for i := range dirs {
		d := filepath.Join(src, fmt.Sprintf("d%02d", i%10), fmt.Sprintf("sub%03d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			testutil.WriteRandomFile(t, filepath.Join(d, fmt.Sprintf("f%d", j)), int64(200+i*j), int64(i*10+j))
		}
	}
	return src
}

// opener opens the repository on be, with a cache under cacheDir unless
// it is empty.
func opener(t *testing.T, be backend.Backend, cacheDir string) func() *repo.Repository {
	return func() *repo.Repository {
		t.Helper()
		opts := repo.Options{}
		if cacheDir != "" {
			opts.Cache = func(id string, be backend.Backend) backend.Backend {
				c, err := cache.New(be, id, cache.Options{Dir: cacheDir})
				if err != nil {
					t.Fatalf("cache.New: %v", err)
				}
				return c
			}
		}
		r, err := repo.Open(context.Background(), be, password, opts)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// backupWithParent runs a backup of src as the CLI does: latest snapshot
// as parent, index loaded.
func backupWithParent(t *testing.T, r *repo.Repository, src string) *archiver.Result {
	t.Helper()
	ctx := context.Background()
	all, err := snapshot.LoadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var parent *snapshot.Snapshot
	if len(all) > 0 {
		parent = all[len(all)-1]
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, Parent: parent})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// lsLatest walks the latest snapshot's tree and returns the node count.
func lsLatest(t *testing.T, r *repo.Repository) int {
	t.Helper()
	ctx := context.Background()
	sn, err := snapshot.Find(ctx, r, "latest", snapshot.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = snapshot.Walk(ctx, r, *sn.Tree, "/", func(string, *snapshot.Node) (bool, error) {
		n++
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
