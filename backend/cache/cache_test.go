package cache_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

var metadata = []backend.FileType{backend.SnapshotFile, backend.IndexFile, backend.PackFile}

// newRepo initialises a repository on a counting in-memory backend.
func newRepo(t *testing.T) *counting {
	t.Helper()
	cnt := newCounting(mem.New())
	r, err := repo.Init(context.Background(), cnt, password, repo.InitOptions{KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	return cnt
}

// TestSecondRunLoadsNothing is the cache's purpose: after a first
// backup, a no-change backup, listing snapshots and walking the latest
// snapshot load (close to) nothing from the repository with the cache,
// and the metadata without it.
func TestSecondRunLoadsNothing(t *testing.T) {
	src := makeSource(t, 300)
	loaded := make(map[bool][3]int64)
	for _, withCache := range []bool{false, true} {
		cnt := newRepo(t)
		cacheDir := ""
		if withCache {
			cacheDir = t.TempDir()
		}
		open := opener(t, cnt, cacheDir)
		r := open()
		first := backupWithParent(t, r, src)
		r.Close()

		var got [3]int64
		cnt.reset()
		r = open()
		res := backupWithParent(t, r, src)
		r.Close()
		// Only the ancestors of src may change (t.TempDir adds to them).
		if res.Summary.FilesNew != 0 || res.Summary.FilesChanged != 0 || res.Summary.DataBlobs != 0 || first.Summary.FilesNew != 900 {
			t.Fatalf("second backup is not a no-change backup: %+v", res.Summary)
		}
		got[0] = cnt.total(metadata...)
		t.Logf("cache=%v no-change backup: %v (all types: %d B)", withCache, cnt, cnt.total())

		cnt.reset()
		r = open()
		sns, err := snapshot.LoadAll(context.Background(), r)
		r.Close()
		if err != nil || len(sns) != 2 {
			t.Fatalf("snapshots: %d, %v", len(sns), err)
		}
		got[1] = cnt.total(metadata...)
		t.Logf("cache=%v snapshots: %v (all types: %d B)", withCache, cnt, cnt.total())

		cnt.reset()
		r = open()
		nodes := lsLatest(t, r)
		r.Close()
		if nodes < 300*4 {
			t.Fatalf("ls found %d nodes", nodes)
		}
		got[2] = cnt.total(metadata...)
		t.Logf("cache=%v ls latest: %v (all types: %d B)", withCache, cnt, cnt.total())
		loaded[withCache] = got
	}
	for i, op := range []string{"no-change backup", "snapshots", "ls latest"} {
		if loaded[true][i] != 0 {
			t.Errorf("%s with cache loaded %d bytes of metadata from the repository, want 0", op, loaded[true][i])
		}
		if loaded[false][i] == 0 {
			t.Errorf("%s without cache loaded nothing: the test measures nothing", op)
		}
	}
	// Tree packs and index files dominate a no-change backup.
	if loaded[false][0] < 10_000 || loaded[false][2] < 10_000 {
		t.Errorf("without cache, backup and ls loaded only %d and %d bytes", loaded[false][0], loaded[false][2])
	}
}

// TestColdCache fills the cache from a repository written without it:
// the first ls downloads the metadata once, the second loads nothing.
func TestColdCache(t *testing.T) {
	src := makeSource(t, 50)
	cnt := newRepo(t)
	r := opener(t, cnt, "")()
	backupWithParent(t, r, src)
	r.Close()

	cacheDir := t.TempDir()
	open := opener(t, cnt, cacheDir)
	cnt.reset()
	r = open()
	want := lsLatest(t, r)
	r.Close()
	firstLoad := cnt.total(metadata...)
	t.Logf("cold cache ls: %v", cnt)
	if firstLoad == 0 {
		t.Fatal("a cold cache loaded nothing")
	}
	cnt.reset()
	r = open()
	if got := lsLatest(t, r); got != want {
		t.Fatalf("ls from the cache found %d nodes, want %d", got, want)
	}
	r.Close()
	if n := cnt.total(metadata...); n != 0 {
		t.Fatalf("warm cache ls loaded %d bytes: %v", n, cnt)
	}
	// The layout is restic's, and every cached file is the repository's.
	checkCacheMatches(t, cnt, cacheDir, 3)
}

// checkCacheMatches asserts the cache's layout and that every cached
// file is byte-identical to the repository's file of that name; it
// returns the number of cached files, which must be at least min.
func checkCacheMatches(t *testing.T, be backend.Backend, cacheDir string, min int) int {
	t.Helper()
	if _, err := os.Stat(filepath.Join(cacheDir, "CACHEDIR.TAG")); err != nil {
		t.Errorf("no CACHEDIR.TAG: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(cacheDir, "*", "snapshots"))
	if len(dirs) != 1 {
		t.Fatalf("want one repository cache, found %v", dirs)
	}
	base := filepath.Dir(dirs[0])
	n := 0
	for _, pattern := range []string{"snapshots/*", "index/*", "data/*/*"} {
		files, _ := filepath.Glob(filepath.Join(base, pattern))
		for _, f := range files {
			name := filepath.Base(f)
			typ := map[string]backend.FileType{"snapshots": backend.SnapshotFile, "index": backend.IndexFile}[filepath.Base(filepath.Dir(f))]
			if typ == 0 {
				typ = backend.PackFile
				if filepath.Base(filepath.Dir(f)) != name[:2] {
					t.Errorf("pack %s cached in the wrong directory", f)
				}
			}
			got, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := backend.LoadAll(context.Background(), be, backend.Handle{Type: typ, Name: name})
			if err != nil {
				t.Errorf("cached %s: %v", f, err)
				continue
			}
			if string(got) != string(want) {
				t.Errorf("cached %s differs from the repository's", f)
			}
			n++
		}
	}
	if n < min {
		t.Errorf("%d files cached, want at least %d", n, min)
	}
	return n
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
