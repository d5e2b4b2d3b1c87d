// Package repair rebuilds a restic repository's index from its pack
// files, as restic's `repair index` (0.14: `rebuild-index`) does.
package repair

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/internal/pack"
	"golang.org/x/sync/errgroup"
)

// IndexOptions tune RebuildIndex. The zero value is restic's default:
// keep the index entries of packs whose size matches them.
type IndexOptions struct {
	// ReadAllPacks ignores the existing index and reads every pack header.
	ReadAllPacks bool
	// Progress receives restic's progress lines ("reading pack files"),
	// Warn its warnings ("adding pack file to index ..."); nil: silent.
	Progress, Warn func(format string, args ...any)
}

// IndexResult says what RebuildIndex found and did.
type IndexResult struct {
	Added     []repo.ID // packs no index listed, now indexed
	Reindexed []repo.ID // packs whose size did not match the index
	Missing   []repo.ID // indexed packs that do not exist, dropped
	Invalid   []repo.ID // packs whose header could not be read, left out
	// InvalidIndexes are index files that could not be loaded.
	InvalidIndexes []repo.ID
	// NewIndexes were written; ObsoleteIndexes were deleted after that.
	NewIndexes, ObsoleteIndexes []repo.ID
}

// RebuildIndex writes a new set of index files listing exactly the packs
// in the repository, then deletes all old index files. Entries of the old
// index are kept for packs whose size matches them (unless ReadAllPacks);
// other packs' headers are read. The new files are complete before any
// old one is deleted, so an interruption leaves a repository with
// duplicate index entries, never a missing one.
//
// r's in-memory index is not updated: open the repository again to use
// the new index.
func RebuildIndex(ctx context.Context, r *repo.Repository, opts IndexOptions) (*IndexResult, error) {
	say := orNop(opts.Progress)
	warn := orNop(opts.Warn)
	res := &IndexResult{}

	var oldFiles []repo.ID
	if err := r.List(ctx, backend.IndexFile, func(id repo.ID, _ int64) error {
		oldFiles = append(oldFiles, id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list index files: %w", err)
	}
	indexed := make(map[repo.ID][]repo.PackedBlob)
	if !opts.ReadAllPacks {
		say("loading indexes...\n")
		files, errs, err := loadIndexFiles(ctx, r, oldFiles)
		if err != nil {
			return nil, err
		}
		for i, id := range oldFiles {
			if errs[i] != nil {
				warn("removing invalid index %v: %v\n", id, errs[i])
				res.InvalidIndexes = append(res.InvalidIndexes, id)
				continue
			}
			for _, p := range files[i].Packs {
				if _, dup := indexed[p.ID]; !dup {
					indexed[p.ID] = p.Blobs
				}
			}
		}
	}

	say("getting pack files to read...\n")
	toRead := make(map[repo.ID]int64)
	seen := make(map[repo.ID]bool)
	if err := r.List(ctx, backend.PackFile, func(id repo.ID, size int64) error {
		seen[id] = true
		blobs, ok := indexed[id]
		switch {
		case opts.ReadAllPacks:
			toRead[id] = size
		case !ok:
			warn("adding pack file to index %v\n", id)
			res.Added = append(res.Added, id)
			toRead[id] = size
		case PackSize(blobs) != size:
			warn("reindexing pack file %v with unexpected size %v instead of %v\n", id, size, PackSize(blobs))
			res.Reindexed = append(res.Reindexed, id)
			delete(indexed, id)
			toRead[id] = size
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	for id := range indexed {
		if !seen[id] {
			warn("removing not found pack file %v\n", id)
			res.Missing = append(res.Missing, id)
			delete(indexed, id)
		}
	}

	if len(toRead) > 0 {
		say("reading pack files\n")
		invalid, err := readHeaders(ctx, r, toRead, indexed)
		if err != nil {
			return nil, err
		}
		res.Invalid = invalid
	} else {
		say("no need to read any pack file\n")
	}

	say("rebuilding index\n")
	newFiles, err := writeIndex(ctx, r, indexed)
	if err != nil {
		return nil, err
	}
	res.NewIndexes = newFiles
	say("deleting obsolete index files\n")
	for _, id := range oldFiles {
		err := r.Backend().Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: id.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return nil, fmt.Errorf("remove index %v: %w", id.Str(), err)
		}
		res.ObsoleteIndexes = append(res.ObsoleteIndexes, id)
	}
	for _, l := range [][]repo.ID{res.Added, res.Reindexed, res.Missing, res.Invalid} {
		slices.SortFunc(l, func(a, b repo.ID) int { return slices.Compare(a[:], b[:]) })
	}
	return res, nil
}

// loadIndexFiles loads index files in parallel; errs[i] is the error of
// ids[i], and err a cancellation.
func loadIndexFiles(ctx context.Context, r *repo.Repository, ids []repo.ID) (files []*repo.IndexFile, errs []error, err error) {
	files, errs = make([]*repo.IndexFile, len(ids)), make([]error, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(4, r.Backend().Properties().Connections))
	for i, id := range ids {
		g.Go(func() error {
			files[i], errs[i] = r.LoadIndexFile(gctx, id)
			return gctx.Err()
		})
	}
	return files, errs, g.Wait()
}

// readHeaders reads the headers of the packs in toRead in parallel and
// adds their blobs to indexed; it returns the packs that failed.
func readHeaders(ctx context.Context, r *repo.Repository, toRead map[repo.ID]int64, indexed map[repo.ID][]repo.PackedBlob) ([]repo.ID, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(2, r.Backend().Properties().Connections))
	var mu sync.Mutex
	var invalid []repo.ID
	for id, size := range toRead {
		g.Go(func() error {
			blobs, err := r.ReadPackHeader(gctx, id, size)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case gctx.Err() != nil:
				return gctx.Err()
			case err != nil:
				r.Logger().Debug("skipped incomplete pack file", "pack", id, "err", err)
				invalid = append(invalid, id)
			default:
				indexed[id] = blobs
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return invalid, nil
}

// writeIndex writes index files for all packs, in pack ID order, at most
// repo.IndexFileMaxBlobs blobs per file.
func writeIndex(ctx context.Context, r *repo.Repository, indexed map[repo.ID][]repo.PackedBlob) ([]repo.ID, error) {
	packs := make([]repo.IndexPack, 0, len(indexed))
	for id, blobs := range indexed {
		packs = append(packs, repo.IndexPack{ID: id, Blobs: blobs})
	}
	slices.SortFunc(packs, func(a, b repo.IndexPack) int { return slices.Compare(a.ID[:], b.ID[:]) })
	var ids []repo.ID
	for len(packs) > 0 {
		n, blobs := 0, 0
		for n < len(packs) && (n == 0 || blobs+len(packs[n].Blobs) <= repo.IndexFileMaxBlobs) {
			blobs += len(packs[n].Blobs)
			n++
		}
		id, err := r.SaveIndexFile(ctx, packs[:n])
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
		packs = packs[n:]
	}
	return ids, nil
}

// PackSize returns the size of a pack file holding exactly these blobs:
// the blobs, one header entry each, the header's encryption overhead and
// its length field.
func PackSize(blobs []repo.PackedBlob) int64 {
	size := int64(pack.Overhead)
	for _, b := range blobs {
		size += int64(b.Length) + pack.PlainEntrySize
		if b.UncompressedLength != 0 {
			size += pack.CompressedEntrySize - pack.PlainEntrySize
		}
	}
	return size
}

func orNop(f func(string, ...any)) func(string, ...any) {
	if f == nil {
		return func(string, ...any) {}
	}
	return f
}
