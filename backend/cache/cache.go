// Package cache keeps a local copy of a repository's metadata (snapshots,
// index files and the packs holding tree blobs), so that commands against
// a remote repository download them once. It is a backend.Backend
// decorator, laid out on disk as restic lays out its cache:
//
//	<dir>/CACHEDIR.TAG
//	<dir>/<repository ID>/{snapshots,index,data/xx}/<file ID>
//
// Cached files hold the encrypted bytes as stored in the repository. A
// cached file is checked against its name (the SHA-256 of its content)
// before its first use in a process; a damaged one is dropped and read
// from the repository again. Files are written to a temporary name and
// renamed, so several processes can share a cache. A cache that cannot be
// written (read-only, full) degrades to no cache with a warning.
package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// tagContent marks the cache for backup tools (https://bford.info/cachedir/).
const tagContent = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by hbackup.\n" +
	"# For information about cache directory tags, see:\n" +
	"#\thttps://bford.info/cachedir/\n"

// Options configure a cache. The zero value uses DefaultDir.
type Options struct {
	// Dir is the base directory holding one cache per repository; empty
	// means DefaultDir().
	Dir string
	// Logger gets warnings about a cache that cannot be used; nil
	// discards them.
	Logger *slog.Logger
}

// DefaultDir returns the default base directory: $XDG_CACHE_HOME/hbackup,
// else ~/.cache/hbackup (on Linux; os.UserCacheDir elsewhere).
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	return filepath.Join(d, "hbackup"), nil
}

// Backend serves snapshots, index files and cached packs from local disk
// and passes everything else to the wrapped backend. It implements
// repo.PackCache. It is safe for concurrent use.
type Backend struct {
	be     backend.Backend
	dir    string // <base>/<repository ID>
	logger *slog.Logger

	readOnly  atomic.Bool // set after a failed write: stop adding files
	verified  sync.Map    // handle → struct{}: checked in this process
	verifying sync.Map    // handle → *sync.Mutex: one hash at a time

	mu       sync.Mutex
	inflight map[backend.Handle]chan struct{} // downloads into the cache
}

// New opens (creating it if needed) the cache of repository repoID and
// returns be decorated with it. An error means the cache cannot be used;
// callers should warn and go on with be alone.
func New(be backend.Backend, repoID string, opts Options) (*Backend, error) {
	if !validID(repoID) {
		return nil, fmt.Errorf("cache: invalid repository ID %q", repoID)
	}
	base := opts.Dir
	if base == "" {
		var err error
		if base, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	if err := createBase(base); err != nil {
		return nil, err
	}
	dir := filepath.Join(base, repoID)
	for _, sub := range []string{backend.SnapshotFile.String(), backend.IndexFile.String(), backend.PackFile.String()} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	// restic's cache format version, so that restic can share the
	// directory (the layout is the same).
	version := filepath.Join(dir, "version")
	if _, err := os.Stat(version); errors.Is(err, fs.ErrNotExist) {
		if err := writeAtomic(version, []byte("1")); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	// The directory's time says when the repository was last used; old
	// ones are removed by RemoveOld.
	now := time.Now()
	if err := os.Chtimes(dir, now, now); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{be: be, dir: dir, logger: logger, inflight: make(map[backend.Handle]chan struct{})}, nil
}

// createBase makes the base directory with its CACHEDIR.TAG.
func createBase(base string) error {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tag := filepath.Join(base, "CACHEDIR.TAG")
	if _, err := os.Stat(tag); err == nil {
		return nil
	}
	if err := writeAtomic(tag, []byte(tagContent)); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Dir returns the directory of this repository's cache.
func (b *Backend) Dir() string { return b.dir }

// SpoolDir implements repo.Spooler: packs waiting for upload are
// written to unnamed files in the cache directory.
func (b *Backend) SpoolDir() string { return b.dir }

// Location implements backend.Backend.
func (b *Backend) Location() string { return b.be.Location() }

// Properties implements backend.Backend.
func (b *Backend) Properties() backend.Properties { return b.be.Properties() }

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context) error { return b.be.Create(ctx) }

// Stat implements backend.Backend; it always asks the repository, which
// is the authority on what exists.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	return b.be.Stat(ctx, h)
}

// Close implements backend.Backend.
func (b *Backend) Close() error { return b.be.Close() }

// disableWrites stops adding files after a write failed (a full or
// read-only disk), warning once; cached files are still read.
func (b *Backend) disableWrites(err error) {
	if b.readOnly.CompareAndSwap(false, true) {
		b.logger.Warn("cache cannot be written, continuing without adding to it", "dir", b.dir, "err", err)
	}
}

// errNoCache reports that a file could not be put into the cache for a
// local reason; the caller reads from the repository instead.
var errNoCache = errors.New("not cached")
