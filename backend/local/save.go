package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Save writes rd to h atomically: the content goes to a temporary file
// next to the final one, is synced, made read-only and then renamed into
// place, so the final name only ever holds a complete file. On error the
// temporary file is removed. An existing file is replaced.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	if err := layout.Check(h); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	if err := b.save(ctx, b.filename(h), rd); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	return nil
}

func (b *Backend) save(ctx context.Context, final string, rd backend.RewindReader) (err error) {
	f, err := b.createTemp(final)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close() // may already be closed; the error is not news
			_ = os.Remove(f.Name())
		}
	}()

	n, err := io.Copy(f, ctxReader{ctx, rd})
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return err // a write error, which names the file already
	case err != nil:
		return fmt.Errorf("write %s: %w", f.Name(), err) // rd or ctx failed
	}
	if n != rd.Length() {
		return fmt.Errorf("write %s: reader returned %d bytes, want %d", f.Name(), n, rd.Length())
	}
	// Chmod before the rename, so the final name is never writable.
	if err := f.Chmod(b.modes.file); err != nil && !unsupported(err) {
		return err
	}
	if err := f.Sync(); err != nil && !unsupported(err) {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a crash.
	return syncDir(filepath.Dir(final))
}

// createTemp creates the temporary file for final, creating its
// directory if it is missing (a data/xx directory may have been removed
// by hand, or the repository may predate Create making them all).
func (b *Backend) createTemp(final string) (*os.File, error) {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:]) // never fails, see crypto/rand.Read
	name := final + layout.TempMarker + hex.EncodeToString(suffix[:])

	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, b.modes.temp)
	if errors.Is(err, fs.ErrNotExist) {
		if err := b.mkdirAll(filepath.Dir(final)); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, b.modes.temp)
	}
	return f, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !unsupported(err) {
		return err
	}
	return nil
}

// unsupported reports whether err says the file system cannot sync or
// chmod (some network and FUSE file systems); that is not worth failing
// a backup over.
func unsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EINVAL)
}

// ctxReader stops a copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
