package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// countingProxy forwards to a REST server and counts the response bytes
// of GET requests by the repository directory they read.
type countingProxy struct {
	mu    sync.Mutex
	bytes map[string]int64
}

func startCountingProxy(t *testing.T, target string) (*countingProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{bytes: make(map[string]int64)}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet {
			resp.Body = &countingBody{ReadCloser: resp.Body, p: p, kind: kindOf(resp.Request.URL.Path)}
		}
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return p, srv.URL + "/"
}

// kindOf returns the repository directory of a REST path
// ("/repo/data/ab12…" → "data"), or "list" for a listing.
func kindOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) == 2 && parts[1] != "config" {
		return "list"
	}
	if len(parts) >= 2 {
		return parts[1]
	}
	return "other"
}

func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes = make(map[string]int64)
}

// metadata returns the bytes of snapshots, index files and packs read.
func (p *countingProxy) metadata() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes["snapshots"] + p.bytes["index"] + p.bytes["data"]
}

func (p *countingProxy) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprint(p.bytes)
}

type countingBody struct {
	io.ReadCloser
	p    *countingProxy
	kind string
}

func (b *countingBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	b.p.mu.Lock()
	b.p.bytes[b.kind] += int64(n)
	b.p.mu.Unlock()
	return n, err
}

// TestCacheOverREST runs the CLI against rclone serve restic through a
// counting proxy: with the cache, a second no-change backup, snapshots
// and ls read no metadata from the server; with --no-cache they read it
// all. restic then checks every byte of the repository.
func TestCacheOverREST(t *testing.T) {
	rc := testutil.StartRclone(t, testutil.RcloneOptions{})
	proxy, proxyURL := startCountingProxy(t, rc.URL)
	src := filepath.Join(t.TempDir(), "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 4})
	for i := range 100 { // many directories, so trees weigh something
		d := filepath.Join(src, "many", fmt.Sprint(i%7), fmt.Sprint(i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		testutil.WriteRandomFile(t, filepath.Join(d, "f"), 100, int64(i))
	}
	cacheDir := t.TempDir()
	env := map[string]string{"RESTIC_REPOSITORY": "rest:" + proxyURL + "repo", "RESTIC_PASSWORD": "geheim", "RESTIC_CACHE_DIR": cacheDir}
	mustRun := func(args ...string) string {
		t.Helper()
		out, errb, code := runCLI(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
		}
		return out
	}
	mustRun("init")
	mustRun("backup", "-q", src)

	measure := func(extra ...string) [3]int64 {
		var got [3]int64
		for i, cmd := range [][]string{{"backup", "-q", src}, {"snapshots"}, {"ls", "latest"}} {
			proxy.reset()
			out := mustRun(append(append([]string(nil), extra...), cmd...)...)
			if cmd[0] == "ls" && !strings.Contains(out, "/many/6/97/f") {
				t.Fatalf("ls output incomplete:\n%s", out)
			}
			got[i] = proxy.metadata()
			t.Logf("%v %v: %v", extra, cmd[0], proxy)
		}
		return got
	}
	noCache := measure("--no-cache")
	// Files the --no-cache runs wrote (a new snapshot, and the tree
	// holding src's ancestors, which change as other tests run) are
	// downloaded once.
	measure()
	cached := measure()
	for i, op := range []string{"no-change backup", "snapshots", "ls latest"} {
		if cached[i] != 0 {
			t.Errorf("%s with the cache read %d bytes of metadata from the server, want 0", op, cached[i])
		}
		if noCache[i] == 0 {
			t.Errorf("%s with --no-cache read no metadata: the measurement is broken", op)
		}
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "CACHEDIR.TAG")); err != nil {
		t.Errorf("RESTIC_CACHE_DIR not used: %v", err)
	}

	// A damaged cache is repaired on use and the result is the same.
	packs, _ := filepath.Glob(filepath.Join(cacheDir, "*", "data", "*", "*"))
	if len(packs) == 0 {
		t.Fatal("no tree packs cached")
	}
	for _, p := range packs {
		if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	proxy.reset()
	mustRun("ls", "latest")
	if proxy.metadata() == 0 {
		t.Error("damaged cached pack not read from the server again")
	}

	// check reads the repository, not the cache, and restic agrees.
	out := mustRun("check", "--read-data")
	if !strings.Contains(out, "no errors were found") {
		t.Fatalf("hbackup check:\n%s", out)
	}
	restic := testutil.NewRestic(t, filepath.Join(rc.Dir, "repo"), "geheim")
	if out := restic.Run(t, "check", "--read-data"); !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check:\n%s", out)
	}
}

// TestCleanupCache: --cleanup-cache removes the caches of other
// repositories unused for 30 days, and nothing else; --no-cache creates
// no cache at all.
func TestCleanupCache(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	cacheDir := t.TempDir()
	env := map[string]string{"RESTIC_REPOSITORY": repoDir, "RESTIC_PASSWORD": "geheim"}
	run := func(args ...string) string {
		t.Helper()
		out, errb, code := runCLI(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
		}
		return out
	}
	run("init")
	run("--cache-dir", cacheDir, "--no-cache", "snapshots")
	if entries, _ := os.ReadDir(cacheDir); len(entries) != 0 {
		t.Fatalf("--no-cache wrote to the cache directory: %v", entries)
	}
	old := filepath.Join(cacheDir, strings.Repeat("ab", 32))
	young := filepath.Join(cacheDir, strings.Repeat("cd", 32))
	for _, d := range []string{old, young} {
		if err := os.MkdirAll(filepath.Join(d, "snapshots"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-31 * 24 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	run("--cache-dir", cacheDir, "snapshots")
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("old cache removed without --cleanup-cache: %v", err)
	}
	out := run("--cache-dir", cacheDir, "--cleanup-cache", "snapshots")
	if !strings.Contains(out, "removed 1 old cache dirs") {
		t.Errorf("no report of the removal:\n%s", out)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old cache still there: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("recent cache removed: %v", err)
	}
	// This repository's own cache is in use, hence kept.
	if caches, _ := filepath.Glob(filepath.Join(cacheDir, "*", "snapshots")); len(caches) != 2 {
		t.Errorf("want this repository's and the young cache, have %v", caches)
	}
}

// TestCheckIgnoresCache: a tree pack damaged in the repository is found
// by check although the user's cache holds an intact copy (which ls
// keeps using, as restic's cache would).
func TestCheckIgnoresCache(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	cacheDir := t.TempDir()
	src := filepath.Join(t.TempDir(), "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 9})
	env := map[string]string{"RESTIC_REPOSITORY": repoDir, "RESTIC_PASSWORD": "geheim", "RESTIC_CACHE_DIR": cacheDir}
	for _, args := range [][]string{{"init"}, {"backup", "-q", src}, {"check"}} {
		if out, errb, code := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
		}
	}
	cached, _ := filepath.Glob(filepath.Join(cacheDir, "*", "data", "*", "*"))
	if len(cached) == 0 {
		t.Fatal("no tree pack cached")
	}
	for _, c := range cached {
		name := filepath.Base(c)
		p := filepath.Join(repoDir, "data", name[:2], name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/3] ^= 1
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, errb, code := runCLI(t, env, "ls", "latest"); code != 0 {
		t.Fatalf("ls from the cache: exit %d\n%s%s", code, out, errb)
	}
	out, errb, code := runCLI(t, env, "check")
	if code == 0 {
		t.Fatalf("check passed with damaged tree packs:\n%s%s", out, errb)
	}
	if !strings.Contains(errb, filepath.Base(cached[0])[:8]) {
		t.Errorf("check does not name the damaged pack %s:\n%s%s", filepath.Base(cached[0])[:8], out, errb)
	}
	if _, err := os.Stat(cached[0]); err != nil {
		t.Errorf("check touched the user's cache: %v", err)
	}
}

// TestCacheSharedWithRestic: the layout is restic's, so with one
// --cache-dir (or RESTIC_CACHE_DIR) both tools use each other's cached
// files, and both still read the repository correctly.
func TestCacheSharedWithRestic(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "repo")
	shared := t.TempDir()
	src := filepath.Join(t.TempDir(), "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 11})
	env := map[string]string{"RESTIC_REPOSITORY": repoDir, "RESTIC_PASSWORD": "geheim", "RESTIC_CACHE_DIR": shared}
	run := func(args ...string) string {
		t.Helper()
		out, errb, code := runCLI(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
		}
		return out
	}
	run("init")
	run("backup", "-q", src)
	restic := testutil.NewRestic(t, repoDir, "geheim")
	restic.CacheDir = shared
	resticLs := string(restic.Run(t, "ls", "latest"))
	restic.Run(t, "backup", "-q", src)
	if out := run("ls", "latest"); strings.Count(out, "\n") != strings.Count(resticLs, "\n") {
		t.Errorf("ls differs: hbackup %d lines, restic %d", strings.Count(out, "\n"), strings.Count(resticLs, "\n"))
	}
	if out := run("snapshots"); !strings.Contains(out, "2 snapshots") {
		t.Errorf("snapshots:\n%s", out)
	}
	versions, _ := filepath.Glob(filepath.Join(shared, "*", "version"))
	if len(versions) != 1 {
		t.Errorf("want one repository cache with restic's version file, have %v", versions)
	}
	if out := restic.Run(t, "check", "--read-data"); !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check:\n%s", out)
	}
}
