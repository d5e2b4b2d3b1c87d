package uring_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/hbackup/hbackup/internal/uring"
)

// openRing opens a ring or skips where the kernel refuses to set one up:
// io_uring is a kernel feature that seccomp or kernel.io_uring_disabled
// may withhold (ENOSYS, EPERM), and then callers use the plain system
// calls, which their own tests cover. Any other failure, such as a
// probe misread, fails: it would send every caller to the fallback.
func openRing(t testing.TB, entries int) *uring.Ring {
	t.Helper()
	r, err := uring.Open(entries)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		t.Skipf("no io_uring here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConcurrentWritesAndSyncs(t *testing.T) {
	r := openRing(t, 4) // fewer slots than writers: some wait for one
	defer r.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	const pieces, size = 64, 100_000
	want := make([]byte, pieces*size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	var wg sync.WaitGroup
	errs := make(chan error, pieces)
	for i := range pieces {
		wg.Go(func() {
			piece := bytes.Clone(want[i*size : (i+1)*size])
			n, err := r.WriteAt(int(f.Fd()), piece, int64(i*size))
			if err == nil && n != size {
				err = errors.New("short write")
			}
			if err == nil && i%8 == 0 {
				err = r.Fsync(int(f.Fd()))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("file content differs from what was written")
	}
}

func TestErrorsAreErrnos(t *testing.T) {
	r := openRing(t, 2)
	defer r.Close()
	f, err := os.Open(filepath.Join(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A directory cannot be written: the kernel's errno comes back.
	if _, err := r.WriteAt(int(f.Fd()), []byte("x"), 0); !errors.Is(err, syscall.EBADF) && !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("write to a directory: got %v, want EBADF or EISDIR", err)
	}
	// But it can be synced.
	if err := r.Fsync(int(f.Fd())); err != nil {
		t.Fatalf("fsync of a directory: %v", err)
	}
	if err := r.Fsync(-1); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("fsync of fd -1: got %v, want EBADF", err)
	}
}

func TestClosedRing(t *testing.T) {
	r := openRing(t, 2)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Fsync(0); !errors.Is(err, uring.ErrClosed) {
		t.Fatalf("Fsync after Close: got %v, want ErrClosed", err)
	}
}
