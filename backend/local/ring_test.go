package local

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
