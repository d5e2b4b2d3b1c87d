package local

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// refusingRing is a ring that does neither writes nor syncs, as an
// io_uring in a sandbox that implements only part of it may answer.
type refusingRing struct{ calls *int }

func (r refusingRing) WriteAt(int, []byte, int64) (int, error) { *r.calls++; return 0, syscall.EINVAL }
func (r refusingRing) Fsync(int) error                         { *r.calls++; return syscall.EINVAL }
func (r refusingRing) Close() error                            { return nil }

// An EINVAL from the ring is not taken as the file's answer: the plain
// call decides. Otherwise a ring without fsync would make every file
// look like one whose file system cannot sync, and go unsynced.
func TestRingRefusalFallsBack(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls int
	d := &diskRing{opened: true, ring: refusingRing{&calls}}
	if err := d.writeAt(f, []byte("written anyway"), 0); err != nil {
		t.Fatalf("writeAt: %v", err)
	}
	if err := d.sync(f); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if calls != 2 {
		t.Errorf("the ring was asked %d times, want 2", calls)
	}
	if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, []byte("written anyway")) {
		t.Errorf("file holds %q", got)
	}
	// Where the plain call refuses too, its error is the answer.
	dir, err := os.Open(filepath.Dir(f.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if err := d.writeAt(dir, []byte("x"), 0); err == nil {
		t.Error("a write to a directory succeeded")
	}
}

// countingRing fsyncs for real and counts it.
type countingRing struct{ fsyncs *atomic.Int32 }

func (r countingRing) WriteAt(fd int, p []byte, off int64) (int, error) {
	return syscall.Pwrite(fd, p, off)
}
func (r countingRing) Fsync(fd int) error { r.fsyncs.Add(1); return syscall.Fsync(fd) }
func (r countingRing) Close() error       { return nil }

// A lock file is saved without fsync (durabilityOf), an index or snapshot
// with one for the file and one for its directory, whether saved whole or
// written as a pending file.
func TestLockSavedWithoutSync(t *testing.T) {
	ctx := context.Background()
	b := created(t)
	var fsyncs atomic.Int32
	b.disk.opened, b.disk.ring = true, countingRing{&fsyncs}
	name := func(s string) string { return hex.EncodeToString([]byte(s + "00000000000000000000000000000000"))[:64] }
	lock := backend.Handle{Type: backend.LockFile, Name: name("lock")}
	if err := b.Save(ctx, lock, backend.NewByteReader([]byte(`{"pid":1}`))); err != nil {
		t.Fatal(err)
	}
	if got, err := backend.LoadAll(ctx, b, lock); err != nil || string(got) != `{"pid":1}` {
		t.Fatalf("lock reads %q, %v", got, err)
	}
	if n := fsyncs.Load(); n != 0 {
		t.Errorf("saving a lock made %d fsyncs, want 0", n)
	}
	if err := b.Save(ctx, backend.Handle{Type: backend.SnapshotFile, Name: name("snap")}, backend.NewByteReader([]byte("s"))); err != nil {
		t.Fatal(err)
	}
	if n := fsyncs.Load(); n != 2 {
		t.Errorf("saving a snapshot made %d fsyncs, want 2 (file and directory)", n)
	}
	for _, tc := range []struct {
		t    backend.FileType
		want int32
	}{{backend.LockFile, 0}, {backend.IndexFile, 2}} {
		fsyncs.Store(0)
		pf, err := b.CreateFile(ctx, tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pf.WriteAt([]byte("built"), 0); err != nil {
			t.Fatal(err)
		}
		if err := pf.Commit(ctx, backend.Handle{Type: tc.t, Name: name("built")}); err != nil {
			t.Fatal(err)
		}
		if n := fsyncs.Load(); n != tc.want {
			t.Errorf("committing a pending %v made %d fsyncs, want %d", tc.t, n, tc.want)
		}
	}
}
