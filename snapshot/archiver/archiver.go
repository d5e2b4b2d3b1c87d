// Package archiver backs up files and directories into a restic
// repository: it walks the sources, chunks and stores file content, writes
// trees bottom-up and finally the snapshot.
package archiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Excluder decides whether a path is left out of the backup. filter.Excluder
// implements it. Directories are walked concurrently, so Excluded must be
// safe for concurrent use.
type Excluder interface {
	Excluded(path string, fi os.FileInfo) bool
}

// PathExcluder is an Excluder that can tell from the path alone (as
// filter.Excluder can without a size limit). A new regular file is then
// backed up without an lstat: its fstat, once open, describes it.
type PathExcluder interface {
	Excluder
	// ExcludedByPath is Excluded for a regular file at path; decided is
	// false if the answer needs the file info.
	ExcludedByPath(path string) (excluded, decided bool)
}

// ProgramName begins the program version hbackup records in its
// snapshots ("hbackup 0.1.0").
const ProgramName = "hbackup"

// Options describe one backup. The zero value backs up nothing; set Paths.
type Options struct {
	// Paths to back up, as the user gave them; relative paths are recorded
	// in the snapshot as absolute ones and stored in the tree as given,
	// as restic does.
	Paths []string
	// Host and Tags are recorded in the snapshot; Host defaults to the
	// machine's hostname.
	Host string
	Tags []string
	// Time of the snapshot; zero means now.
	Time time.Time
	// Parent is the snapshot to compare against for unchanged files; nil
	// backs up every file's content afresh.
	Parent *snapshot.Snapshot
	// Excluder filters paths; Excludes are the patterns to record.
	Excluder Excluder
	Excludes []string
	// OneFileSystem stays on the file systems of the given paths; mount
	// points are kept as empty directories.
	OneFileSystem bool
	// IgnoreInode and IgnoreCtime relax the unchanged-file test.
	IgnoreInode, IgnoreCtime bool
	// DryRun reads and chunks everything but writes nothing.
	DryRun bool
	// ReadConcurrency is the number of files read at once (default 2).
	ReadConcurrency int
	// OnError is called for each file or directory that cannot be read.
	// Returning nil skips the item and goes on; returning an error aborts.
	// nil aborts on the first error.
	OnError func(path string, err error) error
	// Progress, if set, is updated while the backup runs.
	Progress *Progress
	// ProgramVersion is recorded in the snapshot (e.g. "hbackup 0.1.0").
	// Start it with ProgramName and a space: a later backup with this
	// snapshot as its parent then trusts its nodes' extended attributes
	// (see archiver.keepXattrs).
	ProgramVersion string
	Logger         *slog.Logger
	// Redirects read some paths from elsewhere (e.g. a ZFS snapshot)
	// while recording them under their real names; see Redirect.
	Redirects []Redirect
}

// Result is what a backup produced.
type Result struct {
	Snapshot   *snapshot.Snapshot
	SnapshotID repo.ID
	Summary    snapshot.Summary
	// Errors counts items skipped because they could not be read.
	Errors int
}

// Backup runs one backup into r and writes the snapshot (unless DryRun).
func Backup(ctx context.Context, r *repo.Repository, opts Options) (*Result, error) {
	if len(opts.Paths) == 0 {
		return nil, errors.New("nothing to back up: no paths given")
	}
	if opts.ReadConcurrency <= 0 {
		opts.ReadConcurrency = 2
	}
	if opts.Progress == nil {
		opts.Progress = &Progress{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	if opts.Time.IsZero() {
		opts.Time = start
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}

	targets, absPaths, err := cleanTargets(opts.Paths)
	if err != nil {
		return nil, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	a := &archiver{repo: r, opts: opts, names: &snapshot.UserNames{}, progress: opts.Progress, cwd: cwd,
		dirSlots:   make(chan struct{}, 8*runtime.GOMAXPROCS(0)),
		keepXattrs: opts.Parent != nil && strings.HasPrefix(opts.Parent.ProgramVersion, ProgramName+" ")}
	savers := runtime.GOMAXPROCS(0)
	a.savers = newSaverPool(savers, savers*ringPerSaver, a.storeChunk)
	defer a.savers.close() // after g.Wait below: no reader is left
	if a.redirect, err = newRedirector(opts.Redirects); err != nil {
		return nil, err
	}
	if opts.OneFileSystem {
		if a.devices, err = a.targetDevices(targets); err != nil {
			return nil, err
		}
	}
	root, err := buildTargetTree(targets)
	if err != nil {
		return nil, err
	}

	// Not errgroup.WithContext: its context ends when Wait returns, while
	// pack uploads started with it may still be running. This one ends
	// only when a worker fails or the caller cancels.
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := newWorkerPool(opts.ReadConcurrency, fileQueue)
	a.files = g
	a.cancel = cancel
	var parentTree *repo.ID
	if opts.Parent != nil {
		parentTree = opts.Parent.Tree
	}
	treeID, err := a.saveVirtualDir(gctx, root, parentTree)
	// A failed worker cancels gctx, so the walk may report only the
	// cancellation: the worker's error is the real cause.
	if werr := g.Wait(); werr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = werr
	}
	if err != nil {
		// No upload may outlive the call; its error may be the cause.
		if uerr := r.Wait(); uerr != nil && errors.Is(err, context.Canceled) && ctx.Err() == nil {
			err = uerr
		}
		return nil, err
	}
	if !opts.DryRun {
		if err := r.Flush(ctx); err != nil {
			return nil, err
		}
	}

	sn := &snapshot.Snapshot{
		Time:           opts.Time,
		Tree:           &treeID,
		Paths:          absPaths,
		Hostname:       opts.Host,
		Excludes:       opts.Excludes,
		Tags:           opts.Tags,
		ProgramVersion: opts.ProgramVersion,
	}
	if u, err := user.Current(); err == nil {
		sn.Username = u.Username
	}
	sn.UID, sn.GID = uint32(os.Getuid()), uint32(os.Getgid())
	if opts.Parent != nil && opts.Parent.ID() != (repo.ID{}) {
		pid := opts.Parent.ID()
		sn.Parent = &pid
	}
	sum := a.progress.summary()
	sum.BackupStart, sum.BackupEnd = start, time.Now()
	sn.Summary = &sum
	res := &Result{Snapshot: sn, Summary: sum, Errors: int(a.progress.Errors.Load())}
	if opts.DryRun {
		return res, nil
	}
	id, err := snapshot.Save(ctx, r, sn)
	if err != nil {
		return nil, fmt.Errorf("save snapshot: %w", err)
	}
	res.SnapshotID = id
	return res, nil
}

// fileQueue is how many files the walk may have waiting for a reader: a
// queued file is a closure, its node and its path, not an open file.
const fileQueue = 64

// cleanTargets returns the targets as cleaned paths (used for reading the
// file system and naming tree entries) and as absolute paths (recorded in
// the snapshot), dropping duplicates.
func cleanTargets(paths []string) (targets, abs []string, err error) {
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "" {
			continue
		}
		c := filepath.Clean(p)
		a, err := filepath.Abs(c)
		if err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(c, "..") {
			c = a // restic cannot root ".." in the tree either; use the absolute path
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		targets = append(targets, c)
		abs = append(abs, a)
	}
	if len(targets) == 0 {
		return nil, nil, errors.New("nothing to back up: no paths given")
	}
	return targets, abs, nil
}
