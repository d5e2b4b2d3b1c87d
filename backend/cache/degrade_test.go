package cache_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/cache"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
)

// mountTmpfs mounts a tmpfs of the given size (and options) on a new
// directory, unmounted when the test ends. It skips when mounting is not
// allowed (not root, or no CAP_SYS_ADMIN in a container).
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): a full or read-only disk needs one", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// openWithLog opens the repository with a cache under dir, collecting
// the cache's warnings. New failing is reported as newErr.
func openWithLog(t *testing.T, be backend.Backend, dir string, log *bytes.Buffer) (r *repo.Repository, newErr error) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(log, nil))
	r, err := repo.Open(context.Background(), be, password, repo.Options{
		Cache: func(id string, be backend.Backend) backend.Backend {
			c, err := cache.New(be, id, cache.Options{Dir: dir, Logger: logger})
			if err != nil {
				newErr = err
				return be
			}
			return c
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, newErr
}

// TestFullCacheDegrades fills a tiny disk: backups and listings still
// succeed, reading from the repository, with one warning.
func TestFullCacheDegrades(t *testing.T) {
	dir := mountTmpfs(t, "size=96k")
	src := makeSource(t, 200)
	cnt := newRepo(t)
	var log bytes.Buffer
	r, err := openWithLog(t, cnt, dir, &log)
	if err != nil {
		t.Fatalf("cache on an empty small disk: %v", err)
	}
	backupWithParent(t, r, src)
	r.Close()
	if n := strings.Count(log.String(), "cache cannot be written"); n != 1 {
		t.Fatalf("want one warning about the full cache, got %d:\n%s", n, log.String())
	}
	// A further backup and ls work from a full cache.
	r, _ = openWithLog(t, cnt, dir, &log)
	res := backupWithParent(t, r, src)
	r.Close()
	if res.Summary.FilesNew != 0 {
		t.Fatalf("second backup saw new files: %+v", res.Summary)
	}
	r, _ = openWithLog(t, cnt, dir, &log)
	if n := lsLatest(t, r); n < 800 {
		t.Fatalf("ls with a full cache found %d nodes", n)
	}
	r.Close()
	// What did get cached is intact (no partial files left behind).
	for _, pattern := range []string{"snapshots/*", "index/*", "data/*/*", "*/.tmp-*", "data/*/.tmp-*"} {
		for _, f := range cachedFiles(t, dir, pattern) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(filepath.Base(f), ".tmp-") || sha(b) != filepath.Base(f) {
				t.Errorf("%s: partial or damaged file left in a full cache", f)
			}
		}
	}
}

// TestUnusableCacheDir: a read-only disk, or a file where the directory
// should be, makes New fail with an error the caller can warn about, and
// the repository works without a cache.
func TestUnusableCacheDir(t *testing.T) {
	src := makeSource(t, 5)
	cnt := newRepo(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"a file": file}
	if testutil.IsRoot() {
		dirs["read-only disk"] = mountTmpfs(t, "size=1m,ro")
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			r, err := openWithLog(t, cnt, dir, &log)
			if err == nil {
				t.Fatalf("cache in %s opened", name)
			}
			backupWithParent(t, r, src)
			if lsLatest(t, r) == 0 {
				t.Fatal("nothing listed")
			}
			r.Close()
		})
	}
}

func TestOldDirs(t *testing.T) {
	base := t.TempDir()
	ids := []string{strings.Repeat("a", 64), strings.Repeat("b", 64)}
	for _, id := range ids {
		if _, err := cache.New(newCounting(nil), id, cache.Options{Dir: base}); err != nil {
			t.Fatal(err)
		}
	}
	// Not caches: never removed, however old.
	for _, name := range []string{"notacache", strings.Repeat("c", 63)} {
		if err := os.Mkdir(filepath.Join(base, name), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(base, ids[0])
	for _, name := range []string{ids[0], "notacache", strings.Repeat("c", 63)} {
		p := filepath.Join(base, name)
		past := mustParseAge(t, 31)
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cache.OldDirs(base, 0)
	if err != nil || len(got) != 1 || got[0] != old {
		t.Fatalf("OldDirs = %v, %v; want [%s]", got, err, old)
	}
	removed, err := cache.RemoveOld(base, 0)
	if err != nil || len(removed) != 1 {
		t.Fatalf("RemoveOld = %v, %v", removed, err)
	}
	for name, want := range map[string]bool{ids[0]: false, ids[1]: true, "notacache": true, "CACHEDIR.TAG": true} {
		if _, err := os.Stat(filepath.Join(base, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
	// Using an old cache again makes it young.
	if _, err := cache.New(newCounting(nil), ids[0], cache.Options{Dir: base}); err != nil {
		t.Fatal(err)
	}
	if got, _ := cache.OldDirs(base, 0); len(got) != 0 {
		t.Errorf("a cache just used is old: %v", got)
	}
}

func mustParseAge(t *testing.T, days int) time.Time {
	t.Helper()
	return time.Now().Add(-time.Duration(days) * 24 * time.Hour)
}
