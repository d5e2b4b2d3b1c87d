package archiver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"golang.org/x/sys/unix"
)

func newRepo(t *testing.T) (*repo.Repository, backend.Backend) {
	t.Helper()
	be := mem.New()
	r, err := repo.Init(context.Background(), be, "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return r, be
}

// paths lists every path in the snapshot below the given prefix.
func paths(t *testing.T, r *repo.Repository, tree repo.ID, prefix string) []string {
	t.Helper()
	var out []string
	var walk func(id repo.ID, p string)
	walk = func(id repo.ID, p string) {
		tr, err := snapshot.LoadTree(context.Background(), r, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tr.Nodes {
			np := p + "/" + n.Name
			if strings.HasPrefix(np, prefix) && np != prefix {
				out = append(out, strings.TrimPrefix(np, prefix))
			}
			if n.Subtree != nil {
				walk(*n.Subtree, np)
			}
		}
	}
	walk(tree, "")
	sort.Strings(out)
	return out
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExcludes(t *testing.T) {
	src := t.TempDir()
	write(t, filepath.Join(src, "keep.txt"), "k")
	write(t, filepath.Join(src, "skip.log"), "s")
	write(t, filepath.Join(src, "cache", "CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n")
	write(t, filepath.Join(src, "cache", "blob"), "b")
	write(t, filepath.Join(src, "sub", "deep.log"), "d")
	ex, err := filter.NewExcluder(filter.ExcludeOptions{Excludes: []string{"*.log"}, ExcludeCaches: true})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newRepo(t)
	res, err := archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{src}, Excluder: ex, Excludes: []string{"*.log"}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(paths(t, r, *res.Snapshot.Tree, src), " ")
	want := "/cache /cache/CACHEDIR.TAG /keep.txt /sub"
	if got != want {
		t.Fatalf("backed up %q, want %q", got, want)
	}
	if strings.Join(res.Snapshot.Excludes, ",") != "*.log" {
		t.Fatalf("excludes recorded: %v", res.Snapshot.Excludes)
	}
}

func TestParentAndChangeDetection(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), "aaa")
	write(t, filepath.Join(src, "b"), "bbb")
	write(t, filepath.Join(src, "d", "c"), "ccc")
	r, _ := newRepo(t)
	first, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	if s := first.Summary; s.FilesNew != 3 || s.DirsNew == 0 {
		t.Fatalf("first backup summary %+v", s)
	}
	// Reload the snapshot so it carries its ID, as a parent found in the
	// repository does.
	parent, err := snapshot.Load(ctx, r, first.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}

	write(t, filepath.Join(src, "a"), "aaaa")                        // content and size
	if err := os.Chmod(filepath.Join(src, "b"), 0o600); err != nil { // ctime only
		t.Fatal(err)
	}
	second, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, Parent: parent})
	if err != nil {
		t.Fatal(err)
	}
	s := second.Summary
	if s.FilesChanged != 2 || s.FilesUnmodified != 1 || s.FilesNew != 0 {
		t.Fatalf("second backup: %+v, want 2 changed (size, ctime), 1 unmodified", s)
	}
	if s.DataBlobs != 1 {
		t.Fatalf("second backup stored %d data blobs, want 1 (only a's new content)", s.DataBlobs)
	}
	if second.Snapshot.Parent == nil || *second.Snapshot.Parent != first.SnapshotID {
		t.Fatalf("parent not recorded: %v", second.Snapshot.Parent)
	}
	// With --ignore-ctime the chmod alone does not make b changed.
	if err := os.Chmod(filepath.Join(src, "b"), 0o644); err != nil {
		t.Fatal(err)
	}
	parent2, _ := snapshot.Load(ctx, r, second.SnapshotID)
	third, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, Parent: parent2, IgnoreCtime: true})
	if err != nil {
		t.Fatal(err)
	}
	if third.Summary.FilesUnmodified != 3 {
		t.Fatalf("--ignore-ctime: %+v", third.Summary)
	}
	// The reused node still gets fresh metadata (mode) from lstat.
	tr, _ := snapshot.FindSubtree(ctx, r, *third.Snapshot.Tree, src)
	tree, _ := snapshot.LoadTree(ctx, r, tr)
	if m := tree.Find("b").Mode.Perm(); m != 0o644 {
		t.Fatalf("reused node has mode %o, want 644", m)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	write(t, filepath.Join(src, "f"), strings.Repeat("x", 100000))
	r, be := newRepo(t)
	res, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.DataBlobs != 1 || res.Summary.FilesNew != 1 {
		t.Fatalf("dry run summary: %+v", res.Summary)
	}
	for _, ft := range []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile} {
		n := 0
		_ = be.List(ctx, ft, func(backend.FileInfo) error { n++; return nil })
		if n != 0 {
			t.Fatalf("dry run wrote %d %v files", n, ft)
		}
	}
}

func TestUnreadableFileIsSkipped(t *testing.T) {
	if testutil.IsRoot() {
		// Root reads mode-0000 files; drop to an unprivileged user for
		// this test by running it in a child process.
		runAsNobody(t, "TestUnreadableFileIsSkipped")
		return
	}
	src, err := os.MkdirTemp(os.Getenv("HBACKUP_TEST_TMP"), "src")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "ok"), "fine")
	write(t, filepath.Join(src, "secret"), "hidden")
	if err := os.Chmod(filepath.Join(src, "secret"), 0); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "closed", "inner"), "x")
	if err := os.Chmod(filepath.Join(src, "closed"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(src, "closed"), 0o755)
	// Deeper, among siblings, so walkers of their own meet it.
	for _, d := range []string{"a", "b", "c"} {
		write(t, filepath.Join(src, "deep", d, "f"), d)
	}
	write(t, filepath.Join(src, "deep", "b", "closed2", "inner"), "y")
	if err := os.Chmod(filepath.Join(src, "deep", "b", "closed2"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(src, "deep", "b", "closed2"), 0o755)
	r, _ := newRepo(t)
	var mu sync.Mutex
	var failed []string
	res, err := archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{src},
		OnError: func(path string, err error) error {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, filepath.Base(path))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(failed)
	if strings.Join(failed, ",") != "closed,closed2,secret" || res.Errors != 3 {
		t.Fatalf("errors reported for %v (count %d), want closed, closed2 and secret", failed, res.Errors)
	}
	want := "/deep /deep/a /deep/a/f /deep/b /deep/b/f /deep/c /deep/c/f /ok"
	if got := strings.Join(paths(t, r, *res.Snapshot.Tree, src), " "); got != want {
		t.Fatalf("snapshot holds %q, want %q", got, want)
	}
	// Without OnError the first unreadable item aborts the backup.
	if _, err := archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{src}}); err == nil {
		t.Fatal("backup without OnError succeeded despite unreadable files")
	}
}

// TestConcurrentWalkKeepsTheTree backs up more directories than there
// are walkers, at several depths, and checks the snapshot lists exactly
// the file system, and that a second backup reproduces the same trees.
func TestConcurrentWalkKeepsTheTree(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	var want []string
	seen := map[string]bool{}
	for i := range 40 {
		p := filepath.Join(fmt.Sprintf("d%d", i%5), fmt.Sprintf("e%d", i%7), fmt.Sprintf("f%02d", i))
		write(t, filepath.Join(src, p), p)
		for q := p; q != "."; q = filepath.Dir(q) {
			if !seen[q] {
				seen[q] = true
				want = append(want, "/"+q)
			}
		}
	}
	sort.Strings(want)
	// Reading a directory can move its atime (relatime: when the atime is
	// not after the mtime), and the first backup would then change the
	// trees the second one sees. An atime in the future stays put.
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		return os.Chtimes(p, time.Now().Add(time.Hour), fi.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newRepo(t)
	first, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(t, r, *first.Snapshot.Tree, src); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("snapshot holds\n%v\nwant\n%v", got, want)
	}
	second, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, Parent: first.Snapshot})
	if err != nil {
		t.Fatal(err)
	}
	// Compare src's own tree: the directories above it (the temporary
	// directory's parents) may change meanwhile.
	a, b := subtreeAt(t, r, *first.Snapshot.Tree, src), subtreeAt(t, r, *second.Snapshot.Tree, src)
	if a != b || second.Summary.FilesUnmodified != 40 {
		t.Fatalf("second backup: tree %v (first %v), %d unmodified files, want the same tree and 40",
			b.Str(), a.Str(), second.Summary.FilesUnmodified)
	}
}

// subtreeAt returns the ID of the tree of the directory at the absolute
// path dir in the snapshot tree root.
func subtreeAt(t *testing.T, r *repo.Repository, root repo.ID, dir string) repo.ID {
	t.Helper()
	id := root
	for _, name := range strings.Split(strings.Trim(dir, "/"), "/") {
		tree, err := snapshot.LoadTree(context.Background(), r, id)
		if err != nil {
			t.Fatal(err)
		}
		n := tree.Find(name)
		if n == nil || n.Subtree == nil {
			t.Fatalf("no directory %q in tree %v", name, id.Str())
		}
		id = *n.Subtree
	}
	return id
}

// runAsNobody re-runs one test of this package's test binary as uid 65534.
func runAsNobody(t *testing.T, name string) {
	t.Helper()
	setpriv := testutil.RequireBinary(t, "setpriv")
	// t.TempDir's parent is private to root, so use a directory nobody
	// can enter.
	tmp, err := os.MkdirTemp("", "hbackup-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary lives in a root-only temp dir: copy it somewhere
	// nobody can execute it.
	bin := filepath.Join(tmp, "archiver.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-test.run", "^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), "HBACKUP_TEST_TMP="+tmp, "TMPDIR="+tmp, "HOME="+tmp, "GOCACHE="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func TestRelativePathsAndSnapshotFields(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	write(t, filepath.Join(base, "data", "sub", "f"), "x")
	t.Chdir(base)
	r, _ := newRepo(t)
	res, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{"data/sub"}, Host: "h1", Tags: []string{"t1"},
		Time: time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	sn := res.Snapshot
	if len(sn.Paths) != 1 || sn.Paths[0] != filepath.Join(base, "data", "sub") {
		t.Fatalf("paths %v", sn.Paths)
	}
	// The tree is rooted at the path as given, as restic does.
	if got := strings.Join(paths(t, r, *sn.Tree, ""), " "); got != "/data /data/sub /data/sub/f" {
		t.Fatalf("tree %q", got)
	}
	loaded, err := snapshot.Load(ctx, r, res.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Hostname != "h1" || loaded.Tags[0] != "t1" || !loaded.Time.Equal(sn.Time) || loaded.Summary == nil || loaded.ProgramVersion != "" {
		t.Fatalf("loaded snapshot %+v", loaded)
	}
}

func TestCancelledBackupLeavesConsistentRepository(t *testing.T) {
	src := t.TempDir()
	for i := 0; i < 20; i++ {
		testutil.WriteRandomFile(t, filepath.Join(src, "f"+string(rune('a'+i))), 2<<20, int64(i))
	}
	r, be := newRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	prog := &archiver.Progress{}
	go func() {
		for prog.Bytes.Load() < 10<<20 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, Progress: prog, ReadConcurrency: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled backup returned %v", err)
	}
	// No snapshot was written; whatever was indexed points at packs that
	// exist.
	n := 0
	_ = be.List(context.Background(), backend.SnapshotFile, func(backend.FileInfo) error { n++; return nil })
	if n != 0 {
		t.Fatalf("cancelled backup wrote %d snapshots", n)
	}
	if err := r.SaveIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	r2, err := repo.Open(context.Background(), be, "pw", repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id := range r2.Index().Packs() {
		if _, err := r2.ReadPackHeader(context.Background(), id, 0); err != nil {
			t.Fatalf("indexed pack %v: %v", id.Str(), err)
		}
	}
}

func TestOneFileSystemKeepsMountPointEmpty(t *testing.T) {
	testutil.RequireRoot(t)
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), "a")
	mnt := filepath.Join(src, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs here: %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	write(t, filepath.Join(mnt, "inside"), "other fs")
	r, _ := newRepo(t)
	res, err := archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{src}, OneFileSystem: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(paths(t, r, *res.Snapshot.Tree, src), " "); got != "/a /mnt" {
		t.Fatalf("one-file-system backed up %q, want /a and the empty mount point", got)
	}
	res, err = archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(paths(t, r, *res.Snapshot.Tree, src), " "); got != "/a /mnt /mnt/inside" {
		t.Fatalf("without one-file-system: %q", got)
	}
}

// failingBackend refuses to store packs, like a full disk.
type failingBackend struct {
	backend.Backend
}

var errDiskFull = errors.New("disk full (test)")

func (f failingBackend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type == backend.PackFile {
		return errDiskFull
	}
	return f.Backend.Save(ctx, h, rd)
}

// TestRepositoryErrorsAreNotSkipped: a failure to write the repository
// aborts the backup even when OnError skips unreadable files; it must
// never produce a snapshot that silently lacks files.
func TestRepositoryErrorsAreNotSkipped(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	for i := 0; i < 4; i++ {
		testutil.WriteRandomFile(t, filepath.Join(src, "f"+string(rune('a'+i))), 5<<20, int64(i))
	}
	be := failingBackend{mem.New()}
	r, err := repo.Init(ctx, be, "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	_, err = archiver.Backup(ctx, r, archiver.Options{Paths: []string{src},
		OnError: func(string, error) error { skipped++; return nil }})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("backup returned %v, want the repository error", err)
	}
	if skipped != 0 {
		t.Fatalf("%d repository errors were treated as unreadable files", skipped)
	}
	n := 0
	_ = be.List(ctx, backend.SnapshotFile, func(backend.FileInfo) error { n++; return nil })
	if n != 0 {
		t.Fatal("a snapshot was written")
	}
}

// slowBackend delays pack uploads, so uploads are still running when the
// file readers finish.
type slowBackend struct {
	backend.Backend
}

func (s slowBackend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type == backend.PackFile {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Backend.Save(ctx, h, rd)
}

// TestSlowUploadsOutliveReaders is a regression test: uploads started by
// the readers must not be cancelled when the readers are done.
func TestSlowUploadsOutliveReaders(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	for i := 0; i < 6; i++ {
		testutil.WriteRandomFile(t, filepath.Join(src, "f"+string(rune('a'+i))), 5<<20, int64(i))
	}
	be := slowBackend{mem.New()}
	if _, err := repo.Init(ctx, be, "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}}); err != nil {
		t.Fatal(err)
	}
	r2, err := repo.Open(ctx, be, "pw", repo.Options{Compression: repo.CompressionOff, PackSize: repo.MinPackSize})
	if err != nil {
		t.Fatal(err)
	}
	res, err := archiver.Backup(ctx, r2, archiver.Options{Paths: []string{src}})
	if err != nil {
		t.Fatalf("backup with slow uploads: %v", err)
	}
	if res.Summary.DataBlobs == 0 {
		t.Fatal("nothing stored")
	}
}

// TestNewFilesDescribedAsByLstat: new files, which the walk opens
// straight from the directory listing, get the nodes an lstat would
// give (mode, times, links, xattrs), and a size limit still applies.
func TestNewFilesDescribedAsByLstat(t *testing.T) {
	src := t.TempDir()
	write(t, filepath.Join(src, "plain"), "plain content")
	write(t, filepath.Join(src, "big"), strings.Repeat("b", 4096))
	write(t, filepath.Join(src, "setuid"), "s")
	if err := os.Chmod(filepath.Join(src, "setuid"), 0o750|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, "plain"), filepath.Join(src, "hardlink")); err != nil {
		t.Fatal(err)
	}
	xattr := unix.Setxattr(filepath.Join(src, "plain"), "user.note", []byte("a note"), 0) == nil
	ex, err := filter.NewExcluder(filter.ExcludeOptions{ExcludeLargerThan: "1K"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ex   archiver.Excluder
		want string
	}{
		{"no excluder", nil, "big hardlink plain setuid"},
		{"size limit", ex, "hardlink plain setuid"},
	} {
		r, _ := newRepo(t)
		res, err := archiver.Backup(context.Background(), r, archiver.Options{Paths: []string{src}, Excluder: c.ex})
		if err != nil {
			t.Fatal(err)
		}
		tree, err := snapshot.LoadTree(context.Background(), r, subtreeAt(t, r, *res.Snapshot.Tree, src))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, got := range tree.Nodes {
			names = append(names, got.Name)
			fi, err := os.Lstat(filepath.Join(src, got.Name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := snapshot.NodeFromFileInfo(filepath.Join(src, got.Name), fi, &snapshot.UserNames{})
			if err != nil {
				t.Fatal(err)
			}
			want.Content, want.Size = got.Content, got.Size
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if string(gj) != string(wj) {
				t.Errorf("%s: node %s, lstat gives %s", c.name, gj, wj)
			}
			if got.Size != uint64(fi.Size()) || len(got.Content) != 1 {
				t.Errorf("%s: %s: size %d, %d blobs", c.name, got.Name, got.Size, len(got.Content))
			}
			if got.Name == "plain" && xattr && len(got.ExtendedAttributes) != 1 {
				t.Errorf("%s: plain: xattrs %v", c.name, got.ExtendedAttributes)
			}
		}
		if strings.Join(names, " ") != c.want {
			t.Errorf("%s: backed up %q, want %q", c.name, names, c.want)
		}
	}
}

// TestXattrsKeptFromHbackupParent: an unchanged file keeps the extended
// attributes its node in a parent written by hbackup has, without
// reading them; from a parent written by another program they are read.
// The parent here is doctored to carry a marker attribute the file does
// not have, which shows where they came from.
func TestXattrsKeptFromHbackupParent(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	file := filepath.Join(src, "f")
	write(t, file, "content")
	r, _ := newRepo(t)
	first, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}})
	if err != nil {
		t.Fatal(err)
	}
	marker := snapshot.ExtendedAttribute{Name: "user.marker", Value: []byte("from the parent")}
	doctored := rewriteNode(t, r, *first.Snapshot.Tree, strings.Split(strings.Trim(file, "/"), "/"), func(n *snapshot.Node) {
		n.ExtendedAttributes = []snapshot.ExtendedAttribute{marker}
	})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		program string
		kept    bool
	}{
		{archiver.ProgramName + " 0.1.0", true},
		{"restic 0.14.0", false},
		{"", false},
	} {
		parent := &snapshot.Snapshot{Tree: &doctored, Paths: []string{src}, ProgramVersion: c.program}
		res, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}, Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.FilesUnmodified != 1 {
			t.Fatalf("parent by %q: %+v, want the file unmodified", c.program, res.Summary)
		}
		tree, err := snapshot.LoadTree(ctx, r, subtreeAt(t, r, *res.Snapshot.Tree, src))
		if err != nil {
			t.Fatal(err)
		}
		xs := tree.Find("f").ExtendedAttributes
		if kept := len(xs) == 1 && xs[0].Name == marker.Name; kept != c.kept {
			t.Errorf("parent by %q: xattrs %v, want the parent's: %v", c.program, xs, c.kept)
		}
	}
}

// rewriteNode stores a copy of the tree root in which fn has changed the
// node at path, and returns the copy's ID.
func rewriteNode(t *testing.T, r *repo.Repository, root repo.ID, path []string, fn func(*snapshot.Node)) repo.ID {
	t.Helper()
	tree, err := snapshot.LoadTree(context.Background(), r, root)
	if err != nil {
		t.Fatal(err)
	}
	n := tree.Find(path[0])
	if n == nil {
		t.Fatalf("no %q in tree %v", path[0], root.Str())
	}
	if len(path) == 1 {
		fn(n)
	} else {
		id := rewriteNode(t, r, *n.Subtree, path[1:], fn)
		n.Subtree = &id
	}
	id, err := snapshot.SaveTree(context.Background(), r, tree)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
