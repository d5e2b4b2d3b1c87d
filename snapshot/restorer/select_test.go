package restorer

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// selectTree stores /a/{x,y}, /b/z, /c/d/{e,f} and /top.
func selectTree(f *fixture) repo.ID {
	a := f.tree(f.file("x", []byte("x")), f.file("y", []byte("y")))
	b := f.tree(f.file("z", []byte("z")))
	d := f.tree(f.file("e", []byte("e")), f.file("f", []byte("f")))
	c := f.tree(dirNode("d", d, 0o751, at(32)))
	return f.tree(dirNode("a", a, 0o750, at(30)), dirNode("b", b, 0o755, at(33)),
		dirNode("c", c, 0o705, at(31)), f.file("top", []byte("top")))
}

// recorder wraps a select function and remembers what it was asked.
type recorder struct {
	mu    sync.Mutex
	asked []string
	fn    func(item string, isDir bool) (bool, bool)
}

func (r *recorder) Select(item string, isDir bool) (bool, bool) {
	r.mu.Lock()
	r.asked = append(r.asked, item)
	r.mu.Unlock()
	return r.fn(item, isDir)
}

func (r *recorder) wasAsked(item string) bool { return slices.Contains(r.asked, item) }

// includeOnly selects the given paths and everything below them.
func includeOnly(paths ...string) func(string, bool) (bool, bool) {
	return func(item string, isDir bool) (bool, bool) {
		sel, child := false, false
		for _, p := range paths {
			sel = sel || item == p || strings.HasPrefix(item, p+"/")
			child = child || strings.HasPrefix(p, item+"/")
		}
		return sel, isDir && (sel || child)
	}
}

func exclude(paths ...string) func(string, bool) (bool, bool) {
	return func(item string, isDir bool) (bool, bool) {
		if slices.Contains(paths, item) {
			return false, false
		}
		return true, isDir
	}
}

func TestRestoreSelectInclude(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{fn: includeOnly("/a/x", "/c/d/e")}
	target, st := f.restore(selectTree(f), Options{Select: rec.Select})

	wantContent(t, filepath.Join(target, "a/x"), []byte("x"))
	wantContent(t, filepath.Join(target, "c/d/e"), []byte("e"))
	for _, p := range []string{"a/y", "b", "c/d/f", "top"} {
		wantNotExist(t, filepath.Join(target, p))
	}
	if rec.wasAsked("/b/z") {
		t.Error("descended into /b, which cannot hold a selected item")
	}
	// Directories created only for their children still get their metadata.
	for _, c := range []struct {
		path string
		mode os.FileMode
		i    int
	}{{"a", 0o750, 30}, {"c", 0o705, 31}, {"c/d", 0o751, 32}} {
		p := filepath.Join(target, c.path)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != os.ModeDir|c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode(), os.ModeDir|c.mode)
		}
		wantMtime(t, p, at(c.i))
	}
	if st.Files != 2 || st.Dirs != 3 {
		t.Errorf("stats %+v, want 2 files and 3 dirs", *st)
	}
}

func TestRestoreSelectExclude(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{fn: exclude("/b", "/c/d/e")}
	target, _ := f.restore(selectTree(f), Options{Select: rec.Select})

	for _, p := range []string{"a/x", "a/y", "c/d/f", "top"} {
		wantContent(t, filepath.Join(target, p), []byte(filepath.Base(p)))
	}
	wantNotExist(t, filepath.Join(target, "b"))
	wantNotExist(t, filepath.Join(target, "c/d/e"))
	if rec.wasAsked("/b/z") {
		t.Error("descended into the excluded /b")
	}
	if !rec.wasAsked("/c/d/f") || !rec.wasAsked("/top") {
		t.Errorf("asked %q", rec.asked)
	}
}

func TestRestoreSelectDirWithoutChildren(t *testing.T) {
	f := newFixture(t)
	sel := func(item string, isDir bool) (bool, bool) { return item == "/a", false }
	target, _ := f.restore(selectTree(f), Options{Select: sel})
	entries, err := os.ReadDir(filepath.Join(target, "a"))
	if err != nil || len(entries) != 0 {
		t.Errorf("a: %d entries, %v; want an empty directory", len(entries), err)
	}
	wantMtime(t, filepath.Join(target, "a"), at(30))
	wantNotExist(t, filepath.Join(target, "top"))
}

// TestRestoreWithFilterSelector checks that the CLI's selector plugs in.
func TestRestoreWithFilterSelector(t *testing.T) {
	f := newFixture(t)
	sel, err := filter.NewRestoreSelector(filter.RestoreOptions{Includes: []string{"e", "/top"}})
	if err != nil {
		t.Fatal(err)
	}
	target, st := f.restore(selectTree(f), Options{Select: sel.Select})
	wantContent(t, filepath.Join(target, "c/d/e"), []byte("e"))
	wantContent(t, filepath.Join(target, "top"), []byte("top"))
	if st.Files != 2 {
		t.Errorf("Files = %d, want 2", st.Files)
	}
}

func TestRestoreRejectsTraversalNames(t *testing.T) {
	f := newFixture(t)
	escape := f.tree(f.file("escaped", []byte("bad")))
	sub := f.tree(f.file("/abs", []byte("bad")), f.file("fine", []byte("fine")))
	root := f.tree(
		dirNode("..", escape, 0o755, at(2)),
		dirNode(".", escape, 0o755, at(2)),
		f.file("../evil", []byte("bad")),
		f.file("", []byte("bad")),
		f.file("nul\x00byte", []byte("bad")),
		symlinkNode("a/b", "/etc", at(3)),
		dirNode("sub", sub, 0o755, at(4)),
		f.file("ok", []byte("ok")),
	)
	f.flush()
	tmp := t.TempDir()
	target := filepath.Join(tmp, "deep", "target")
	var log errorLog
	st, err := Restore(f.ctx, f.r, root, target, Options{OnError: log.onError})
	if err != nil {
		t.Fatal(err)
	}
	if len(log.errs) != 7 || st.Errors != 7 {
		t.Errorf("%d errors reported, stats say %d; want 7: %v", len(log.errs), st.Errors, log.errs)
	}
	for _, err := range log.errs {
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("error %v does not wrap ErrInvalidName", err)
		}
	}
	wantContent(t, filepath.Join(target, "ok"), []byte("ok"))
	wantContent(t, filepath.Join(target, "sub", "fine"), []byte("fine"))
	for dir, want := range map[string][]string{tmp: {"deep"}, filepath.Join(tmp, "deep"): {"target"},
		target: {"ok", "sub"}, filepath.Join(target, "sub"): {"fine"}} {
		if got := dirNames(t, dir); !slices.Equal(got, want) {
			t.Errorf("%s holds %q, want %q", dir, got, want)
		}
	}

	// Without OnError the first bad name stops the restore.
	_, err = Restore(f.ctx, f.r, root, filepath.Join(tmp, "second"), Options{})
	if !errors.Is(err, ErrInvalidName) {
		t.Errorf("err = %v, want ErrInvalidName", err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestRestoreRepeatedNameInNewDir: in a directory the restore made itself
// nothing is cleared before a create, so a damaged tree that names two items
// alike gets an error for the second, and never a write through the first
// (here a symlink pointing outside the target).
func TestRestoreRepeatedNameInNewDir(t *testing.T) {
	f := newFixture(t)
	tmp := t.TempDir()
	outside := filepath.Join(tmp, "outside")
	must(t, os.WriteFile(outside, []byte("must not change"), 0o644))
	sub := f.treeNamedAlike(symlinkNode("dup", outside, at(2)), f.file("dupX", []byte("bad")))
	root := f.tree(dirNode("sub", sub, 0o755, at(3)))
	f.flush()

	target := filepath.Join(tmp, "target")
	var log errorLog
	if _, err := Restore(f.ctx, f.r, root, target, Options{OnError: log.onError}); err != nil {
		t.Fatal(err)
	}
	wantContent(t, outside, []byte("must not change"))
	if got, err := os.Readlink(filepath.Join(target, "sub", "dup")); got != outside {
		t.Errorf("sub/dup: %q, %v; want the first item, a symlink to %s", got, err, outside)
	}
	if len(log.errs) != 1 || !errors.Is(log.errs[0], fs.ErrExist) {
		t.Errorf("reported %v; want one error for the second dup, wrapping fs.ErrExist", log.errs)
	}
}

// TestRestoreMkdirFails: when a directory cannot be made (here a damaged
// tree names a symlink and a directory alike), its error is reported
// once, nothing below it is created or reported again, no file is written
// through the symlink (a file below the directory's path would go
// through it), and the rest is restored. Without OnError the same error
// ends the restore.
func TestRestoreMkdirFails(t *testing.T) {
	f := newFixture(t)
	tmp := t.TempDir()
	outside := filepath.Join(tmp, "outside")
	must(t, os.Mkdir(outside, 0o755))
	// A file in two packs is created by the plan, not by its writer.
	first := f.file("spanning", pattern(1, 3000))
	f.flush()
	second := f.file("x", pattern(2, 2000))
	first.Content = append(first.Content, second.Content...)
	first.Size += second.Size
	deeper := f.tree(f.file("deep", []byte("deep")))
	inner := f.tree(first, f.file("small", []byte("small")), dirNode("deeper", deeper, 0o755, at(5)))
	sub := f.treeNamedAlike(symlinkNode("dup", outside, at(2)), dirNode("dupX", inner, 0o755, at(3)))
	root := f.tree(dirNode("sub", sub, 0o755, at(4)), f.file("ok", []byte("ok")))
	f.flush()

	target := filepath.Join(tmp, "target")
	var log errorLog
	st, err := Restore(f.ctx, f.r, root, target, Options{OnError: log.onError})
	if err != nil {
		t.Fatal(err)
	}
	dup := filepath.Join(target, "sub", "dup")
	if len(log.errs) != 1 || log.paths[0] != dup || !errors.Is(log.errs[0], fs.ErrExist) {
		t.Errorf("reported %v at %v; want one error for %s, wrapping fs.ErrExist", log.errs, log.paths, dup)
	}
	if got, err := os.Readlink(dup); got != outside {
		t.Errorf("sub/dup: %q, %v; want the symlink to %s", got, err, outside)
	}
	if got := dirNames(t, outside); len(got) != 0 {
		t.Errorf("written through the symlink: %s holds %q", outside, got)
	}
	wantContent(t, filepath.Join(target, "ok"), []byte("ok"))
	if st.Errors != 1 || st.Dirs != 1 || st.Files != 1 {
		t.Errorf("stats %+v; want 1 error, 1 directory (sub), 1 file (ok)", st)
	}

	_, err = Restore(f.ctx, f.r, root, filepath.Join(tmp, "second"), Options{})
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("without OnError: err = %v, want the mkdir's error (fs.ErrExist)", err)
	}
}

// treeNamedAlike stores a damaged tree of the nodes "dup" and "dupX" in
// which both are named "dup". The tree encoder refuses a repeated name,
// so it encodes two names and then makes them alike.
func (f *fixture) treeNamedAlike(dup, dupX *snapshot.Node) repo.ID {
	f.t.Helper()
	tree := &snapshot.Tree{Nodes: []*snapshot.Node{dup, dupX}}
	data, err := tree.Encode()
	must(f.t, err)
	damaged := bytes.Replace(data, []byte(`"dupX"`), []byte(`"dup"`), 1)
	if bytes.Equal(damaged, data) {
		f.t.Fatalf("no name replaced in %s", data)
	}
	id, _, err := f.r.SaveBlob(f.ctx, repo.TreeBlob, damaged)
	must(f.t, err)
	return id
}
