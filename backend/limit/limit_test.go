package limit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/backend/limit"
	"github.com/hbackup/hbackup/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return limit.New(mem.New(), limit.Options{Connections: 3, UploadKiB: 1 << 20, DownloadKiB: 1 << 20})
	})
}

// counting records how many calls are in the wrapped backend at once.
type counting struct {
	*mem.Backend
	now, peak atomic.Int32
}

func (c *counting) enter() func() {
	n := c.now.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond) // give the others a chance to pile up
	return func() { c.now.Add(-1) }
}

func (c *counting) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	defer c.enter()()
	return c.Backend.Save(ctx, h, rd)
}

func (c *counting) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(io.Reader) error) error {
	defer c.enter()()
	return c.Backend.Load(ctx, h, length, offset, fn)
}

func (c *counting) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	defer c.enter()()
	return c.Backend.Stat(ctx, h)
}

func (c *counting) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	defer c.enter()()
	return c.Backend.List(ctx, t, fn)
}

func (c *counting) Remove(ctx context.Context, h backend.Handle) error {
	defer c.enter()()
	return c.Backend.Remove(ctx, h)
}

func TestConnectionsNeverExceeded(t *testing.T) {
	const n = 3
	c := &counting{Backend: mem.New()}
	be := limit.New(c, limit.Options{Connections: n})
	if got := be.Properties().Connections; got != n {
		t.Errorf("Properties().Connections = %d, want %d", got, n)
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Go(func() {
			for i := range 10 {
				h := backend.Handle{Type: backend.PackFile, Name: string(rune('a'+w)) + string(rune('a'+i))}
				if err := be.Save(ctx, h, backend.NewByteReader([]byte("data"))); err != nil {
					t.Error(err)
					return
				}
				if _, err := be.Stat(ctx, h); err != nil {
					t.Error(err)
				}
				if _, err := backend.LoadAll(ctx, be, h); err != nil {
					t.Error(err)
				}
				if err := be.List(ctx, backend.PackFile, func(backend.FileInfo) error { return nil }); err != nil {
					t.Error(err)
				}
				if err := be.Remove(ctx, h); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if p := c.peak.Load(); p > n {
		t.Errorf("%d calls ran at once, limit %d", p, n)
	} else if p < 2 {
		t.Logf("peak concurrency only %d (scheduler)", p)
	}
}

// TestListFnMayUseBackend: with one connection, fn can still call the
// backend, since the listing is over before fn runs.
func TestListFnMayUseBackend(t *testing.T) {
	be := limit.New(mem.New(), limit.Options{Connections: 1})
	ctx := t.Context()
	h := backend.Handle{Type: backend.SnapshotFile, Name: "abcd"}
	if err := be.Save(ctx, h, backend.NewByteReader([]byte("snap"))); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- be.List(ctx, backend.SnapshotFile, func(fi backend.FileInfo) error {
			_, err := backend.LoadAll(ctx, be, backend.Handle{Type: backend.SnapshotFile, Name: fi.Name})
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("List with a loading fn deadlocked on one connection")
	}
}

// TestBandwidth: moving N KiB at L KiB/s takes at least about N/L
// seconds. Only a lower bound is checked; a slow machine only adds time.
func TestBandwidth(t *testing.T) {
	const rateKiB, sizeKiB = 1024, 1024
	minTime := time.Duration(float64(sizeKiB) / rateKiB * 0.8 * float64(time.Second))
	data := bytes.Repeat([]byte{0x5a}, sizeKiB<<10)
	ctx := t.Context()

	up := limit.New(mem.New(), limit.Options{UploadKiB: rateKiB})
	start := time.Now()
	// Two uploads at once share the rate.
	var wg sync.WaitGroup
	for _, name := range []string{"aa", "bb"} {
		wg.Go(func() {
			h := backend.Handle{Type: backend.PackFile, Name: name}
			if err := up.Save(ctx, h, backend.NewByteReader(data[:len(data)/2])); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < minTime {
		t.Errorf("uploading %d KiB at %d KiB/s took %v, want at least %v", sizeKiB, rateKiB, d, minTime)
	}

	store := mem.New()
	h := backend.Handle{Type: backend.PackFile, Name: "cc"}
	if err := store.Save(ctx, h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	down := limit.New(store, limit.Options{DownloadKiB: rateKiB})
	start = time.Now()
	got, err := backend.LoadAll(ctx, down, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("throttled download: %d bytes, %v", len(got), err)
	}
	if d := time.Since(start); d < minTime {
		t.Errorf("downloading %d KiB at %d KiB/s took %v, want at least %v", sizeKiB, rateKiB, d, minTime)
	}
}

// TestThrottleCancel: a throttled transfer stops when its context is
// cancelled.
func TestThrottleCancel(t *testing.T) {
	be := limit.New(mem.New(), limit.Options{UploadKiB: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	h := backend.Handle{Type: backend.PackFile, Name: "aa"}
	start := time.Now()
	err := be.Save(ctx, h, backend.NewByteReader(make([]byte, 100<<10)))
	if err == nil {
		t.Fatal("100 KiB at 1 KiB/s finished within 100ms")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Logf("error (not a context error, acceptable): %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled upload returned after %v", d)
	}
}
