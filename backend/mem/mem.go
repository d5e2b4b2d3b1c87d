// Package mem is an in-memory backend for tests. It follows the same
// rules as the real backends, so code tested against it behaves the same
// on disk.
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/hbackup/hbackup/backend"
)

// Backend keeps files in a map. It is safe for concurrent use.
type Backend struct {
	mu    sync.RWMutex
	files map[backend.Handle][]byte
}

var _ backend.Backend = (*Backend)(nil)

// New returns an empty backend.
func New() *Backend {
	return &Backend{files: make(map[backend.Handle][]byte)}
}

// key normalises h: the name of a config handle is ignored.
func key(h backend.Handle) backend.Handle {
	if h.Type == backend.ConfigFile {
		h.Name = ""
	}
	return h
}

// Location implements backend.Backend.
func (b *Backend) Location() string { return "mem" }

// Properties implements backend.Backend.
func (b *Backend) Properties() backend.Properties {
	return backend.Properties{Connections: 2, HasAtomicReplace: true}
}

// Close implements backend.Backend.
func (b *Backend) Close() error { return nil }

// Create fails with backend.ErrAlreadyExists if a config file exists;
// otherwise there is nothing to prepare.
func (b *Backend) Create(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if _, ok := b.files[key(backend.Handle{Type: backend.ConfigFile})]; ok {
		return fmt.Errorf("create: %w", backend.ErrAlreadyExists)
	}
	return nil
}

// Save stores a copy of rd's content, replacing any existing file. It
// fails if rd returns a different number of bytes than rd.Length().
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := backend.CheckHandle(ctx, "save", h, backend.Handle.Valid); err != nil {
		return err
	}
	// Read outside the lock: rd may be slow.
	buf, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	if int64(len(buf)) != rd.Length() {
		return fmt.Errorf("save %v: reader returned %d bytes, want %d", h, len(buf), rd.Length())
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[key(h)] = buf
	return nil
}

// Load calls fn with a copy of the requested range of h. A range past
// the end is an error wrapping io.ErrUnexpectedEOF. fn's error is
// returned unchanged.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := backend.CheckLoad(ctx, h, length, offset, backend.Handle.Valid); err != nil {
		return err
	}
	buf, err := b.section(h, length, offset)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	// fn runs without the lock, so it may call back into the backend.
	return fn(bytes.NewReader(buf))
}

// section returns a copy of the range, so fn cannot change stored data.
func (b *Backend) section(h backend.Handle, length int, offset int64) ([]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	data, ok := b.files[key(h)]
	if !ok {
		return nil, backend.ErrNotExist
	}
	size := int64(len(data))
	end := size
	if length > 0 {
		end = offset + int64(length)
	}
	if offset > size || end > size {
		return nil, fmt.Errorf("range %d-%d past the end of the %d-byte file: %w", offset, end, size, io.ErrUnexpectedEOF)
	}
	return bytes.Clone(data[offset:end]), nil
}

// Stat implements backend.Backend.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := backend.CheckHandle(ctx, "stat", h, backend.Handle.Valid); err != nil {
		return backend.FileInfo{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	data, ok := b.files[key(h)]
	if !ok {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, backend.ErrNotExist)
	}
	return backend.FileInfo{Name: h.Name, Size: int64(len(data))}, nil
}

// List calls fn for a snapshot of the files of type t, taken when List
// starts; fn may save or remove files.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	if t < backend.PackFile || t >= backend.ConfigFile {
		return fmt.Errorf("list %v: not a listable file type", t)
	}
	var infos []backend.FileInfo
	b.mu.RLock()
	for h, data := range b.files {
		if h.Type == t {
			infos = append(infos, backend.FileInfo{Name: h.Name, Size: int64(len(data))})
		}
	}
	b.mu.RUnlock()

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

// Remove implements backend.Backend.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := backend.CheckHandle(ctx, "remove", h, backend.Handle.Valid); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.files[key(h)]; !ok {
		return fmt.Errorf("remove %v: %w", h, backend.ErrNotExist)
	}
	delete(b.files, key(h))
	return nil
}
