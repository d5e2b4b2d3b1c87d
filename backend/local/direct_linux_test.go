package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/uring"
)

// A pack file on Linux takes aligned direct writes, mixed with WriteAt
// for its unaligned end; it refuses unaligned direct writes; and the
// committed file has every byte. The same through the io_uring and
// through plain system calls.
func TestDirectWrites(t *testing.T) {
	for _, ring := range []bool{true, false} {
		t.Run(ringName(ring), func(t *testing.T) {
			be := created(t)
			be.disk.off = !ring
			testDirectWrites(t, be)
			if ring {
				requireRing(t, be)
			}
		})
	}
}

// requireRing fails if be's writes and syncs did not go through an
// io_uring, unless the kernel withholds io_uring (then it says so).
func requireRing(t *testing.T, be *Backend) {
	t.Helper()
	if be.disk.get() != nil {
		return
	}
	_, err := uring.Open(2)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the plain system calls were used: %v", err)
	}
	t.Errorf("no ring used, though one opens (%v)", err)
}

func testDirectWrites(t *testing.T, be *Backend) {
	ctx := context.Background()
	f, err := backend.CreateFile(ctx, be, backend.PackFile)
	if err != nil {
		t.Fatal(err)
	}
	w := f.Direct()
	if w == nil {
		if os.Getenv("HBACKUP_REQUIRE_INTEGRATION") != "" {
			t.Fatalf("no direct writes on the file system of %s", be.path)
		}
		t.Skipf("the file system of %s has no O_DIRECT", be.path)
	}
	// An aligned buffer: a page-aligned window of a larger one.
	raw := make([]byte, 3*backend.DirectAlign+2*65536)
	skip := (backend.DirectAlign - int(uintptr(unsafe.Pointer(&raw[0]))%backend.DirectAlign)) % backend.DirectAlign
	block := raw[skip : skip+65536]
	for i := range block {
		block[i] = byte(i * 13)
	}
	want := append(bytes.Clone(block), block...)
	want = append(want, "an unaligned tail"...)
	// Back to front: the tail first, through the page cache.
	if _, err := f.WriteAt(want[2*65536:], 2*65536); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDirect(block, 65536); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDirect(block, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDirect(block[:100], 0); err == nil {
		t.Error("an unaligned direct write was taken")
	}
	if err := w.WriteDirect(raw[skip+1:skip+1+backend.DirectAlign], 0); err == nil {
		t.Error("a direct write from an unaligned address was taken")
	}
	back := make([]byte, len(want))
	if _, err := f.ReadAt(back, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, want) {
		t.Error("read back differs from what was written")
	}
	sum := sha256.Sum256(want)
	h := backend.Handle{Type: backend.PackFile, Name: hex.EncodeToString(sum[:])}
	if err := f.Commit(ctx, h); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(be.filename(h))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("committed file differs from what was written")
	}
}

// alignedBlock returns n zero bytes at an address aligned for direct
// writes.
func alignedBlock(n int) []byte {
	raw := make([]byte, n+backend.DirectAlign)
	skip := (backend.DirectAlign - int(uintptr(unsafe.Pointer(&raw[0]))%backend.DirectAlign)) % backend.DirectAlign
	return raw[skip : skip+n]
}

// A full disk during direct writes is ENOSPC, naming the file, through
// the io_uring as through pwrite, and the aborted file frees its space.
func TestDirectWriteDiskFull(t *testing.T) {
	for _, ring := range []bool{true, false} {
		t.Run(ringName(ring), func(t *testing.T) {
			dir := mountTmpfs(t, "256k")
			be := newBackend(t, dir)
			be.disk.off = !ring
			if err := be.Create(t.Context()); err != nil {
				t.Fatal(err)
			}
			f, err := backend.CreateFile(t.Context(), be, backend.PackFile)
			if err != nil {
				t.Fatal(err)
			}
			w := f.Direct()
			if w == nil {
				t.Skip("this kernel's tmpfs has no O_DIRECT")
			}
			err = w.WriteDirect(alignedBlock(1<<20), 0)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("direct write of 1 MiB onto a 256 KiB file system = %v, want ENOSPC", err)
			}
			if name := f.(*pendingFile).f.Name(); !bytes.Contains([]byte(err.Error()), []byte(name)) {
				t.Errorf("error %q does not name the file %s", err, name)
			}
			if ring {
				requireRing(t, be)
			}
			if err := f.Abort(); err != nil {
				t.Fatal(err)
			}
			if err := be.Close(); err != nil {
				t.Fatal(err)
			}
			if tmp := tempFiles(t, dir); len(tmp) != 0 {
				t.Errorf("temporary files left: %v", tmp)
			}
		})
	}
}
