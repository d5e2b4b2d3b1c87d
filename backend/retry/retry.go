// Package retry wraps a backend so that operations failing with a
// transient error are tried again, with exponential backoff and jitter.
//
// An error is transient unless it matches backend.ErrNotExist or
// backend.ErrAlreadyExists, was marked with backend.Permanent, or comes
// with a cancelled context. Those return at once. An error marked with
// backend.RetryAfter is retried no sooner than the server asked.
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// Defaults, close to restic's: restic 0.14 gives up after 10 retries,
// newer versions after 15 minutes with delays doubling from 1s and
// capped at a minute. Both limits apply here, so an operation gives up
// after about five minutes (10 retries: 1+2+4+…+32+4×60 s, ±50%) — long
// enough to ride out a server restart or a dropped link, short enough
// that a dead server fails a backup the same hour.
const (
	DefaultMaxRetries   = 10
	DefaultMaxElapsed   = 15 * time.Minute
	DefaultInitialDelay = time.Second
	DefaultMaxDelay     = time.Minute
	DefaultMultiplier   = 2.0
	DefaultJitter       = 0.5
)

// Options tune the backoff. Zero values mean the defaults above.
type Options struct {
	// MaxRetries is how many times a failed operation is tried again;
	// negative means never.
	MaxRetries int
	// MaxElapsed bounds the time from the first attempt to the start of
	// the last one.
	MaxElapsed time.Duration
	// InitialDelay is the wait before the first retry; each further wait
	// is Multiplier times longer, up to MaxDelay.
	InitialDelay time.Duration
	MaxDelay     time.Duration
	Multiplier   float64
	// Jitter spreads each wait randomly over ±Jitter of its length, so
	// parallel workers do not retry in lockstep. Negative means none.
	Jitter float64
	// Logger, if set, gets a warning for every retry.
	Logger *slog.Logger
}

func (o *Options) fill() {
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = DefaultMaxElapsed
	}
	if o.InitialDelay <= 0 {
		o.InitialDelay = DefaultInitialDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.Multiplier < 1 {
		o.Multiplier = DefaultMultiplier
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	case o.Jitter > 1:
		o.Jitter = 1
	}
}

// Backend is a retrying decorator. It is safe for concurrent use if the
// wrapped backend is.
type Backend struct {
	be   backend.Backend
	opts Options
}

// New wraps be so that operations are retried on transient errors.
func New(be backend.Backend, opts Options) backend.Backend {
	opts.fill()
	return &Backend{be: be, opts: opts}
}

// Transient reports whether retrying err could help: it is not a
// missing or existing file, not marked permanent, and ctx is still live.
func Transient(ctx context.Context, err error) bool {
	switch {
	case err == nil, ctx.Err() != nil:
		return false
	case errors.Is(err, context.Canceled),
		errors.Is(err, backend.ErrNotExist),
		errors.Is(err, backend.ErrAlreadyExists),
		backend.IsPermanent(err):
		return false
	}
	return true
}

// retry runs fn until it succeeds, fails permanently, or the limits are
// reached. fn gets the attempt number, starting at 1.
func (b *Backend) retry(ctx context.Context, op string, fn func(attempt int) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	start := time.Now()
	delay := b.opts.InitialDelay
	for attempt := 1; ; attempt++ {
		err := fn(attempt)
		if !Transient(ctx, err) {
			return err
		}
		wait := b.jitter(delay)
		if d, ok := backend.RetryDelay(err); ok && d > wait {
			wait = d // the server said when to come back
		}
		if attempt > b.opts.MaxRetries || time.Since(start)+wait > b.opts.MaxElapsed {
			if attempt > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return err
		}
		if b.opts.Logger != nil {
			b.opts.Logger.Warn("backend operation failed, retrying", "op", op,
				"attempt", attempt, "wait", wait.Round(time.Millisecond), "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (while waiting to retry after: %v)", op, ctx.Err(), err)
		case <-t.C:
		}
		delay = min(time.Duration(float64(delay)*b.opts.Multiplier), b.opts.MaxDelay)
	}
}

func (b *Backend) jitter(d time.Duration) time.Duration {
	if b.opts.Jitter == 0 {
		return d
	}
	f := 1 + b.opts.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// Location implements backend.Backend.
func (b *Backend) Location() string { return b.be.Location() }

// Properties implements backend.Backend.
func (b *Backend) Properties() backend.Properties { return b.be.Properties() }

// Close implements backend.Backend.
func (b *Backend) Close() error { return b.be.Close() }

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context) error {
	return b.retry(ctx, "create", func(int) error { return b.be.Create(ctx) })
}

// Stat implements backend.Backend. An invalid handle is passed through
// once: no retry can make it valid, so its error is permanent.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if h.Valid() != nil {
		fi, err := b.be.Stat(ctx, h)
		return fi, backend.Permanent(err)
	}
	var fi backend.FileInfo
	err := b.retry(ctx, "stat "+h.String(), func(int) error {
		var err error
		fi, err = b.be.Stat(ctx, h)
		return err
	})
	return fi, err
}

// Load implements backend.Backend. fn is called afresh, with a new
// reader, on every attempt; an error from fn (say, a download cut short)
// is retried like the backend's own unless marked permanent. An invalid
// handle or range is passed through once, as in Stat.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if h.Valid() != nil || length < 0 || offset < 0 {
		return backend.Permanent(b.be.Load(ctx, h, length, offset, fn))
	}
	return b.retry(ctx, "load "+h.String(), func(int) error {
		return b.be.Load(ctx, h, length, offset, fn)
	})
}

// Remove implements backend.Backend; an invalid handle is passed
// through once, as in Stat. A retry that finds the file gone
// reports backend.ErrNotExist, as the contract says, even if the failed
// attempt did remove it (its answer was lost); callers that only want
// the file gone can ignore ErrNotExist.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if h.Valid() != nil {
		return backend.Permanent(b.be.Remove(ctx, h))
	}
	return b.retry(ctx, "remove "+h.String(), func(int) error { return b.be.Remove(ctx, h) })
}

// List implements backend.Backend. A listing that fails midway is
// restarted, and fn is not called again for names it already saw. An
// error from fn is returned at once.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if t < backend.PackFile || t >= backend.ConfigFile {
		return b.be.List(ctx, t, fn)
	}
	seen := make(map[string]struct{})
	var fnErr error
	err := b.retry(ctx, "list "+t.String(), func(int) error {
		return b.be.List(ctx, t, func(fi backend.FileInfo) error {
			if _, ok := seen[fi.Name]; ok {
				return nil
			}
			seen[fi.Name] = struct{}{}
			if err := fn(fi); err != nil {
				fnErr = err
				return backend.Permanent(err)
			}
			return nil
		})
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}
