package backendtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// ErrInjected is wrapped by every error Faulty makes up. It is not
// marked permanent, so a retrying decorator tries again.
var ErrInjected = errors.New("backendtest: injected fault")

// Faulty wraps a backend and makes it unreliable the way networks are:
// requests fail, uploads break off midway or succeed with the answer
// lost, downloads arrive in small pieces or are cut short, listings stop
// halfway, and everything is slow. It is for tests of code above the
// backend (retries, repositories); set the fields before first use.
// Faults are random but reproducible for a given Seed when used from one
// goroutine. Create and Close never fail.
type Faulty struct {
	backend.Backend
	// ErrorRate is the probability that an operation fails (0 to 1).
	ErrorRate float64
	// ShortReads makes Load's reader return few bytes per Read, and,
	// with probability ErrorRate, fail partway with an error wrapping
	// ErrInjected and io.ErrUnexpectedEOF.
	ShortReads bool
	// Latency is the most an operation waits before it starts; each
	// waits a random time up to it.
	Latency time.Duration
	// Seed seeds the random faults.
	Seed uint64

	mu       sync.Mutex
	rng      *rand.Rand
	injected int
}

// Injected returns how many faults were injected so far.
func (f *Faulty) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

// random runs fn with the generator, made from Seed on first use.
func (f *Faulty) random(fn func(r *rand.Rand)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng == nil {
		f.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x5eed))
	}
	fn(f.rng)
}

// fail reports whether this operation gets a fault, counting it.
func (f *Faulty) fail() bool {
	var hit bool
	f.random(func(r *rand.Rand) {
		hit = r.Float64() < f.ErrorRate
		if hit {
			f.injected++
		}
	})
	return hit
}

func (f *Faulty) intN(n int) int {
	var v int
	f.random(func(r *rand.Rand) { v = r.IntN(n) })
	return v
}

// wait sleeps for up to Latency, or until ctx is done.
func (f *Faulty) wait(ctx context.Context) error {
	if f.Latency <= 0 {
		return ctx.Err()
	}
	var d time.Duration
	f.random(func(r *rand.Rand) { d = time.Duration(r.Int64N(int64(f.Latency))) })
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func injected(op string, what any, how string) error {
	return fmt.Errorf("%s %v: %s: %w", op, what, how, ErrInjected)
}

// Save fails in one of three ways: before sending anything, after
// reading part of rd (a dropped connection), or after saving (a lost
// answer).
func (f *Faulty) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := f.wait(ctx); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	if !f.fail() {
		return f.Backend.Save(ctx, h, rd)
	}
	switch f.intN(3) {
	case 0:
		return injected("save", h, "connection refused")
	case 1:
		_, _ = io.CopyN(io.Discard, rd, rd.Length()/2)
		return injected("save", h, "connection reset during upload")
	}
	if err := f.Backend.Save(ctx, h, rd); err != nil {
		return err
	}
	return injected("save", h, "answer lost after saving")
}

// Load fails before reading, or (with ShortReads) partway through.
func (f *Faulty) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := f.wait(ctx); err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	if f.fail() {
		return injected("load", h, "connection refused")
	}
	if !f.ShortReads {
		return f.Backend.Load(ctx, h, length, offset, fn)
	}
	return f.Backend.Load(ctx, h, length, offset, func(rd io.Reader) error {
		sr := &shortReader{rd: rd, cutAt: -1}
		f.random(func(r *rand.Rand) { sr.rng = rand.New(rand.NewPCG(r.Uint64(), r.Uint64())) })
		if f.fail() {
			span := length
			if span == 0 {
				span = 64 << 10 // "to the end": cut somewhere early
			}
			sr.cutAt = int64(sr.rng.IntN(span))
		}
		return fn(sr)
	})
}

// shortReader returns at most a few bytes per Read and, if cutAt is not
// negative, fails once that many bytes were read.
type shortReader struct {
	rd    io.Reader
	rng   *rand.Rand
	read  int64
	cutAt int64
}

func (s *shortReader) Read(p []byte) (int, error) {
	if s.cutAt >= 0 && s.read >= s.cutAt {
		return 0, fmt.Errorf("download cut short after %d bytes: %w: %w", s.read, ErrInjected, io.ErrUnexpectedEOF)
	}
	if len(p) > 1 {
		p = p[:1+s.rng.IntN(min(len(p), 4096))]
	}
	if s.cutAt >= 0 {
		p = p[:min(int64(len(p)), s.cutAt-s.read)]
	}
	n, err := s.rd.Read(p)
	s.read += int64(n)
	return n, err
}

// Stat fails before asking.
func (f *Faulty) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := f.wait(ctx); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	if f.fail() {
		return backend.FileInfo{}, injected("stat", h, "connection refused")
	}
	return f.Backend.Stat(ctx, h)
}

// Remove fails before removing.
func (f *Faulty) Remove(ctx context.Context, h backend.Handle) error {
	if err := f.wait(ctx); err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	if f.fail() {
		return injected("remove", h, "connection refused")
	}
	return f.Backend.Remove(ctx, h)
}

// List fails before listing or after a few entries.
func (f *Faulty) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := f.wait(ctx); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	if !f.fail() {
		return f.Backend.List(ctx, t, fn)
	}
	stopAfter := f.intN(4)
	errStop := injected("list", t, "connection reset during listing")
	n := 0
	err := f.Backend.List(ctx, t, func(fi backend.FileInfo) error {
		if n == stopAfter {
			return errStop
		}
		n++
		return fn(fi)
	})
	if err == nil {
		return errStop // fewer entries than stopAfter: fail at the end
	}
	return err
}
