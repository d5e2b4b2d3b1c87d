package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"unsafe"

	"github.com/hbackup/hbackup/backend"
)

// A pack file on Linux takes aligned direct writes, mixed with WriteAt
// for its unaligned end; it refuses unaligned direct writes; and the
// committed file has every byte.
func TestDirectWrites(t *testing.T) {
	ctx := context.Background()
	be := created(t)
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
