package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

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
	return &pendingFile{b: b, t: t, f: f}, nil
}

// pendingFile is a file built in place; see CreateFile.
type pendingFile struct {
	b *Backend
	t backend.FileType
	f *os.File

	mu   sync.Mutex
	done bool // committed or aborted
}

func (p *pendingFile) WriteAt(data []byte, off int64) (int, error) { return p.f.WriteAt(data, off) }
func (p *pendingFile) ReadAt(data []byte, off int64) (int, error)  { return p.f.ReadAt(data, off) }

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
// is synced in the background (see Save), any other file before Commit
// returns, after the pending pack syncs.
func (p *pendingFile) Commit(ctx context.Context, h backend.Handle) (err error) {
	if !p.finish() {
		return fmt.Errorf("commit %v: file already committed or aborted", h)
	}
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
	pack := h.Type == backend.PackFile
	if !pack && h.Type != backend.LockFile {
		if err := p.b.syncs.wait(); err != nil {
			return err
		}
	}
	final := p.b.filename(h)
	if err := p.b.mkdirAll(filepath.Dir(final)); err != nil {
		return err
	}
	return p.b.commitTemp(ctx, p.f, final, pack)
}

// Abort implements backend.PendingFile.
func (p *pendingFile) Abort() error {
	if !p.finish() {
		return nil
	}
	_ = p.f.Close()
	if err := os.Remove(p.f.Name()); err != nil {
		return fmt.Errorf("abort %s: %w", p.f.Name(), err)
	}
	return nil
}
