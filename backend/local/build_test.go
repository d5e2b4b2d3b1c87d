package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// A file built in place is written out of order and concurrently, read
// back, invisible until committed, and then exactly what was written,
// read-only under its final name in its data/xx directory.
func TestBuildFileInPlace(t *testing.T) {
	ctx := context.Background()
	be := created(t)
	f, err := backend.CreateFile(ctx, be, backend.PackFile)
	if err != nil {
		t.Fatal(err)
	}
	const pieces, size = 16, 4096
	want := make([]byte, pieces*size)
	for i := range want {
		want[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	for i := pieces - 1; i >= 0; i-- { // back to front, concurrently
		wg.Go(func() {
			if _, err := f.WriteAt(want[i*size:(i+1)*size], int64(i*size)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	back := make([]byte, size)
	if _, err := f.ReadAt(back, 3*size); err != nil || string(back) != string(want[3*size:4*size]) {
		t.Fatalf("ReadAt: %v, or wrong bytes", err)
	}
	if n := listCount(t, be, backend.PackFile); n != 0 {
		t.Fatalf("%d packs listed before commit, want 0", n)
	}
	if len(tempFiles(t, be.path)) != 1 {
		t.Fatalf("temporary files: %v, want one", tempFiles(t, be.path))
	}

	sum := sha256.Sum256(want)
	h := backend.Handle{Type: backend.PackFile, Name: hex.EncodeToString(sum[:])}
	if err := f.Commit(ctx, h); err != nil {
		t.Fatal(err)
	}
	got, err := backend.LoadAll(ctx, be, h)
	if err != nil || string(got) != string(want) {
		t.Fatalf("after commit: %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	wantMode(t, be.filename(h), be.modes.File)
	if !strings.Contains(be.filename(h), "/data/"+h.Name[:2]+"/") {
		t.Errorf("committed to %s, want its data/%s directory", be.filename(h), h.Name[:2])
	}
	if left := tempFiles(t, be.path); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := f.Commit(ctx, h); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := be.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestBuildFileAbort(t *testing.T) {
	ctx := context.Background()
	be := created(t)
	f, err := be.CreateFile(ctx, backend.PackFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("partial"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if left := tempFiles(t, be.path); len(left) != 0 {
		t.Errorf("temporary files left after Abort: %v", left)
	}
	h := backend.Handle{Type: backend.PackFile, Name: strings.Repeat("ab", 32)}
	if err := f.Commit(ctx, h); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if _, err := be.Stat(ctx, h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after a refused commit: %v, want ErrNotExist", err)
	}
}

// A commit that cannot succeed removes the file and stores nothing.
func TestBuildFileCommitErrors(t *testing.T) {
	ctx := context.Background()
	be := created(t)
	for _, tc := range []struct {
		name string
		h    backend.Handle
	}{
		{"other type", backend.Handle{Type: backend.IndexFile, Name: strings.Repeat("cd", 32)}},
		{"unsafe name", backend.Handle{Type: backend.PackFile, Name: "../../escape"}},
	} {
		f, err := be.CreateFile(ctx, backend.PackFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Commit(ctx, tc.h); err == nil {
			t.Errorf("%s: Commit succeeded", tc.name)
		}
		if left := tempFiles(t, be.path); len(left) != 0 {
			t.Errorf("%s: temporary files left: %v", tc.name, left)
		}
	}
	// A data/xx directory removed by hand is made again.
	f, err := be.CreateFile(ctx, backend.PackFile)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "ef"
	if strings.Contains(f.(*pendingFile).f.Name(), "/data/ef/") {
		prefix = "fe" // the temporary file's own directory is not empty
	}
	h := backend.Handle{Type: backend.PackFile, Name: strings.Repeat(prefix, 32)}
	if err := os.Remove(be.join("data/" + prefix)); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(ctx, h); err != nil {
		t.Errorf("commit into a removed data/xx directory: %v", err)
	}
}

func listCount(t *testing.T, be backend.Backend, ft backend.FileType) int {
	t.Helper()
	n := 0
	if err := be.List(t.Context(), ft, func(backend.FileInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
