package local

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Files are synced through an io_uring where the kernel has one; the
// plain system calls must keep every promise too.
func TestConformance(t *testing.T) {
	for _, ring := range []bool{true, false} {
		t.Run(ringName(ring), func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) backend.Backend {
				be := newBackend(t, filepath.Join(t.TempDir(), "repo"))
				be.disk.off = !ring
				return be
			})
		})
	}
}

// ringName names the subtests with and without the io_uring.
func ringName(ring bool) string {
	if ring {
		return "io_uring"
	}
	return "plain"
}

func newBackend(t *testing.T, dir string) *Backend {
	t.Helper()
	be, err := New(dir, Options{})
	if err != nil {
		t.Fatalf("New(%s): %v", dir, err)
	}
	return be
}

// created returns a backend on a new repository in a temp directory.
func created(t *testing.T) *Backend {
	t.Helper()
	be := newBackend(t, filepath.Join(t.TempDir(), "repo"))
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return be
}

func save(t *testing.T, be *Backend, h backend.Handle, data []byte) {
	t.Helper()
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save(%v): %v", h, err)
	}
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}

// tempFiles returns the leftover temporary files in the repository.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), layout.TempMarker) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

var allHandles = []backend.Handle{
	{Type: backend.ConfigFile},
	{Type: backend.KeyFile, Name: "k1"},
	{Type: backend.LockFile, Name: "l1"},
	{Type: backend.SnapshotFile, Name: "s1"},
	{Type: backend.IndexFile, Name: "i1"},
	{Type: backend.PackFile, Name: "ab12"},
}

func TestNewMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	be := newBackend(t, dir)
	if be.Location() != dir {
		t.Errorf("Location() = %q, want %q", be.Location(), dir)
	}
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Create did not make %s: %v", dir, err)
	}
}

// The files land where restic puts them.
func TestLayoutOnDisk(t *testing.T) {
	be := created(t)
	for _, h := range allHandles {
		save(t, be, h, []byte(h.String()))
	}
	for _, rel := range []string{"config", "keys/k1", "locks/l1", "snapshots/s1", "index/i1", "data/ab/ab12"} {
		if _, err := os.Stat(filepath.Join(be.Location(), rel)); err != nil {
			t.Errorf("expected file %s: %v", rel, err)
		}
	}
}

func TestModes(t *testing.T) {
	be := created(t)
	wantMode(t, be.Location(), 0o700)
	for _, p := range layout.Paths() {
		wantMode(t, filepath.Join(be.Location(), p), 0o700)
	}
	for _, h := range allHandles {
		save(t, be, h, []byte("x"))
		wantMode(t, be.filename(h), 0o400)
	}
	// A data directory missing on disk is made with the same mode.
	if err := os.Remove(filepath.Join(be.Location(), "data", "cd")); err != nil {
		t.Fatal(err)
	}
	save(t, be, backend.Handle{Type: backend.PackFile, Name: "cd34"}, []byte("x"))
	wantMode(t, filepath.Join(be.Location(), "data", "cd"), 0o700)
}

// A group-readable config marks a repository shared with the group:
// a backend opened on it makes group-accessible files and directories.
func TestGroupModes(t *testing.T) {
	be := created(t)
	config := backend.Handle{Type: backend.ConfigFile}
	save(t, be, config, []byte("config"))
	if err := os.Chmod(be.filename(config), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(be.Location(), "data", "ef")); err != nil {
		t.Fatal(err)
	}

	shared := newBackend(t, be.Location())
	for _, h := range allHandles[1:] {
		save(t, shared, h, []byte("x"))
		wantMode(t, shared.filename(h), 0o440)
	}
	save(t, shared, backend.Handle{Type: backend.PackFile, Name: "ef56"}, []byte("x"))
	wantMode(t, filepath.Join(be.Location(), "data", "ef"), 0o770)
	wantMode(t, filepath.Join(be.Location(), "data", "ef", "ef56"), 0o440)
}

// blockingReader hands out its first half, then waits for release.
type blockingReader struct {
	data     []byte
	pos      int
	paused   bool
	halfway  chan struct{} // closed when the first half is out
	released chan struct{} // close to let the second half out
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.pos == len(r.data)/2 && !r.paused {
		r.paused = true
		close(r.halfway)
		<-r.released
	}
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	end := len(r.data)
	if r.pos < len(r.data)/2 {
		end = len(r.data) / 2
	}
	n := copy(p, r.data[r.pos:end])
	r.pos += n
	return n, nil
}

func (r *blockingReader) Rewind() error { r.pos = 0; return nil }
func (r *blockingReader) Length() int64 { return int64(len(r.data)) }

// While a Save is half done, its temporary file exists on disk but
// neither List nor Stat shows anything.
func TestTempFileInvisible(t *testing.T) {
	be := created(t)
	h := backend.Handle{Type: backend.PackFile, Name: "ab99"}
	halfway, released := make(chan struct{}), make(chan struct{})
	rd := &blockingReader{data: bytes.Repeat([]byte("z"), 100_000), halfway: halfway, released: released}
	saved := make(chan error)
	go func() { saved <- be.Save(t.Context(), h, rd) }()
	<-halfway

	if tmp := tempFiles(t, be.Location()); len(tmp) != 1 {
		t.Errorf("temporary files during Save: %v, want exactly one", tmp)
	}
	err := be.List(t.Context(), backend.PackFile, func(fi backend.FileInfo) error {
		t.Errorf("List shows %q during Save", fi.Name)
		return nil
	})
	if err != nil {
		t.Errorf("List: %v", err)
	}
	if _, err := be.Stat(t.Context(), h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat during Save = %v, want ErrNotExist", err)
	}

	close(released)
	if err := <-saved; err != nil {
		t.Fatalf("Save: %v", err)
	}
	if fi, err := be.Stat(t.Context(), h); err != nil || fi.Size != 100_000 {
		t.Errorf("Stat after Save = %v, %v", fi, err)
	}
	if tmp := tempFiles(t, be.Location()); len(tmp) != 0 {
		t.Errorf("temporary files left after Save: %v", tmp)
	}
}

// Stray temporary files (from a crash) and non-directories in data are
// not listed.
func TestListSkipsStrays(t *testing.T) {
	be := created(t)
	save(t, be, backend.Handle{Type: backend.PackFile, Name: "ab01"}, []byte("x"))
	save(t, be, backend.Handle{Type: backend.IndexFile, Name: "i1"}, []byte("x"))
	for _, rel := range []string{"data/ab/ab02-tmp-0123", "index/i2-tmp-0123", "data/stray"} {
		if err := os.WriteFile(filepath.Join(be.Location(), rel), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for ft, want := range map[backend.FileType]string{backend.PackFile: "ab01", backend.IndexFile: "i1"} {
		var got []string
		err := be.List(t.Context(), ft, func(fi backend.FileInfo) error {
			got = append(got, fi.Name)
			return nil
		})
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("List(%v) = %v, %v; want [%s]", ft, got, err, want)
		}
	}
}

// A Save that fails inside the file system returns an error naming the
// path and wrapping the OS error, and leaves no temporary file. A file
// where data/ab should be makes the failure reproducible even as root.
func TestSaveOSError(t *testing.T) {
	be := created(t)
	dir := filepath.Join(be.Location(), "data", "ab")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := be.Save(t.Context(), backend.Handle{Type: backend.PackFile, Name: "ab77"}, backend.NewByteReader([]byte("x")))
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Save = %v, want an error wrapping ENOTDIR", err)
	}
	if err != nil && !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the path %s", err, dir)
	}
	if tmp := tempFiles(t, be.Location()); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// Permission errors come through as fs.ErrPermission. Root ignores
// directory permissions, so this cannot be provoked when running as root.
func TestSaveReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root bypasses file permissions")
	}
	be := created(t)
	dir := filepath.Join(be.Location(), "index")
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	h := backend.Handle{Type: backend.IndexFile, Name: "i1"}
	err := be.Save(t.Context(), h, backend.NewByteReader([]byte("x")))
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Save into a read-only directory = %v, want fs.ErrPermission", err)
	}
	if _, err := be.Stat(t.Context(), h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after the failed Save = %v, want ErrNotExist", err)
	}
	if tmp := tempFiles(t, be.Location()); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// A failed Save (here the reader fails) removes its temporary file.
func TestFailedSaveLeavesNoTemp(t *testing.T) {
	be := created(t)
	errRead := errors.New("read failed")
	h := backend.Handle{Type: backend.PackFile, Name: "ab55"}
	err := be.Save(t.Context(), h, &errReader{n: 70_000, err: errRead})
	if !errors.Is(err, errRead) {
		t.Fatalf("Save = %v, want the reader's error", err)
	}
	if tmp := tempFiles(t, be.Location()); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if _, err := os.Stat(be.filename(h)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("final file exists after a failed Save: %v", err)
	}
}

// errReader returns n zero bytes, then err.
type errReader struct {
	n   int
	err error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

func (r *errReader) Rewind() error { return errors.New("cannot rewind") }
func (r *errReader) Length() int64 { return 1 << 20 }

func TestLoadErrors(t *testing.T) {
	be := created(t)
	h := backend.Handle{Type: backend.IndexFile, Name: "i1"}
	save(t, be, h, make([]byte, 100))

	err := be.Load(t.Context(), h, 10, 95, func(io.Reader) error { return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Load past the end = %v, want io.ErrUnexpectedEOF", err)
	}
	missing := backend.Handle{Type: backend.IndexFile, Name: "i2"}
	err = be.Load(t.Context(), missing, 0, 0, func(io.Reader) error { return nil })
	if !errors.Is(err, backend.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want backend.ErrNotExist and fs.ErrNotExist", err)
	}
}

// Names that would escape their directory, or hide as temporary files,
// are refused.
func TestUnsafeNames(t *testing.T) {
	be := created(t)
	for _, name := range []string{"../config", "a/b", "..", "x-tmp-1"} {
		h := backend.Handle{Type: backend.KeyFile, Name: name}
		if err := be.Save(t.Context(), h, backend.NewByteReader([]byte("x"))); err == nil {
			t.Errorf("Save(%q) succeeded", name)
		}
	}
	if _, err := os.Stat(filepath.Join(be.Location(), "config")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key name wrote config: %v", err)
	}
}

func TestCreateExisting(t *testing.T) {
	be := created(t)
	save(t, be, backend.Handle{Type: backend.ConfigFile}, []byte("config"))
	again := newBackend(t, be.Location())
	if err := again.Create(t.Context()); !errors.Is(err, backend.ErrAlreadyExists) {
		t.Errorf("Create over an existing repository = %v, want ErrAlreadyExists", err)
	}
}

func TestProperties(t *testing.T) {
	be := created(t)
	if p := be.Properties(); p.Connections != 2 || !p.HasAtomicReplace {
		t.Errorf("Properties() = %+v", p)
	}
	custom, err := New(t.TempDir(), Options{Connections: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := custom.Properties().Connections; got != 5 {
		t.Errorf("Connections = %d, want 5", got)
	}
}

// Pack files are synced in the background: readable at once, on disk by
// the time a file of another type is saved, and a failed sync fails that
// save, a removal and Close, so no index can name a pack that may be lost.
func TestPackSyncInBackground(t *testing.T) {
	ctx := context.Background()
	b := created(t)
	release := make(chan struct{})
	var synced atomic.Int32
	var fail atomic.Bool
	errDisk := errors.New("disk gone (test)")
	b.syncHook = func(f *os.File) error {
		<-release
		synced.Add(1)
		if fail.Load() {
			return errDisk
		}
		return f.Sync()
	}
	name := func(s string) string { return hex.EncodeToString([]byte(s + "00000000000000000000000000000000"))[:64] }
	pack := backend.Handle{Type: backend.PackFile, Name: name("pack")}
	if err := b.Save(ctx, pack, backend.NewByteReader([]byte("pack data"))); err != nil {
		t.Fatal(err)
	}
	if got, err := backend.LoadAll(ctx, b, pack); err != nil || string(got) != "pack data" {
		t.Fatalf("pack before its sync: %q, %v", got, err)
	}
	done := make(chan error, 1)
	go func() {
		done <- b.Save(ctx, backend.Handle{Type: backend.IndexFile, Name: name("index")}, backend.NewByteReader([]byte("index")))
	}()
	select {
	case err := <-done:
		t.Fatalf("index saved (%v) while a pack was still being synced", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil || synced.Load() != 1 {
		t.Fatalf("index save: %v after %d pack syncs, want nil after 1", err, synced.Load())
	}

	fail.Store(true)
	pack2 := backend.Handle{Type: backend.PackFile, Name: name("pack2")}
	if err := b.Save(ctx, pack2, backend.NewByteReader([]byte("more"))); err != nil {
		t.Fatal(err) // the sync fails later
	}
	if err := b.Save(ctx, backend.Handle{Type: backend.SnapshotFile, Name: name("snap")}, backend.NewByteReader([]byte("s"))); !errors.Is(err, errDisk) {
		t.Errorf("snapshot saved after a failed pack sync: %v", err)
	}
	lock := backend.Handle{Type: backend.LockFile, Name: name("lock")}
	if err := b.Save(ctx, lock, backend.NewByteReader([]byte("l"))); err != nil {
		t.Errorf("lock save: %v (locks name no packs)", err)
	}
	if err := b.Remove(ctx, lock); err != nil {
		t.Errorf("lock removal: %v", err)
	}
	if err := b.Remove(ctx, pack); !errors.Is(err, errDisk) {
		t.Errorf("pack removed after a failed pack sync: %v", err)
	}
	if err := b.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close: %v, want the sync failure", err)
	}
}

// TestLoadLongRanges reads ranges long enough to be prefetched, in
// several fadvise chunks and ending off a chunk boundary, and checks
// every byte: the hint must not change what Load returns.
func TestLoadLongRanges(t *testing.T) {
	be := created(t)
	h := backend.Handle{Type: backend.PackFile, Name: strings.Repeat("ab", 32)}
	data := make([]byte, 3*prefetchChunk+12345)
	for i := range data {
		data[i] = byte(i*7 + i>>13)
	}
	save(t, be, h, data)
	for _, r := range []struct{ off, n int }{
		{0, 0}, // the whole file
		{1, prefetchMin},
		{prefetchChunk - 3, 2*prefetchChunk + 5},
		{len(data) - prefetchMin - 1, prefetchMin + 1},
	} {
		var got []byte
		err := be.Load(t.Context(), h, r.n, int64(r.off), func(rd io.Reader) error {
			var err error
			got, err = io.ReadAll(rd)
			return err
		})
		if err != nil {
			t.Fatalf("Load(%d at %d): %v", r.n, r.off, err)
		}
		want := data[r.off:]
		if r.n > 0 {
			want = want[:r.n]
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Load(%d at %d) returned %d bytes that differ from the file", r.n, r.off, len(got))
		}
	}
}
