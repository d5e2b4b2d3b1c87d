// Package restorer writes a snapshot tree from a restic repository into a
// directory, the way restic's restore command does.
//
// A restore runs in four phases:
//
//  1. Plan: walk the trees, apply Options.Select, create directories (0700
//     for now), symlinks, fifos and devices, create every regular file at
//     its final size, and hardlink files that were hardlinked when backed up.
//  2. Content: download each pack once, holding all the blobs the restore
//     needs from it, several packs at a time, and write every blob to each
//     place (file and offset) that uses it.
//  3. Verify (optional): re-read each file and check it against the blob IDs.
//  4. Metadata: xattrs, owner, mode and times, for files and special nodes
//     first and directories last, deepest first, so nothing written later
//     changes a directory's mtime. Without Verify, a file whose content is
//     complete gets its metadata already in phase 2, from the writer that
//     wrote its last blob.
package restorer

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Options tune a restore. The zero value restores everything, without
// owners, without holes, and stops at the first error.
type Options struct {
	// Select decides for each item whether it is restored and, for a
	// directory, whether the walk descends into it because a child may be
	// selected. itemPath is slash-separated and starts with "/", relative
	// to the restored tree's root ("/home/user/f"). A directory that is not
	// selected but holds restored items is created anyway and gets its
	// metadata, as restic does. nil restores everything.
	// filter.RestoreSelector.Select fits.
	Select func(itemPath string, isDir bool) (selected, childMayBeSelected bool)
	// Owner restores uid and gid (needs root or CAP_CHOWN).
	Owner bool
	// Verify re-reads every restored file and checks its content against
	// the snapshot's blob IDs before metadata is applied.
	Verify bool
	// Sparse leaves blobs that are entirely zero unwritten, so they become
	// holes, as restic's --sparse. Without it file space is preallocated.
	Sparse bool
	// Concurrency is the number of packs downloaded at once (default: the
	// backend's connections, at least 2).
	Concurrency int
	// OnError is called for every item that cannot be restored, with the
	// target path of the item and the error. Returning nil skips the item
	// and goes on; returning an error aborts the restore with it. nil
	// aborts on the first error. Calls never overlap.
	OnError func(path string, err error) error
	// Progress, if set, is updated while the restore runs.
	Progress *Progress
	Logger   *slog.Logger
}

// Progress counts what a running restore has done. All fields are safe to
// read while the restore runs.
type Progress struct {
	// TotalFiles and TotalBytes (regular files and their content) are
	// known once PlanDone is set.
	TotalFiles, TotalBytes atomic.Uint64
	PlanDone               atomic.Bool
	// Files and Bytes count file content fully written so far.
	Files, Bytes atomic.Uint64
	// Errors counts items skipped through OnError.
	Errors atomic.Uint64
}

// Stats is what a restore did. Files includes hardlinks; Bytes counts file
// content written (or left as holes), each hardlinked inode once.
type Stats struct {
	Files, Dirs, Others uint64
	Bytes               uint64
	// Errors counts items skipped because OnError returned nil.
	Errors int
	// Verified counts files whose content Verify checked successfully.
	Verified uint64
}

// Restore writes the tree with ID tree and everything below it into
// target, which is created if missing. Existing files in the way are
// replaced; existing directories are reused. The returned Stats are valid
// even when an error is returned.
func Restore(ctx context.Context, r *repo.Repository, tree repo.ID, target string, opts Options) (*Stats, error) {
	rs := newRestorer(r, target, opts)
	err := rs.run(ctx, tree)
	return rs.stats(), err
}

// restorer holds the state of one Restore call.
type restorer struct {
	repo   *repo.Repository
	target string
	opts   Options
	log    *slog.Logger

	// Filled by the plan; read-only afterwards.
	files    []*fileJob
	specials []created            // symlinks, fifos, devices
	dirs     []created            // in creation order: parents before children
	blobs    map[repo.ID]*blobJob // data blobs needed, by ID
	packs    map[repo.ID]*packJob // the same blobs grouped by pack
	links    map[inodeKey]*fileJob
	// targetFresh: run made the target, so it was empty.
	targetFresh bool
	// trees loads the trees the plan walks into next (during the plan).
	trees *treeAhead

	errMu                     sync.Mutex // serializes OnError calls
	nDirs, nOthers, nVerified atomic.Uint64
	nErrors                   atomic.Int64
}

// created is a non-file item the plan made, waiting for its metadata.
type created struct {
	path string
	node *snapshot.Node
}

func newRestorer(r *repo.Repository, target string, opts Options) *restorer {
	if opts.Select == nil {
		opts.Select = func(_ string, isDir bool) (bool, bool) { return true, isDir }
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = max(2, r.Backend().Properties().Connections)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Progress == nil {
		opts.Progress = &Progress{}
	}
	return &restorer{
		repo:   r,
		target: filepath.Clean(target),
		opts:   opts,
		log:    opts.Logger,
		blobs:  make(map[repo.ID]*blobJob),
		packs:  make(map[repo.ID]*packJob),
		links:  make(map[inodeKey]*fileJob),
	}
}

func (rs *restorer) run(ctx context.Context, tree repo.ID) error {
	if err := os.Mkdir(rs.target, 0o700); err == nil {
		rs.targetFresh = true
	} else if err := os.MkdirAll(rs.target, 0o700); err != nil {
		return fmt.Errorf("create target: %w", err)
	}
	if err := rs.plan(ctx, tree); err != nil {
		return err
	}
	if err := rs.restoreContent(ctx); err != nil {
		return err
	}
	// Verify before metadata: files are still readable by us (mode 0600,
	// our own), and reading them cannot disturb the atime set afterwards.
	if rs.opts.Verify {
		if err := rs.verifyAll(ctx); err != nil {
			return err
		}
	}
	return rs.restoreMetadata(ctx)
}

// stats counts files whose content was completely written, with their
// hardlinks. It runs after every goroutine has finished.
func (rs *restorer) stats() *Stats {
	st := &Stats{
		Dirs:     rs.nDirs.Load(),
		Others:   rs.nOthers.Load(),
		Errors:   int(rs.nErrors.Load()),
		Verified: rs.nVerified.Load(),
	}
	for _, f := range rs.files {
		if !f.failed.Load() && f.pending.Load() == 0 {
			st.Files += 1 + uint64(len(f.links))
			st.Bytes += uint64(f.size)
		}
	}
	return st
}

// fail hands a per-item error to OnError. It returns nil when the restore
// should skip the item and go on, and the error that aborts it otherwise.
// Once ctx is done, errors are the cancellation's, not the item's.
func (rs *restorer) fail(ctx context.Context, path string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if rs.opts.OnError == nil {
		return err
	}
	rs.errMu.Lock()
	defer rs.errMu.Unlock()
	if ferr := rs.opts.OnError(path, err); ferr != nil {
		return ferr
	}
	rs.nErrors.Add(1)
	rs.opts.Progress.Errors.Add(1)
	rs.log.Debug("restore: skipped (reported through OnError)", "path", path, "err", err)
	return nil
}
