package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// CreateFile implements backend.FileBuilder: the file is built under a
// temporary name in the directory of a random name of type t (List skips
// temporary names), and Commit renames it to its final name, which for a
// pack may be in another data/xx directory of the same file system.
func (b *Backend) CreateFile(ctx context.Context, t backend.FileType) (backend.PendingFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %v file: %w", t, err)
	}
	var name [32]byte
	_, _ = rand.Read(name[:]) // never fails, see crypto/rand.Read
	placeholder := backend.Handle{Type: t, Name: hex.EncodeToString(name[:])}
	if err := layout.Check(placeholder); err != nil {
		return nil, fmt.Errorf("create %v file: %w", t, err)
	}
	f, err := b.createTemp(b.filename(placeholder), os.O_RDWR)
	if err != nil {
		return nil, fmt.Errorf("create %v file: %w", t, err)
	}
	pf := &pendingFile{b: b, t: t, f: f}
	if t == backend.PackFile {
		pf.direct = openDirect(f.Name())
	}
	return pf, nil
}

// pendingFile is a file built in place; see CreateFile.
type pendingFile struct {
	b *Backend
	t backend.FileType
	f *os.File
	// direct is the same file opened for writes past the page cache
	// (WriteDirect), or nil.
	direct *os.File

	mu   sync.Mutex
	done bool // committed or aborted
}

func (p *pendingFile) WriteAt(data []byte, off int64) (int, error) { return p.f.WriteAt(data, off) }
func (p *pendingFile) ReadAt(data []byte, off int64) (int, error)  { return p.f.ReadAt(data, off) }

// Direct implements backend.PendingFile.
func (p *pendingFile) Direct() backend.DirectWriter {
	if p.direct == nil {
		return nil
	}
	return p
}

// WriteDirect implements backend.DirectWriter.
func (p *pendingFile) WriteDirect(data []byte, off int64) error {
	if len(data)%backend.DirectAlign != 0 || off%backend.DirectAlign != 0 ||
		len(data) > 0 && uintptr(unsafe.Pointer(&data[0]))%backend.DirectAlign != 0 {
		return fmt.Errorf("write %s: direct write of %d bytes at %d: not aligned to %d bytes",
			p.f.Name(), len(data), off, backend.DirectAlign)
	}
	err := p.b.disk.writeAt(p.direct, data, off)
	if err != nil && directRefused(err) {
		err = fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
	}
	return err
}

// closeDirect closes the O_DIRECT handle; the file's writes are done.
func (p *pendingFile) closeDirect() {
	if p.direct != nil {
		_ = p.direct.Close()
	}
}

// finish marks the file done, reporting false if it already was.
func (p *pendingFile) finish() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	p.done = true
	return true
}

// Commit implements backend.PendingFile with Save's guarantees: a pack
// is synced in the background (see Save), a lock not at all
// (durabilityOf), any other file before Commit returns, after the
// pending pack syncs.
func (p *pendingFile) Commit(ctx context.Context, h backend.Handle) (err error) {
	if !p.finish() {
		return fmt.Errorf("commit %v: file already committed or aborted", h)
	}
	p.closeDirect()
	defer func() {
		if err != nil {
			_ = p.f.Close() // may already be closed; the error is not news
			_ = os.Remove(p.f.Name())
			err = fmt.Errorf("save %v: %w", h, err)
		}
	}()
	if h.Type != p.t {
		return fmt.Errorf("file was created as %v", p.t)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := layout.Check(h); err != nil {
		return err
	}
	d := durabilityOf(h.Type)
	if d == syncNow {
		if err := p.b.syncs.wait(); err != nil {
			return err
		}
	}
	final := p.b.filename(h)
	if err := p.b.mkdirAll(filepath.Dir(final)); err != nil {
		return err
	}
	return p.b.commitTemp(ctx, p.f, final, d)
}

// Abort implements backend.PendingFile.
func (p *pendingFile) Abort() error {
	if !p.finish() {
		return nil
	}
	p.closeDirect()
	_ = p.f.Close()
	if err := os.Remove(p.f.Name()); err != nil {
		return fmt.Errorf("abort %s: %w", p.f.Name(), err)
	}
	return nil
}
