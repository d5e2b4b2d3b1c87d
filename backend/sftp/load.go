package sftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/hbackup/hbackup/backend"
)

// maxReadBuffer is the largest read handed to the SFTP client at once;
// it splits a read into 32 KiB requests that are all in flight together.
const maxReadBuffer = 1 << 20

// Load calls fn with a reader of length bytes of h from offset (to the
// end if length is 0). A range past the end of the file is an error
// wrapping io.ErrUnexpectedEOF, detected before fn is called. A missing
// file is an error wrapping backend.ErrNotExist and fs.ErrNotExist. fn's
// error is returned unchanged, unless the connection broke under fn's
// reads: then Load reconnects and calls fn again, once.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := backend.CheckLoad(ctx, h, length, offset, checkHandle); err != nil {
		return err
	}
	name := b.filename(h)
	var fnErr error // fn's own error, returned unchanged
	err := b.do(ctx, func(c *conn, _ bool) error {
		fnErr = nil
		f, err := c.sftp.Open(name)
		if err != nil {
			return notExist(err)
		}
		defer func() { _ = f.Close() }() // read-only: closing cannot lose data
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		size := fi.Size()
		end := size
		if length > 0 {
			end = offset + int64(length)
		}
		if offset > size || end > size {
			return backend.Permanent(fmt.Errorf("range %d-%d past the end of the %d-byte file %s: %w",
				offset, end, size, name, io.ErrUnexpectedEOF))
		}
		bufSize := int(min(max(end-offset, 4096), maxReadBuffer))
		rd := &loadReader{ctx: ctx, r: bufio.NewReaderSize(io.NewSectionReader(f, offset, end-offset), bufSize)}
		if err := fn(rd); err != nil {
			fnErr = err
			if rd.err != nil && c.lost(rd.err) {
				return rd.err // the connection broke under fn: try again
			}
			return permanent(err)
		}
		return nil
	})
	if fnErr != nil && err == fnErr { //nolint:errorlint // exactly fn's error, unwrapped
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("load %v from %s: %w", h, b.location, err)
	}
	return nil
}

// loadReader is what fn reads: it stops when ctx is cancelled and
// remembers the last transport error, to tell a broken connection from
// fn's own failure.
type loadReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (l *loadReader) Read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.Reader returns io.EOF itself
		l.err = err
	}
	return n, err
}

// Stat returns the size of h.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := backend.CheckHandle(ctx, "stat", h, checkHandle); err != nil {
		return backend.FileInfo{}, err
	}
	name := b.filename(h)
	var fi fs.FileInfo
	err := b.do(ctx, func(c *conn, _ bool) error {
		var err error
		fi, err = c.sftp.Stat(name)
		return notExist(err)
	})
	if err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v on %s: %w", h, b.location, err)
	}
	if !fi.Mode().IsRegular() {
		return backend.FileInfo{}, fmt.Errorf("stat %v on %s: %s is not a regular file", h, b.location, name)
	}
	return backend.FileInfo{Name: h.Name, Size: fi.Size()}, nil
}

// Remove deletes h. A file whose removal was cut off by a broken
// connection may be gone already when Remove tries again; that counts as
// success.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := backend.CheckHandle(ctx, "remove", h, checkHandle); err != nil {
		return err
	}
	name := b.filename(h)
	err := b.do(ctx, func(c *conn, retry bool) error {
		err := c.sftp.Remove(name)
		if retry && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return notExist(err)
	})
	if err != nil {
		return fmt.Errorf("remove %v from %s: %w", h, b.location, err)
	}
	return nil
}

// notExist adds backend.ErrNotExist to a missing-file error, so callers
// can test for it as well as for fs.ErrNotExist.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", backend.ErrNotExist, err)
	}
	return err
}
