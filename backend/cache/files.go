package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hbackup/hbackup/backend"
)

// tmpPrefix starts the names of files being written; they are never
// served and are removed when stale.
const tmpPrefix = ".tmp-"

// cachedType reports whether files of type t can be kept in the cache.
func cachedType(t backend.FileType) bool {
	return t == backend.SnapshotFile || t == backend.IndexFile || t == backend.PackFile
}

// validID reports whether s is a hex ID, so it is safe in a path.
func validID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// path returns where h is cached; packs go into data/xx/ as in a
// repository, so no directory grows too large.
func (b *Backend) path(h backend.Handle) string {
	if h.Type == backend.PackFile {
		return filepath.Join(b.dir, h.Type.String(), h.Name[:2], h.Name)
	}
	return filepath.Join(b.dir, h.Type.String(), h.Name)
}

// cacheable reports whether h may be cached at all.
func cacheable(h backend.Handle) bool { return cachedType(h.Type) && validID(h.Name) }

// openVerified opens the cached copy of h. The first use in a process
// hashes the file; a copy that does not match its name is removed. It
// returns nil when there is no usable copy.
func (b *Backend) openVerified(h backend.Handle) (*os.File, int64) {
	f, err := os.Open(b.path(h))
	if err != nil {
		return nil, 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0
	}
	if _, ok := b.verified.Load(h); ok {
		return f, fi.Size()
	}
	// One goroutine hashes a file; others loading from it wait.
	mu, _ := b.verifying.LoadOrStore(h, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if _, ok := b.verified.Load(h); ok {
		return f, fi.Size()
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		f.Close()
		return nil, 0
	}
	if hex.EncodeToString(hash.Sum(nil)) != h.Name {
		f.Close()
		b.logger.Warn("cached file is damaged, reading it from the repository", "file", h.String())
		b.drop(h)
		return nil, 0
	}
	b.verified.Store(h, struct{}{})
	return f, fi.Size()
}

// drop removes the cached copy of h.
func (b *Backend) drop(h backend.Handle) {
	b.verified.Delete(h)
	if err := os.Remove(b.path(h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.logger.Warn("cannot remove cached file", "file", h.String(), "err", err)
	}
}

// store writes the content of rd to the cache under h, keeping it only
// if it hashes to h's name.
func (b *Backend) store(h backend.Handle, rd io.Reader) error {
	if b.readOnly.Load() {
		return errNoCache
	}
	p := b.path(h)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		b.disableWrites(err)
		return errNoCache
	}
	f, err := os.CreateTemp(filepath.Dir(p), tmpPrefix)
	if err != nil {
		b.disableWrites(err)
		return errNoCache
	}
	hash := sha256.New()
	_, err = io.Copy(io.MultiWriter(diskWriter{f}, hash), rd)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &diskError{cerr}
	}
	var de *diskError
	switch {
	case errors.As(err, &de):
		os.Remove(f.Name())
		b.disableWrites(err)
		return errNoCache
	case err != nil: // the source failed: nothing wrong with the cache
		os.Remove(f.Name())
		return err
	case hex.EncodeToString(hash.Sum(nil)) != h.Name:
		os.Remove(f.Name())
		return fmt.Errorf("%v: content does not match its name: %w", h, errNoCache)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		b.disableWrites(err)
		return errNoCache
	}
	b.verified.Store(h, struct{}{})
	return nil
}

// writeAtomic writes data to path through a temporary file.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), tmpPrefix)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// cachedNames calls fn for every cached file of type t (and for stale
// temporary files, with tmp set).
func (b *Backend) cachedNames(t backend.FileType, fn func(path, name string, tmp bool)) {
	dirs := []string{filepath.Join(b.dir, t.String())}
	if t == backend.PackFile {
		subs, _ := os.ReadDir(dirs[0])
		dirs = dirs[:0]
		for _, s := range subs {
			if s.IsDir() {
				dirs = append(dirs, filepath.Join(b.dir, t.String(), s.Name()))
			}
		}
	}
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			fn(filepath.Join(d, e.Name()), e.Name(), strings.HasPrefix(e.Name(), tmpPrefix))
		}
	}
}

// diskError marks a failure to write the cache, as opposed to a failure
// of the source being copied into it.
type diskError struct{ err error }

func (e *diskError) Error() string { return e.err.Error() }
func (e *diskError) Unwrap() error { return e.err }

type diskWriter struct{ f *os.File }

func (w diskWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = &diskError{err}
	}
	return n, err
}
