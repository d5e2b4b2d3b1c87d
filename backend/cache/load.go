package cache

import (
	"context"
	"errors"
	"io"

	"github.com/hbackup/hbackup/backend"
)

// Load implements backend.Backend. Snapshots and index files are cached
// on their first load; a pack is read from the cache when a copy is
// there (see LoadCached), else from the repository.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if !cacheable(h) {
		return b.be.Load(ctx, h, length, offset, fn)
	}
	if h.Type == backend.PackFile {
		if served, err := b.fromCache(h, length, offset, fn); served {
			return err
		}
		return b.be.Load(ctx, h, length, offset, fn)
	}
	return b.loadCaching(ctx, h, length, offset, fn)
}

// LoadCached implements repo.PackCache: the repository calls it for the
// packs holding tree blobs, which are cached whole on their first load.
func (b *Backend) LoadCached(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if !cacheable(h) {
		return b.be.Load(ctx, h, length, offset, fn)
	}
	return b.loadCaching(ctx, h, length, offset, fn)
}

// loadCaching serves h from the cache, downloading it whole first if it
// is missing. If it cannot be cached, it is read from the repository.
func (b *Backend) loadCaching(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if served, err := b.fromCache(h, length, offset, fn); served {
		return err
	}
	err := b.fetch(ctx, h)
	if err != nil && !errors.Is(err, errNoCache) {
		return err
	}
	if err == nil {
		if served, err := b.fromCache(h, length, offset, fn); served {
			return err
		}
	}
	return b.be.Load(ctx, h, length, offset, fn)
}

// fromCache calls fn with the requested range of the cached copy of h.
// served is false when there is no usable copy, or the range does not
// fit in it (the repository then gives the authoritative answer).
func (b *Backend) fromCache(h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) (served bool, err error) {
	f, size := b.openVerified(h)
	if f == nil {
		return false, nil
	}
	defer f.Close()
	n := int64(length)
	if length == 0 {
		n = size - offset
	}
	if offset < 0 || n < 0 || offset+n > size {
		return false, nil
	}
	return true, fn(io.NewSectionReader(f, offset, n))
}

// fetch downloads h whole into the cache. Concurrent calls for the same
// file wait for one download. It returns errNoCache when the file could
// not be cached for a local reason, and the repository's error when the
// download failed.
func (b *Backend) fetch(ctx context.Context, h backend.Handle) error {
	b.mu.Lock()
	if ch, ok := b.inflight[h]; ok {
		b.mu.Unlock()
		select {
		case <-ch: // the caller looks into the cache again
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ch := make(chan struct{})
	b.inflight[h] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.inflight, h)
		b.mu.Unlock()
		close(ch)
	}()

	if b.readOnly.Load() {
		return errNoCache
	}
	// Another process may have cached it meanwhile.
	if f, _ := b.openVerified(h); f != nil {
		f.Close()
		return nil
	}
	var storeErr error
	err := b.be.Load(ctx, h, 0, 0, func(rd io.Reader) error {
		storeErr = b.store(h, rd)
		if errors.Is(storeErr, errNoCache) {
			return nil // a local problem: the load itself went fine
		}
		return storeErr // a read error: a retry may help
	})
	if err != nil {
		return err
	}
	return storeErr
}
