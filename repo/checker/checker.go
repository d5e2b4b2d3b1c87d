// Package checker verifies a restic repository as `restic check` does: it
// loads every index file, compares the index with the pack files in the
// backend, walks every snapshot's trees, and optionally reads packs back
// to verify every byte.
//
// Each problem is passed to a report function as a typed error (IndexError,
// PackError, SnapshotError, TreeError, ...). Findings that are legal in a
// restic repository, such as orphaned or duplicate packs, are Hints; they
// never make a check fail. Damage never makes the checker panic.
package checker

import (
	"context"
	"fmt"
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/internal/pack"
	"golang.org/x/sync/errgroup"
)

// Checker checks one repository. Run its steps in order: LoadIndex, Packs,
// Structure, then ReadPacks if wanted. The caller should hold an
// exclusive lock so that nothing changes underneath.
type Checker struct {
	r *repo.Repository

	snapshots    []repo.ID            // listed before the index, as restic does
	packs        map[repo.ID]packInfo // from the index; nil until LoadIndex
	backendSizes map[repo.ID]int64    // from listing the backend in Packs
	referenced   map[repo.BlobHandle]struct{}
}

// packInfo is what the index says about one pack.
type packInfo struct {
	size       int64 // file size the index implies
	data, tree bool  // holds blobs of that type
}

// New returns a checker for r. r's in-memory index should be empty:
// LoadIndex fills it.
func New(r *repo.Repository) *Checker { return &Checker{r: r} }

// serial makes report safe to call from several goroutines, and a nil
// report a no-op.
func serial(report func(error)) func(error) {
	if report == nil {
		return func(error) {}
	}
	var mu sync.Mutex
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		report(err)
	}
}

// connections is how many requests to have in flight at once.
func (c *Checker) connections() int {
	return max(1, c.r.Backend().Properties().Connections)
}

func listIDs(ctx context.Context, r *repo.Repository, t backend.FileType) ([]repo.ID, error) {
	var ids []repo.ID
	err := r.List(ctx, t, func(id repo.ID, _ int64) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %v: %w", t, err)
	}
	sortIDs(ids)
	return ids, nil
}

// LoadIndex lists the snapshots, then loads every index file into the
// repository's index. It reports each unreadable index file
// (IndexError) and, as hints, packs listed in several index files and
// packs mixing data and tree blobs. The returned error means the check
// cannot go on (listing failed, ctx cancelled).
func (c *Checker) LoadIndex(ctx context.Context, report func(error)) error {
	report = serial(report)
	// Snapshots first: a concurrent backup writes its index before its
	// snapshot, so every snapshot listed has its index listed too.
	snaps, err := listIDs(ctx, c.r, backend.SnapshotFile)
	if err != nil {
		return err
	}
	c.snapshots = snaps
	ids, err := listIDs(ctx, c.r, backend.IndexFile)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	inFiles := make(map[repo.ID][]repo.ID) // pack -> index files listing it
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(4, c.connections()))
	for _, id := range ids {
		g.Go(func() error {
			f, err := c.r.LoadIndexFile(gctx, id)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				report(&IndexError{IndexID: id, Err: err})
				return nil
			}
			c.r.AddIndexFile(f)
			mu.Lock()
			defer mu.Unlock()
			for _, p := range f.Packs {
				if l := inFiles[p.ID]; len(l) == 0 || l[len(l)-1] != id {
					inFiles[p.ID] = append(l, id)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	c.packs = packsFromIndex(c.r.Index())

	var dups, mixed []repo.ID
	for id, files := range inFiles {
		if len(files) > 1 {
			dups = append(dups, id)
		}
	}
	for id, p := range c.packs {
		if p.data && p.tree {
			mixed = append(mixed, id)
		}
	}
	sortIDs(dups)
	sortIDs(mixed)
	for _, id := range dups {
		files := inFiles[id]
		sortIDs(files)
		report(&DuplicatePackHint{PackID: id, Indexes: files})
	}
	for _, id := range mixed {
		report(&MixedPackHint{PackID: id})
	}
	return nil
}

// packsFromIndex computes each pack's expected file size from the merged
// index, which holds each (blob, pack, position) once even when several
// index files list it: blobs, then the encrypted header and its length.
func packsFromIndex(idx *repo.MasterIndex) map[repo.ID]packInfo {
	packs := make(map[repo.ID]packInfo)
	idx.Each(func(pb repo.PackedBlob) {
		p := packs[pb.PackID]
		if p.size == 0 {
			p.size = pack.Overhead
		}
		p.size += int64(pb.Length) + pack.PlainEntrySize
		if pb.UncompressedLength != 0 {
			p.size += pack.CompressedEntrySize - pack.PlainEntrySize
		}
		p.data = p.data || pb.Type == repo.DataBlob
		p.tree = p.tree || pb.Type == repo.TreeBlob
		packs[pb.PackID] = p
	})
	return packs
}

// IndexedPacks returns the packs the index lists with the file size it
// implies for each: the set ReadPacks and Subset.Select work on.
func (c *Checker) IndexedPacks() map[repo.ID]int64 {
	out := make(map[repo.ID]int64, len(c.packs))
	for id, p := range c.packs {
		out[id] = p.size
	}
	return out
}

// Packs lists the pack files in the backend and compares them with the
// index: an indexed pack that is missing or has another size is a
// PackError (ErrPackMissing, ErrPackSize); a pack no index lists is an
// OrphanedPackHint.
func (c *Checker) Packs(ctx context.Context, report func(error)) error {
	if c.packs == nil {
		return fmt.Errorf("checker: Packs before LoadIndex")
	}
	report = serial(report)
	sizes := make(map[repo.ID]int64)
	err := c.r.List(ctx, backend.PackFile, func(id repo.ID, size int64) error {
		sizes[id] = size
		return nil
	})
	if err != nil {
		return fmt.Errorf("list packs: %w", err)
	}
	c.backendSizes = sizes

	indexed := make([]repo.ID, 0, len(c.packs))
	for id := range c.packs {
		indexed = append(indexed, id)
	}
	sortIDs(indexed)
	for _, id := range indexed {
		got, ok := sizes[id]
		want := c.packs[id].size
		switch {
		case !ok:
			report(&PackError{PackID: id, Errors: []error{ErrPackMissing}})
		case got != want:
			report(&PackError{PackID: id, Errors: []error{fmt.Errorf("%w: got %d, expected %d", ErrPackSize, got, want)}})
		}
	}
	var orphans []repo.ID
	for id := range sizes {
		if _, ok := c.packs[id]; !ok {
			orphans = append(orphans, id)
		}
	}
	sortIDs(orphans)
	for _, id := range orphans {
		report(&OrphanedPackHint{PackID: id, Size: sizes[id]})
	}
	return nil
}
