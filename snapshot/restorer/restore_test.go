package restorer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

func TestRestoreContent(t *testing.T) {
	f := newFixture(t)
	a, b, c := pattern(1, 100_000), pattern(2, 70_000), pattern(3, 5)
	// Two packs: "a" and "b" in the first, "c" in the second.
	multi := f.file("multi", a, b, a) // a blob used twice in one file
	f.flush()
	other := f.file("other", b, c) // b is also used by a second file
	empty := f.file("empty")
	sub := f.tree(f.file("deep", c))
	root := f.tree(multi, other, empty, dirNode("sub", sub, 0o755, at(2)))

	target, st := f.restore(root, Options{})

	wantContent(t, filepath.Join(target, "multi"), bytes.Join([][]byte{a, b, a}, nil))
	wantContent(t, filepath.Join(target, "other"), bytes.Join([][]byte{b, c}, nil))
	wantContent(t, filepath.Join(target, "empty"), []byte{})
	wantContent(t, filepath.Join(target, "sub", "deep"), c)
	want := Stats{Files: 4, Dirs: 1, Bytes: uint64(2*len(a) + 2*len(b) + 2*len(c))}
	if *st != want {
		t.Errorf("stats %+v, want %+v", *st, want)
	}
}

func TestRestoreManyFilesPerPack(t *testing.T) {
	// Every file's first blob comes before every second blob in the pack,
	// so writing them cycles through more files than a pack keeps open.
	f := newFixture(t)
	const n = 3 * maxOpenPerPack
	var firsts, seconds [n][]byte
	for i := range n {
		firsts[i] = pattern(byte(i), 1000+i)
		f.blob(firsts[i])
	}
	for i := range n {
		seconds[i] = pattern(byte(i+n), 2000+i)
		f.blob(seconds[i])
	}
	var nodes []*snapshot.Node
	for i := range n {
		nodes = append(nodes, f.file(string(rune('A'+i)), firsts[i], seconds[i]))
	}
	target, st := f.restore(f.tree(nodes...), Options{Concurrency: 1})
	for i := range n {
		wantContent(t, filepath.Join(target, string(rune('A'+i))), append(bytes.Clone(firsts[i]), seconds[i]...))
	}
	if st.Files != n {
		t.Errorf("Files = %d, want %d", st.Files, n)
	}
}

func TestRestoreSparse(t *testing.T) {
	head, zeros, tail := pattern(1, 8192), make([]byte, 1<<20), pattern(2, 8192)
	want := bytes.Join([][]byte{head, zeros, tail}, nil)
	for _, sparse := range []bool{true, false} {
		f := newFixture(t)
		target, st := f.restore(f.tree(f.file("f", head, zeros, tail)), Options{Sparse: sparse})
		p := filepath.Join(target, "f")
		wantContent(t, p, want)
		var sys syscall.Stat_t
		if err := syscall.Stat(p, &sys); err != nil {
			t.Fatal(err)
		}
		if holes := sys.Blocks*512 < sys.Size; holes != sparse {
			t.Errorf("Sparse=%v: %d blocks for %d bytes: holes=%v", sparse, sys.Blocks, sys.Size, holes)
		}
		if st.Bytes != uint64(len(want)) {
			t.Errorf("Sparse=%v: Bytes = %d, want %d", sparse, st.Bytes, len(want))
		}
	}
}

func TestRestoreSymlinkFifo(t *testing.T) {
	f := newFixture(t)
	fifo := &snapshot.Node{Name: "fifo", Type: snapshot.NodeTypeFifo, Mode: os.ModeNamedPipe | 0o640,
		ModTime: at(3), AccessTime: at(3), ChangeTime: at(3)}
	sock := &snapshot.Node{Name: "sock", Type: snapshot.NodeTypeSocket, Mode: os.ModeSocket | 0o755, ModTime: at(4)}
	root := f.tree(symlinkNode("link", "target/\xffraw", at(5)), symlinkNode("dangling", "../nowhere", at(6)), fifo, sock)

	target, st := f.restore(root, Options{})

	for name, want := range map[string]string{"link": "target/\xffraw", "dangling": "../nowhere"} {
		p := filepath.Join(target, name)
		got, err := os.Readlink(p)
		if err != nil || got != want {
			t.Errorf("%s: readlink = %q, %v; want %q", name, got, err, want)
		}
	}
	wantMtime(t, filepath.Join(target, "link"), at(5))
	fi, err := os.Lstat(filepath.Join(target, "fifo"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != os.ModeNamedPipe|0o640 {
		t.Errorf("fifo mode %v, want %v", fi.Mode(), os.ModeNamedPipe|0o640)
	}
	wantMtime(t, filepath.Join(target, "fifo"), at(3))
	wantNotExist(t, filepath.Join(target, "sock"))
	if st.Others != 3 {
		t.Errorf("Others = %d, want 3", st.Others)
	}
}

// hardlinked returns file nodes with the same content and inode.
func hardlinked(f *fixture, data []byte, names ...string) []*snapshot.Node {
	var out []*snapshot.Node
	for _, name := range names {
		n := f.file(name, data)
		n.Inode, n.DeviceID, n.Links = 4242, 7, uint64(len(names))
		out = append(out, n)
	}
	return out
}

func TestRestoreHardlinks(t *testing.T) {
	f := newFixture(t)
	data := pattern(9, 3000)
	nodes := hardlinked(f, data, "h1", "h2", "h3")
	// Same inode number on another device: not a link of the others.
	foreign := f.file("other-dev", pattern(8, 10))
	foreign.Inode, foreign.DeviceID, foreign.Links = 4242, 8, 2
	sub := f.tree(nodes[2])
	root := f.tree(nodes[0], nodes[1], foreign, dirNode("sub", sub, 0o755, at(2)))

	target, st := f.restore(root, Options{})

	paths := []string{"h1", "h2", "sub/h3"}
	ino := inode(t, filepath.Join(target, paths[0]))
	for _, p := range paths {
		p = filepath.Join(target, p)
		wantContent(t, p, data)
		if got := inode(t, p); got != ino {
			t.Errorf("%s: inode %d, want %d (hardlinked)", p, got, ino)
		}
	}
	if inode(t, filepath.Join(target, "other-dev")) == ino {
		t.Error("a file of another device was linked")
	}
	if st.Files != 4 || st.Bytes != uint64(len(data)+10) {
		t.Errorf("stats %+v: want 4 files, %d bytes", *st, len(data)+10)
	}
}

func TestRestoreHardlinkFirstNotSelected(t *testing.T) {
	f := newFixture(t)
	data := pattern(9, 3000)
	nodes := hardlinked(f, data, "h1", "h2", "h3")
	root := f.tree(nodes...)
	sel := func(item string, isDir bool) (bool, bool) { return item != "/h1", isDir }

	target, _ := f.restore(root, Options{Select: sel})

	wantNotExist(t, filepath.Join(target, "h1"))
	wantContent(t, filepath.Join(target, "h2"), data)
	wantContent(t, filepath.Join(target, "h3"), data)
	if inode(t, filepath.Join(target, "h2")) != inode(t, filepath.Join(target, "h3")) {
		t.Error("h2 and h3 are not hardlinked")
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func wantMtime(t *testing.T, p string, want time.Time) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(want) {
		t.Errorf("%s: mtime %s, want %s", p, fi.ModTime().UTC().Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

func TestRestoreModesAndTimes(t *testing.T) {
	f := newFixture(t)
	file := f.file("file", []byte("content\n"))
	file.Mode, file.ModTime, file.AccessTime = 0o640, at(10), at(11)
	setuid := f.file("setuid", []byte("x"))
	setuid.Mode = os.ModeSetuid | 0o755
	// A read-only directory with content: its mode must come after its
	// files are written, and its mtime after that.
	ro := f.tree(f.file("inside", []byte("in")))
	deepest := f.tree(f.file("leaf", []byte("leaf")))
	mid := f.tree(dirNode("deepest", deepest, 0o700, at(20)), f.file("mid-file", []byte("m")))
	root := f.tree(file, setuid,
		dirNode("ro", ro, 0o555, at(21)),
		dirNode("sticky", f.tree(), os.ModeSticky|0o777, at(22)),
		dirNode("setgid", f.tree(), os.ModeSetgid|0o750, at(23)),
		dirNode("mid", mid, 0o750, at(24)),
	)

	target, st := f.restore(root, Options{})

	for _, c := range []struct {
		path  string
		mode  os.FileMode
		mtime time.Time
	}{
		{"file", 0o640, at(10)},
		{"setuid", os.ModeSetuid | 0o755, at(1)},
		{"ro", os.ModeDir | 0o555, at(21)},
		{"ro/inside", 0o644, at(1)},
		{"sticky", os.ModeDir | os.ModeSticky | 0o777, at(22)},
		{"setgid", os.ModeDir | os.ModeSetgid | 0o750, at(23)},
		{"mid", os.ModeDir | 0o750, at(24)},
		{"mid/deepest", os.ModeDir | 0o700, at(20)},
	} {
		p := filepath.Join(target, c.path)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode(), c.mode)
		}
		wantMtime(t, p, c.mtime)
	}
	var sys syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(target, "file"), &sys); err != nil {
		t.Fatal(err)
	}
	if got := time.Unix(sys.Atim.Unix()); !got.Equal(at(11)) {
		t.Errorf("file: atime %s, want %s", got, at(11))
	}
	if st.Dirs != 5 {
		t.Errorf("Dirs = %d, want 5", st.Dirs)
	}
}

func TestRestoreOverwritesExisting(t *testing.T) {
	f := newFixture(t)
	root := f.tree(f.file("file", []byte("new")), f.file("was-link", []byte("restored")),
		dirNode("dir", f.tree(f.file("x", []byte("x"))), 0o755, at(2)),
		symlinkNode("link", "new-target", at(3)))
	f.flush()
	tmp := t.TempDir()
	target := filepath.Join(tmp, "target")
	outside := filepath.Join(tmp, "outside")
	must(t, os.WriteFile(outside, []byte("must not change"), 0o644))
	must(t, os.MkdirAll(filepath.Join(target, "dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(target, "file"), []byte("an older and longer content"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(target, "was-link")))
	must(t, os.WriteFile(filepath.Join(target, "link"), []byte("a file in the way"), 0o644))
	must(t, os.WriteFile(filepath.Join(target, "dir", "keep"), []byte("kept"), 0o644))

	if _, err := Restore(f.ctx, f.r, root, target, Options{}); err != nil {
		t.Fatal(err)
	}
	wantContent(t, filepath.Join(target, "file"), []byte("new"))
	wantContent(t, filepath.Join(target, "was-link"), []byte("restored"))
	wantContent(t, outside, []byte("must not change"))
	wantContent(t, filepath.Join(target, "dir", "x"), []byte("x"))
	wantContent(t, filepath.Join(target, "dir", "keep"), []byte("kept"))
	if got, err := os.Readlink(filepath.Join(target, "link")); got != "new-target" {
		t.Errorf("link: %q, %v", got, err)
	}
}

func TestRestoreProgress(t *testing.T) {
	f := newFixture(t)
	a := pattern(1, 5000)
	root := f.tree(f.file("a", a, a), f.file("b", a), f.file("empty"))
	var p Progress
	_, st := f.restore(root, Options{Progress: &p})
	if !p.PlanDone.Load() || p.TotalFiles.Load() != 3 || p.Files.Load() != 3 ||
		p.TotalBytes.Load() != 15000 || p.Bytes.Load() != 15000 || p.Errors.Load() != 0 {
		t.Errorf("progress: plan done %v, files %d/%d, bytes %d/%d, errors %d", p.PlanDone.Load(),
			p.Files.Load(), p.TotalFiles.Load(), p.Bytes.Load(), p.TotalBytes.Load(), p.Errors.Load())
	}
	if st.Bytes != 15000 {
		t.Errorf("Bytes = %d", st.Bytes)
	}
}

func TestRestoreCanceled(t *testing.T) {
	f := newFixture(t)
	root := f.tree(f.file("a", []byte("a")))
	f.flush()
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := Restore(ctx, f.r, root, t.TempDir(), Options{OnError: (&errorLog{}).onError})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestRestoreNoTree(t *testing.T) {
	f := newFixture(t)
	missing := repo.Hash([]byte("no such tree"))
	_, err := Restore(f.ctx, f.r, missing, t.TempDir(), Options{})
	if !errors.Is(err, repo.ErrBlobNotFound) {
		t.Errorf("err = %v, want ErrBlobNotFound", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRestoreAllHoleFile: a file made only of zeros is created (with its
// size) even though sparse restore writes nothing to it, and a file
// restored by its pack's writer replaces what was at its path.
func TestRestoreAllHoleFile(t *testing.T) {
	zeros := make([]byte, 1<<20)
	for _, sparse := range []bool{true, false} {
		f := newFixture(t)
		target, _ := f.restore(f.tree(f.file("zeros", zeros), f.file("small", []byte("hello"))), Options{Sparse: sparse})
		wantContent(t, filepath.Join(target, "zeros"), zeros)
		wantContent(t, filepath.Join(target, "small"), []byte("hello"))
	}
}
