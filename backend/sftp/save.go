package sftp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/pkg/sftp"

	"github.com/hbackup/hbackup/backend"
)

// Save writes rd to h atomically: the content goes to a temporary file
// next to the final one, is made read-only and then renamed into place,
// so the final name only ever holds a complete file. On error the
// temporary file is removed. An existing file is replaced (atomically
// when the server has posix-rename@openssh.com). If the connection
// breaks, Save reconnects, rewinds rd and uploads again, once.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := backend.CheckHandle(ctx, "save", h, checkHandle); err != nil {
		return err
	}
	final := b.filename(h)
	var orphan string // temporary file of an attempt cut off by a broken connection
	err := b.do(ctx, func(c *conn, retry bool) error {
		if retry && orphan != "" {
			_ = c.sftp.Remove(orphan) // best effort: List hides it anyway
		}
		if err := rd.Rewind(); err != nil {
			return permanent(err)
		}
		return b.save(ctx, c, final, rd, &orphan)
	})
	if err != nil {
		return fmt.Errorf("save %v to %s: %w", h, b.location, err)
	}
	return nil
}

// save uploads one attempt; *tmp is set to the temporary file's name.
func (b *Backend) save(ctx context.Context, c *conn, final string, rd backend.RewindReader, tmp *string) (err error) {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:]) // never fails, see crypto/rand.Read
	*tmp = final + tempMarker + hex.EncodeToString(suffix[:])

	f, err := b.createTemp(c, *tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close() // may already be closed; the error is not news
			if !c.isDead() {
				_ = c.sftp.Remove(*tmp)
			}
		}
	}()
	if err := f.Chmod(b.modes.Temp); err != nil && !unsupported(err) {
		return fmt.Errorf("chmod %s: %w", *tmp, err)
	}
	// ReadFrom keeps many write requests in flight (UseConcurrentWrites).
	n, err := f.ReadFromWithConcurrency(callerReader{ctx, rd}, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", *tmp, err)
	}
	if n != rd.Length() {
		return backend.Permanent(fmt.Errorf("write %s: reader returned %d bytes, want %d", *tmp, n, rd.Length()))
	}
	// Chmod through the open handle before the rename, so the final
	// name is never writable.
	if err := f.Chmod(b.modes.File); err != nil && !unsupported(err) {
		return fmt.Errorf("chmod %s: %w", *tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", *tmp, err)
	}
	return b.rename(c, *tmp, final)
}

// createTemp creates the temporary file, creating its directory if it is
// missing (a data/xx directory may have been removed by hand).
func (b *Backend) createTemp(c *conn, name string) (*sftp.File, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := c.sftp.OpenFile(name, flags)
	if errors.Is(err, fs.ErrNotExist) {
		if err := b.mkdirAll(c, path.Dir(name)); err != nil {
			return nil, fmt.Errorf("mkdir %s: %w", path.Dir(name), err)
		}
		f, err = c.sftp.OpenFile(name, flags)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return f, nil
}

// rename moves the finished file into place. Plain SFTP rename refuses to
// replace a file, so without posix-rename an existing file is removed
// first (only config is ever replaced, during a format upgrade).
func (b *Backend) rename(c *conn, tmp, final string) error {
	if b.posixRename.Load() {
		if err := c.sftp.PosixRename(tmp, final); err != nil {
			return fmt.Errorf("rename %s: %w", tmp, err)
		}
		return nil
	}
	err := c.sftp.Rename(tmp, final)
	if err != nil {
		if _, serr := c.sftp.Lstat(final); serr == nil {
			if rerr := c.sftp.Remove(final); rerr != nil {
				return fmt.Errorf("replace %s: %w", final, rerr)
			}
			err = c.sftp.Rename(tmp, final)
		}
	}
	if err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// callerReader reads the caller's data, stopping when ctx is cancelled.
// Its errors are marked permanent: a new connection cannot fix them.
type callerReader struct {
	ctx context.Context
	r   io.Reader
}

func (c callerReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, permanent(err)
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.Reader returns io.EOF itself
		err = permanent(err)
	}
	return n, err
}
