package repo

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
)

// heldUploads is a remote-like backend (no FileBuilder, one connection)
// that lends dir as its spool. The first pack upload waits until
// release says so; it counts pack uploads that came from the spool.
type heldUploads struct {
	backend.Backend
	dir     string
	release func() bool // nil: no upload waits
	first   atomic.Bool // a pack upload already started
	timeout atomic.Bool // release never said so

	mu      sync.Mutex
	spooled int
	packs   int
}

func (b *heldUploads) SpoolDir() string { return b.dir }

func (b *heldUploads) Properties() backend.Properties {
	return backend.Properties{Connections: 1, ParallelUploads: 1}
}

func (b *heldUploads) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type == backend.PackFile {
		if b.release != nil && b.first.CompareAndSwap(false, true) {
			// A deadline only to end a test that would hang.
			for deadline := time.Now().Add(time.Minute); !b.release(); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					b.timeout.Store(true)
					break
				}
			}
		}
		b.mu.Lock()
		b.packs++
		if _, ok := rd.(*fileReader); ok {
			b.spooled++
		}
		b.mu.Unlock()
	}
	return b.Backend.Save(ctx, h, rd)
}

func openHeld(t *testing.T, dir string, spoolSize int64) (*Repository, *heldUploads) {
	t.Helper()
	be := &heldUploads{Backend: mem.New(), dir: dir}
	r, err := Init(t.Context(), be.Backend, "secret", InitOptions{Version: 2, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	opts := Options{PackSize: MinPackSize, Compression: CompressionOff, SpoolSize: spoolSize,
		Cache: func(string, backend.Backend) backend.Backend { return be }}
	if r, err = Open(t.Context(), be.Backend, "secret", opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, be
}

// TestSpoolKeepsSaversGoing: while the first pack upload is held, savers
// go on filling packs, which wait in the spool instead of memory; once
// it is released every pack is uploaded, everything reads back, and the
// spool is empty afterwards.
func TestSpoolKeepsSaversGoing(t *testing.T) {
	r, be := openHeld(t, t.TempDir(), 0)
	// Without the spool, savers stop after two more packs (the bound of
	// three pack buffers), and this never becomes true.
	be.release = func() bool { return r.spoolUsed.Load() >= 4*MinPackSize }
	ctx := t.Context()
	saved, err := saveMany(ctx, r) // about 12 packs
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if be.timeout.Load() {
		t.Fatal("savers stopped while the first upload was held: packs were not spooled")
	}
	if be.spooled < 4 || be.spooled >= be.packs {
		t.Errorf("%d of %d packs came from the spool; want at least 4, not the first", be.spooled, be.packs)
	}
	if n := r.spoolUsed.Load(); n != 0 {
		t.Errorf("%d bytes still counted in the spool after Flush", n)
	}
	if max := int64(2 + 1); r.packBuffers.Load() > max {
		t.Errorf("%d pack buffers exist, bound %d", r.packBuffers.Load(), max)
	}
	requireBlobs(t, r, saved)
}

// TestSpoolFallsBackToMemory: with no room in the spool (size), or a
// spool directory that cannot be written, packs wait in memory as
// without a spool, and the backup completes.
func TestSpoolFallsBackToMemory(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  string
		size int64
	}{
		{"spool too small", "", 1},
		{"unwritable directory", "/nonexistent/spool", 0},
		{"spool off", "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			r, be := openHeld(t, dir, tc.size)
			ctx := t.Context()
			saved, err := saveMany(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if be.spooled != 0 {
				t.Errorf("%d packs came from the spool", be.spooled)
			}
			requireBlobs(t, r, saved)
		})
	}
}
