package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// staleTemp is how old a temporary file must be before List removes it:
// younger ones may still be written by another process.
const staleTemp = 24 * time.Hour

// Save implements backend.Backend. Snapshots and index files written by
// this process also go into the cache; tree packs come through AddCached.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := b.be.Save(ctx, h, rd); err != nil {
		return err
	}
	if h.Type == backend.SnapshotFile || h.Type == backend.IndexFile {
		if validID(h.Name) && rd.Rewind() == nil {
			_ = b.store(h, rd) // a file not cached is loaded later
		}
	}
	return nil
}

// AddCached implements repo.PackCache: it keeps a copy of a tree pack
// this process has just uploaded. Failures only cost a later download.
func (b *Backend) AddCached(_ context.Context, h backend.Handle, data []byte) {
	if cacheable(h) {
		_ = b.store(h, bytes.NewReader(data))
	}
}

// Remove implements backend.Backend, dropping the cached copy too.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	err := b.be.Remove(ctx, h)
	if cacheable(h) && (err == nil || errors.Is(err, backend.ErrNotExist)) {
		b.drop(h)
	}
	return err
}

// List implements backend.Backend. After a complete listing of
// snapshots, index files or packs, cached files of that type that are no
// longer in the repository are removed, as restic does.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if !cachedType(t) {
		return b.be.List(ctx, t, fn)
	}
	present := make(map[string]struct{})
	err := b.be.List(ctx, t, func(fi backend.FileInfo) error {
		present[fi.Name] = struct{}{}
		return fn(fi)
	})
	if err != nil {
		return err
	}
	b.cachedNames(t, func(path, name string, tmp bool) {
		if tmp {
			if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > staleTemp {
				os.Remove(path)
			}
			return
		}
		if !validID(name) {
			return // not a cached file (maybe another tool's temporary)
		}
		if _, ok := present[name]; !ok {
			b.drop(backend.Handle{Type: t, Name: name})
		}
	})
	return nil
}

// CreateFile implements backend.FileBuilder for pack files when the
// cached backend does: data packs are not cached, and tree packs come
// through AddCached. Other types go through Save, which caches them.
func (b *Backend) CreateFile(ctx context.Context, t backend.FileType) (backend.PendingFile, error) {
	if t != backend.PackFile {
		return nil, fmt.Errorf("cache: building %v files in place: %w", t, errors.ErrUnsupported)
	}
	return backend.CreateFile(ctx, b.be, t)
}
