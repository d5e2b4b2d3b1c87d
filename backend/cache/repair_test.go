package cache_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/cache"
	"github.com/hbackup/hbackup/backend/mem"
)

// cachedFiles returns the cached files of one kind ("snapshots/*",
// "index/*", "data/*/*").
func cachedFiles(t *testing.T, cacheDir, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cacheDir, "*", pattern))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDamagedCacheIsRepaired damages cached files in several ways: each
// is detected, read from the repository instead and replaced by a good
// copy, and the command's result does not change.
func TestDamagedCacheIsRepaired(t *testing.T) {
	src := makeSource(t, 40)
	cnt := newRepo(t)
	cacheDir := t.TempDir()
	open := opener(t, cnt, cacheDir)
	r := open()
	backupWithParent(t, r, src)
	r.Close()
	r = open()
	want := lsLatest(t, r)
	r.Close()

	damage := map[string]func(path string) error{
		"flipped byte": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 0x40
			return os.WriteFile(p, b, 0o600)
		},
		"truncated": func(p string) error { return os.Truncate(p, 10) },
		"emptied":   func(p string) error { return os.Truncate(p, 0) },
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			var damaged []string
			for _, pattern := range []string{"snapshots/*", "index/*", "data/*/*"} {
				files := cachedFiles(t, cacheDir, pattern)
				if len(files) == 0 {
					t.Fatalf("nothing cached as %s", pattern)
				}
				if err := fn(files[0]); err != nil {
					t.Fatal(err)
				}
				damaged = append(damaged, files[0])
			}
			cnt.reset()
			r := open()
			got := lsLatest(t, r)
			r.Close()
			if got != want {
				t.Fatalf("ls with a damaged cache found %d nodes, want %d", got, want)
			}
			for _, typ := range metadata {
				if cnt.total(typ) == 0 {
					t.Errorf("damaged cached %v was not read from the repository again: %v", typ, cnt)
				}
			}
			for _, p := range damaged {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("damaged %s not cached again: %v", p, err)
				}
				if sha(b) != filepath.Base(p) {
					t.Errorf("%s still damaged after use", p)
				}
			}
			// Repaired: the next run loads nothing again.
			cnt.reset()
			r = open()
			lsLatest(t, r)
			r.Close()
			if n := cnt.total(metadata...); n != 0 {
				t.Errorf("after repair ls loaded %d bytes: %v", n, cnt)
			}
		})
	}
}

// TestVanishedFilesAreDropped removes files from the repository behind
// the cache's back: listing that type drops their cached copies, and
// Remove through the cache drops them at once.
func TestVanishedFilesAreDropped(t *testing.T) {
	src := makeSource(t, 10)
	cnt := newRepo(t)
	cacheDir := t.TempDir()
	open := opener(t, cnt, cacheDir)
	for range 2 {
		r := open()
		backupWithParent(t, r, src)
		r.Close()
	}
	snaps := cachedFiles(t, cacheDir, "snapshots/*")
	if len(snaps) != 2 {
		t.Fatalf("want 2 cached snapshots, have %v", snaps)
	}
	ctx := context.Background()
	// Another client forgets the first snapshot.
	gone := backend.Handle{Type: backend.SnapshotFile, Name: filepath.Base(snaps[0])}
	if err := cnt.Remove(ctx, gone); err != nil {
		t.Fatal(err)
	}
	r := open()
	be := r.Backend()
	if err := be.List(ctx, backend.IndexFile, func(backend.FileInfo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snaps[0]); err != nil {
		t.Fatalf("listing index files dropped a cached snapshot: %v", err)
	}
	if err := be.List(ctx, backend.SnapshotFile, func(backend.FileInfo) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snaps[0]); !os.IsNotExist(err) {
		t.Errorf("snapshot removed from the repository is still cached (%v)", err)
	}
	if _, err := os.Stat(snaps[1]); err != nil {
		t.Errorf("existing snapshot dropped from the cache: %v", err)
	}
	// Removing through the cache drops the copy immediately.
	if err := be.Remove(ctx, backend.Handle{Type: backend.SnapshotFile, Name: filepath.Base(snaps[1])}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snaps[1]); !os.IsNotExist(err) {
		t.Errorf("snapshot removed through the cache is still cached (%v)", err)
	}
	r.Close()
}

// TestConcurrentUse loads the same files from many goroutines of two
// Backends sharing one cache directory, as two processes would: every
// read returns the repository's bytes and each file is downloaded about
// once per Backend.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	m := mem.New()
	cnt := newCounting(m)
	var handles []backend.Handle
	contents := make(map[backend.Handle][]byte)
	for i := range 8 {
		data := bytes.Repeat([]byte{byte(i)}, 100_000+i)
		for _, typ := range metadata {
			h := backend.Handle{Type: typ, Name: sha(append(data, byte(typ)))}
			data := append(append([]byte(nil), data...), byte(typ))
			if err := m.Save(ctx, h, backend.NewByteReader(data)); err != nil {
				t.Fatal(err)
			}
			handles = append(handles, h)
			contents[h] = data
		}
	}
	dir := t.TempDir()
	const id = "1111111111111111111111111111111111111111111111111111111111111111"
	var caches []*cache.Backend
	for range 2 {
		c, err := cache.New(cnt, id, cache.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		caches = append(caches, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 16 {
		wg.Go(func() {
			c := caches[g%2]
			for i, h := range handles {
				off := int64((g + i) % 1000)
				var got []byte
				load := c.Load
				if h.Type == backend.PackFile {
					load = c.LoadCached
				}
				err := load(ctx, h, 500, off, func(rd io.Reader) error {
					var err error
					got, err = io.ReadAll(rd)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, contents[h][off:off+500]) {
					errs <- os.ErrInvalid
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent load: %v", err)
	}
	cnt.mu.Lock()
	defer cnt.mu.Unlock()
	for _, typ := range metadata {
		// One download per file and Backend at most (8 files, 2 Backends).
		if n := cnt.calls[typ]; n > 16 {
			t.Errorf("%v: %d loads for 8 files", typ, n)
		}
	}
	for _, h := range handles {
		if h.Type == backend.PackFile {
			if _, err := os.Stat(filepath.Join(dir, id, "data", h.Name[:2], h.Name)); err != nil {
				t.Errorf("pack not cached: %v", err)
			}
		}
	}
}
