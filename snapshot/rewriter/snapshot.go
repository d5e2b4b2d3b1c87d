package rewriter

import (
	"context"
	"fmt"
	"slices"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Options say how a changed snapshot is stored, as restic's rewrite and
// repair snapshots flags.
type Options struct {
	// Forget removes the old snapshot file once the new one is written.
	// Without it both stay, and the new one gets Tag.
	Forget bool
	Tag    string // "rewrite" or "repaired" in restic
	// DryRun computes the result without writing or removing anything.
	DryRun bool
	// UpdateSummary sets a changed snapshot's summary totals (files and
	// bytes processed) to what the new tree holds, as restic's rewrite.
	UpdateSummary bool
}

// Outcome is what became of one snapshot.
type Outcome int

const (
	Unchanged Outcome = iota
	Rewritten         // a new snapshot was saved (or would be, in a dry run)
	Removed           // the root tree was dropped, so the snapshot was removed
)

// Result describes one rewritten snapshot.
type Result struct {
	Outcome Outcome
	NewID   repo.ID // the new snapshot (Rewritten, not in a dry run)
	OldID   repo.ID
}

// Snapshot rewrites sn's tree with t and stores the result in r as
// restic does: packs and index of new trees first, then the new snapshot
// file (original fields, Original set to sn's ID), then, with
// Options.Forget, removal of the old file. An unchanged tree writes
// nothing. sn is changed in memory when a new snapshot is saved.
func Snapshot(ctx context.Context, r *repo.Repository, sn *snapshot.Snapshot, t *TreeRewriter, opts Options) (Result, error) {
	res := Result{OldID: sn.ID()}
	if sn.Tree == nil {
		return res, fmt.Errorf("snapshot %v has nil tree", sn.ID().Str())
	}
	var dst Repository = r
	if opts.DryRun {
		dst = hashOnly{r}
	}
	newTree, err := t.Rewrite(ctx, dst, *sn.Tree)
	if err != nil {
		return res, err
	}
	if !opts.DryRun {
		// New trees must be indexed before a snapshot refers to them.
		if err := r.Flush(ctx); err != nil {
			return res, err
		}
	}
	switch {
	case newTree.IsNull():
		res.Outcome = Removed
		if !opts.DryRun {
			if err := removeSnapshot(ctx, r, res.OldID); err != nil {
				return res, err
			}
		}
		return res, nil
	case newTree == *sn.Tree:
		return res, nil
	}
	res.Outcome = Rewritten
	if opts.DryRun {
		return res, nil
	}
	old := res.OldID
	sn.Original = &old
	sn.Tree = &newTree
	if !opts.Forget && opts.Tag != "" && !slices.Contains(sn.Tags, opts.Tag) {
		sn.Tags = append(sn.Tags, opts.Tag)
	}
	if opts.UpdateSummary && sn.Summary != nil {
		sn.Summary.TotalFilesProcessed = t.Files
		sn.Summary.TotalBytesProcessed = t.Bytes
	}
	if res.NewID, err = snapshot.Save(ctx, r, sn); err != nil {
		return res, err
	}
	if opts.Forget {
		if err := removeSnapshot(ctx, r, old); err != nil {
			return res, err
		}
	}
	return res, nil
}

func removeSnapshot(ctx context.Context, r *repo.Repository, id repo.ID) error {
	h := backend.Handle{Type: backend.SnapshotFile, Name: id.String()}
	if err := r.Backend().Remove(ctx, h); err != nil {
		return fmt.Errorf("remove snapshot %v: %w", id.Str(), err)
	}
	return nil
}

// hashOnly loads from a repository but only computes the IDs of blobs it
// is asked to save: a dry run.
type hashOnly struct{ snapshot.BlobLoader }

func (hashOnly) SaveBlob(_ context.Context, _ repo.BlobType, data []byte) (repo.ID, bool, error) {
	return repo.Hash(data), false, nil
}
