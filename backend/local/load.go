package local

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Load calls fn with a reader of length bytes of h from offset (to the
// end if length is 0). A range past the end of the file is an error
// wrapping io.ErrUnexpectedEOF, detected before fn is called. A missing
// file is an error wrapping backend.ErrNotExist and fs.ErrNotExist. fn's
// error is returned unchanged.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := backend.CheckLoad(ctx, h, length, offset, layout.Check); err != nil {
		return err
	}
	f, err := os.Open(b.filename(h))
	if err != nil {
		return fmt.Errorf("load %v: %w", h, notExist(err))
	}
	defer func() { _ = f.Close() }() // read-only: closing cannot lose data

	rd, err := section(f, length, offset)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	return fn(rd)
}

// section returns a reader of the requested range of f, checking first
// that the file holds all of it.
func section(f *os.File, length int, offset int64) (io.Reader, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	end := size
	if length > 0 {
		end = offset + int64(length)
	}
	if offset > size || end > size {
		return nil, fmt.Errorf("range %d-%d past the end of the %d-byte file %s: %w",
			offset, end, size, f.Name(), io.ErrUnexpectedEOF)
	}
	prefetch(f, offset, end-offset)
	// SectionReader hides the *os.File, so fn cannot close or seek it.
	return io.NewSectionReader(f, offset, end-offset), nil
}

// Stat returns the size of h.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := backend.CheckHandle(ctx, "stat", h, layout.Check); err != nil {
		return backend.FileInfo{}, err
	}
	fi, err := os.Stat(b.filename(h))
	if err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, notExist(err))
	}
	if !fi.Mode().IsRegular() {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %s is not a regular file", h, b.filename(h))
	}
	return backend.FileInfo{Name: h.Name, Size: fi.Size()}, nil
}

// Remove deletes h. On Unix a read-only file can be removed as long as
// its directory is writable.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := backend.CheckHandle(ctx, "remove", h, layout.Check); err != nil {
		return err
	}
	// Packs written before must be on disk before anything goes (a lock
	// goes in any case: it names no pack).
	if err := b.syncs.wait(); err != nil && h.Type != backend.LockFile {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	if err := os.Remove(b.filename(h)); err != nil {
		return fmt.Errorf("remove %v: %w", h, notExist(err))
	}
	return nil
}
