// Package limit wraps a backend to bound how many requests run at once
// and how fast data moves, as restic's -o <backend>.connections,
// --limit-upload and --limit-download do.
//
// Bandwidth is limited by wrapping the readers that carry file content,
// never by buffering whole files, so memory stays bounded. Rates use a
// token bucket (golang.org/x/time/rate) shared by all requests of one
// direction.
package limit

import (
	"context"
	"fmt"
	"io"

	"github.com/hbackup/hbackup/backend"
	"golang.org/x/time/rate"
)

// Options configure the limits. Zero values mean "no limit", except
// Connections, which then takes the wrapped backend's own value.
type Options struct {
	// Connections is the most requests allowed at once.
	Connections int
	// UploadKiB and DownloadKiB are rates in KiB/s (1024 bytes), as
	// restic's --limit-upload and --limit-download.
	UploadKiB, DownloadKiB int
}

// Backend is the limiting decorator. It is safe for concurrent use if
// the wrapped backend is.
type Backend struct {
	be       backend.Backend
	slots    chan struct{}
	up, down *rate.Limiter // nil when unlimited
}

// New wraps be with the limits in opts.
func New(be backend.Backend, opts Options) backend.Backend {
	n := opts.Connections
	if n <= 0 {
		n = be.Properties().Connections
	}
	n = max(n, 1)
	return &Backend{
		be:    be,
		slots: make(chan struct{}, n),
		up:    newLimiter(opts.UploadKiB),
		down:  newLimiter(opts.DownloadKiB),
	}
}

// newLimiter returns a bucket refilled at kib KiB/s. The bucket holds an
// eighth of a second's worth (at least 1 KiB, at most 64 KiB), so a
// transfer can never run much ahead of the rate.
func newLimiter(kib int) *rate.Limiter {
	if kib <= 0 {
		return nil
	}
	bps := kib * 1024
	burst := min(max(bps/8, 1024), 64<<10)
	return rate.NewLimiter(rate.Limit(bps), burst)
}

// acquire takes a connection slot; release gives it back.
func (b *Backend) acquire(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Backend) release() { <-b.slots }

// Location implements backend.Backend.
func (b *Backend) Location() string { return b.be.Location() }

// Properties reports the connection limit in place of the backend's own.
func (b *Backend) Properties() backend.Properties {
	p := b.be.Properties()
	p.Connections = cap(b.slots)
	return p
}

// Close implements backend.Backend.
func (b *Backend) Close() error { return b.be.Close() }

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context) error {
	if err := b.acquire(ctx); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	defer b.release()
	return b.be.Create(ctx)
}

// Save implements backend.Backend; the upload is read at the upload rate.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := b.acquire(ctx); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	defer b.release()
	if b.up != nil {
		rd = &rewindReader{reader: reader{ctx: ctx, rd: rd, lim: b.up}, rw: rd}
	}
	return b.be.Save(ctx, h, rd)
}

// Load implements backend.Backend. The slot is held while fn reads, as
// the download streams meanwhile.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := b.acquire(ctx); err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	defer b.release()
	if b.down == nil {
		return b.be.Load(ctx, h, length, offset, fn)
	}
	return b.be.Load(ctx, h, length, offset, func(rd io.Reader) error {
		return fn(&reader{ctx: ctx, rd: rd, lim: b.down})
	})
}

// Stat implements backend.Backend.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := b.acquire(ctx); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	defer b.release()
	return b.be.Stat(ctx, h)
}

// Remove implements backend.Backend.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := b.acquire(ctx); err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	defer b.release()
	return b.be.Remove(ctx, h)
}

// List implements backend.Backend. The listing is collected while
// holding a slot and fn runs after it is released, so fn may use the
// backend even with a single connection.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := b.acquire(ctx); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	var infos []backend.FileInfo
	err := b.be.List(ctx, t, func(fi backend.FileInfo) error {
		infos = append(infos, fi)
		return nil
	})
	b.release()
	if err != nil {
		return err
	}
	for _, fi := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %v: %w", t, err)
		}
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// reader passes bytes on no faster than lim allows.
type reader struct {
	ctx context.Context
	rd  io.Reader
	lim *rate.Limiter
}

func (r *reader) Read(p []byte) (int, error) {
	// WaitN refuses more than the bucket holds.
	if len(p) > r.lim.Burst() {
		p = p[:r.lim.Burst()]
	}
	n, err := r.rd.Read(p)
	if n > 0 {
		if werr := r.lim.WaitN(r.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// rewindReader is reader for uploads, keeping the RewindReader methods.
type rewindReader struct {
	reader
	rw backend.RewindReader
}

func (r *rewindReader) Rewind() error { return r.rw.Rewind() }
func (r *rewindReader) Length() int64 { return r.rw.Length() }
