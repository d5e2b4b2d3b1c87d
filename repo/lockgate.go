package repo

import (
	"context"
	"sync"

	"github.com/hbackup/hbackup/backend"
)

// lockGate wraps the repository's backend and holds back the writes a
// lock protects until the locks of this repository are confirmed (see
// Lock): index, snapshot, key and config saves and all removals wait for
// the confirmation; pack uploads are not held back, since an unreferenced
// pack is harmless, but fail once a conflict is known. Lock files pass.
type lockGate struct {
	backend.Backend

	mu      sync.Mutex
	pending []*Lock // locks whose check has not been seen to pass
}

func (g *lockGate) add(l *Lock) {
	g.mu.Lock()
	g.pending = append(g.pending, l)
	g.mu.Unlock()
}

// wait waits for every pending lock's check; block false only reports a
// conflict already found.
func (g *lockGate) wait(ctx context.Context, block bool) error {
	g.mu.Lock()
	pending := g.pending
	g.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	for _, l := range pending {
		if block {
			if err := l.Wait(ctx); err != nil {
				return err
			}
			continue
		}
		select {
		case <-l.checked:
			if l.checkErr != nil {
				return l.checkErr
			}
		default:
		}
	}
	if block {
		// All passed: later writes need not look at them again.
		for _, l := range pending {
			g.remove(l)
		}
	}
	return nil
}

func (g *lockGate) remove(l *Lock) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, p := range g.pending {
		if p == l {
			g.pending = append(g.pending[:i:i], g.pending[i+1:]...)
			return
		}
	}
}

func (g *lockGate) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type != backend.LockFile {
		if err := g.wait(ctx, h.Type != backend.PackFile); err != nil {
			return err
		}
	}
	return g.Backend.Save(ctx, h, rd)
}

func (g *lockGate) Remove(ctx context.Context, h backend.Handle) error {
	if h.Type != backend.LockFile {
		if err := g.wait(ctx, true); err != nil {
			return err
		}
	}
	return g.Backend.Remove(ctx, h)
}

// CreateFile implements backend.FileBuilder when the gated backend does;
// Commit passes the gate as Save would.
func (g *lockGate) CreateFile(ctx context.Context, t backend.FileType) (backend.PendingFile, error) {
	f, err := backend.CreateFile(ctx, g.Backend, t)
	if err != nil {
		return nil, err
	}
	return &gatedFile{PendingFile: f, g: g}, nil
}

type gatedFile struct {
	backend.PendingFile
	g *lockGate
}

func (f *gatedFile) Commit(ctx context.Context, h backend.Handle) error {
	if h.Type != backend.LockFile {
		if err := f.g.wait(ctx, h.Type != backend.PackFile); err != nil {
			_ = f.PendingFile.Abort()
			return err
		}
	}
	return f.PendingFile.Commit(ctx, h)
}
