package repo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
)

// slowPacks delays pack uploads so that savers outrun them, records the
// most data pack buffers that existed at once, and can fail every pack
// upload.
type slowPacks struct {
	backend.Backend
	r       *Repository
	fail    bool
	mu      sync.Mutex
	maxBufs int64
}

var errUploadRefused = errors.New("upload refused by the test")

func (b *slowPacks) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type != backend.PackFile {
		return b.Backend.Save(ctx, h, rd)
	}
	b.mu.Lock()
	b.maxBufs = max(b.maxBufs, b.r.packBuffers.Load())
	b.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // savers fill packs faster than this
	if b.fail {
		return errUploadRefused
	}
	return b.Backend.Save(ctx, h, rd)
}

func (b *slowPacks) Properties() backend.Properties {
	return backend.Properties{Connections: 1}
}

func openSlow(t *testing.T, fail bool) (*Repository, *slowPacks) {
	return openSlowSized(t, fail, MinPackSize)
}

func openSlowSized(t *testing.T, fail bool, packSize int) (*Repository, *slowPacks) {
	t.Helper()
	ctx := t.Context()
	be := &slowPacks{Backend: mem.New()}
	r, err := Init(ctx, be, "secret", InitOptions{Version: 2, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	be.fail = fail
	if r, err = Open(ctx, be, "secret", Options{PackSize: packSize, Compression: CompressionOff}); err != nil {
		t.Fatal(err)
	}
	be.r = r
	return r, be
}

// saveMany saves random data blobs from four savers (about 12 packs) and
// returns the blobs and the first error.
func saveMany(ctx context.Context, r *Repository) (map[ID][]byte, error) {
	var mu sync.Mutex
	saved := map[ID][]byte{}
	var firstErr error
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 60 {
				data := make([]byte, 200<<10)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				id, _, err := r.SaveBlob(ctx, DataBlob, data)
				mu.Lock()
				if err != nil {
					firstErr = firstError(firstErr, err)
					mu.Unlock()
					return
				}
				saved[id] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return saved, firstErr
}

// requireBlobs fails the test unless every blob in saved reads back
// with its content.
func requireBlobs(t *testing.T, r *Repository, saved map[ID][]byte) {
	t.Helper()
	for id, data := range saved {
		got, err := r.LoadBlob(t.Context(), DataBlob, id, nil)
		if err != nil || string(got) != string(data) {
			t.Fatalf("blob %v: %v (equal: %v)", id.Str(), err, string(got) == string(data))
		}
	}
}

func firstError(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Savers that outrun the uploads wait for a pack buffer instead of
// allocating more: at most two open packers and one per upload slot. A
// pack size that is not whole huge pages (5 MiB) gets buffers with more
// capacity than that (hugemem.Cap): packs still close at the pack size,
// and the buffers are still reused, not waited for for ever.
func TestPackBuffersAreBounded(t *testing.T) {
	for _, packSize := range []int{MinPackSize, 5 << 20} {
		t.Run(fmt.Sprintf("%dMiB", packSize>>20), func(t *testing.T) {
			r, be := openSlowSized(t, false, packSize)
			ctx := t.Context()
			saved, err := saveMany(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if want := int64(2 + 1); be.maxBufs > want || be.maxBufs < 2 {
				t.Errorf("%d data pack buffers existed at once, want 2..%d", be.maxBufs, want)
			}
			packs, stored := 0, 0
			err = be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
				packs++
				stored += int(fi.Size)
				if fi.Size > int64(packSize) {
					t.Errorf("pack %s has %d bytes, more than the pack size %d", fi.Name, fi.Size, packSize)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := len(saved) * 200 << 10; stored < want || packs < 2 {
				t.Errorf("%d packs of %d bytes in all, want the %d bytes of the blobs in several", packs, stored, want)
			}
			requireBlobs(t, r, saved)
			// The buffers live outside the Go heap: Close must give them back.
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if n := r.packBuffers.Load(); n != 0 {
				t.Errorf("%d pack buffers left after Close", n)
			}
		})
	}
}

// A failed upload still gives its buffer back: savers waiting for one get
// the upload's error instead of waiting for ever.
func TestFailedUploadReleasesPackBuffer(t *testing.T) {
	r, _ := openSlow(t, true)
	ctx := t.Context()
	_, err := saveMany(ctx, r)
	if err == nil {
		err = r.Flush(ctx)
	}
	if !errors.Is(err, errUploadRefused) {
		t.Fatalf("got %v, want the upload's error", err)
	}
	if err := r.Wait(); !errors.Is(err, errUploadRefused) {
		t.Fatalf("Wait: %v", err)
	}
}

func TestUploadBuffers(t *testing.T) {
	for _, tc := range []struct {
		p    backend.Properties
		want int
	}{
		{backend.Properties{}, 1},
		{backend.Properties{Connections: 5}, 5},
		{backend.Properties{Connections: 5, ParallelUploads: 1}, 1},
		{backend.Properties{Connections: 2, ParallelUploads: 3}, 2},
	} {
		if got := uploadBuffers(tc.p); got != tc.want {
			t.Errorf("uploadBuffers(%+v) = %d, want %d", tc.p, got, tc.want)
		}
	}
}
