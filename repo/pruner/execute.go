package pruner

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"golang.org/x/sync/errgroup"
)

// Execute carries the plan out in the order that keeps every used blob
// reachable at every moment (design §15):
//
//  1. copy the used blobs of the packs to repack into new packs, and
//     write index files for the new packs;
//  2. write index files for the kept packs of every index file that
//     mentions a pack to delete, then delete those old index files;
//  3. delete the packs no index file mentions any more.
//
// Killed after 1, the repository holds extra copies; after 2, packs no
// index lists. Both are what the next prune cleans up. say reports
// progress (nil: silent).
func (p *Plan) Execute(ctx context.Context, say func(format string, args ...any)) error {
	if say == nil {
		say = func(string, ...any) {}
	}
	conns := max(1, p.r.Backend().Properties().Connections)
	if len(p.repack) > 0 {
		say("repacking packs\n")
		if err := p.repackBlobs(ctx, conns); err != nil {
			return fmt.Errorf("repack: %w", err)
		}
	}
	drop := make(map[repo.ID]struct{}, len(p.repack)+len(p.remove)+len(p.missing))
	for _, set := range []map[repo.ID]struct{}{p.repack, p.remove, p.missing} {
		for id := range set {
			drop[id] = struct{}{}
		}
	}
	if len(drop) > 0 {
		say("rebuilding index\n")
		obsolete, err := p.rewriteIndex(ctx, drop)
		if err != nil {
			return err
		}
		say("deleting obsolete index files\n")
		if err := removeFiles(ctx, p.r, backend.IndexFile, obsolete, conns); err != nil {
			return err
		}
	}
	var packs []repo.ID
	for id := range drop {
		if _, gone := p.missing[id]; !gone {
			packs = append(packs, id)
		}
	}
	packs = append(packs, p.orphans...)
	if len(packs) > 0 {
		say("removing %d old packs\n", len(packs))
		if err := removeFiles(ctx, p.r, backend.PackFile, packs, conns); err != nil {
			return err
		}
	}
	say("done\n")
	return nil
}

// blobsToCopy returns, per pack to repack, the used blobs that have no
// copy in a pack that stays; each such blob is listed once.
func (p *Plan) blobsToCopy() (map[repo.ID][]repo.PackedBlob, error) {
	stays := func(pack repo.ID) bool {
		_, a := p.repack[pack]
		_, b := p.remove[pack]
		_, c := p.missing[pack]
		return !a && !b && !c
	}
	out := make(map[repo.ID][]repo.PackedBlob)
	idx := p.r.Index()
	for h := range p.keep {
		copies := idx.Lookup(h)
		var pick *repo.PackedBlob
		safe := false
		for i, pb := range copies {
			if stays(pb.PackID) {
				safe = true
				break
			}
			if _, ok := p.repack[pb.PackID]; ok && pick == nil {
				pick = &copies[i]
			}
		}
		switch {
		case safe:
		case pick == nil:
			return nil, fmt.Errorf("used blob %v would be deleted", h)
		default:
			out[pick.PackID] = append(out[pick.PackID], *pick)
		}
	}
	return out, nil
}

// repackBlobs copies blobs through a writer with an empty index, so
// they are stored again although the repository's index knows them, and
// flushes it: new packs first, then their index files.
func (p *Plan) repackBlobs(ctx context.Context, conns int) error {
	todo, err := p.blobsToCopy()
	if err != nil {
		return err
	}
	w, err := p.r.NewRepackWriter()
	if err != nil {
		return err
	}
	defer w.Close()
	// Not errgroup.WithContext: its context ends when Wait returns, but
	// the writer's pack uploads started with it run until Flush. This one
	// ends when a reader fails or when this function returns.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &errgroup.Group{}
	g.SetLimit(conns)
	for packID, blobs := range todo {
		g.Go(func() error {
			err := p.r.StreamPackSealed(wctx, packID, blobs, func(pb repo.PackedBlob, sealed, plain []byte, err error) error {
				if err != nil {
					// Another copy (maybe in another pack) may still be good.
					if plain, err = p.r.LoadBlob(wctx, pb.Type, pb.ID, nil); err != nil {
						return fmt.Errorf("blob %v: %w", pb.BlobHandle, err)
					}
					_, _, err = w.SaveBlobID(wctx, pb.Type, pb.ID, plain)
					return err
				}
				if p.mustRecompress(pb) {
					_, _, err = w.SaveBlobID(wctx, pb.Type, pb.ID, plain)
					return err
				}
				// Verified by decoding: copy the stored bytes as they are,
				// without compressing and encrypting them again.
				_, err = w.SaveSealedBlob(wctx, pb, sealed)
				return err
			})
			if err != nil {
				cancel()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		_ = w.Wait()
		return err
	}
	if err := w.Flush(wctx); err != nil {
		return err
	}
	// Nothing may be deleted unless every copied blob is now indexed.
	for _, blobs := range todo {
		for _, pb := range blobs {
			if !w.Index().Has(pb.BlobHandle) {
				return fmt.Errorf("blob %v missing after repacking", pb.BlobHandle)
			}
		}
	}
	return nil
}

// mustRecompress reports whether a repacked blob is stored anew from its
// plaintext rather than copied: uncompressed blobs that the plan wants
// compressed.
func (p *Plan) mustRecompress(pb repo.PackedBlob) bool {
	if pb.UncompressedLength != 0 {
		return false
	}
	if pb.Type == repo.TreeBlob {
		return p.recompressTrees
	}
	return p.recompressData
}

// rewriteIndex writes new index files for the packs that stay out of the
// index files that mention a dropped pack, and returns those old files.
func (p *Plan) rewriteIndex(ctx context.Context, drop map[repo.ID]struct{}) ([]repo.ID, error) {
	var obsolete []repo.ID
	var keep []repo.IndexPack
	seen := make(map[repo.ID]struct{})
	for _, f := range p.files {
		touched := false
		for _, pk := range f.Packs {
			if _, ok := drop[pk.ID]; ok {
				touched = true
				break
			}
		}
		if !touched {
			continue
		}
		obsolete = append(obsolete, f.ID)
		for _, pk := range f.Packs {
			_, dropped := drop[pk.ID]
			_, dup := seen[pk.ID]
			if !dropped && !dup {
				seen[pk.ID] = struct{}{}
				keep = append(keep, pk)
			}
		}
	}
	for len(keep) > 0 {
		n, blobs := 0, 0
		for n < len(keep) && (n == 0 || blobs+len(keep[n].Blobs) <= repo.IndexFileMaxBlobs) {
			blobs += len(keep[n].Blobs)
			n++
		}
		if _, err := p.r.SaveIndexFile(ctx, keep[:n]); err != nil {
			return nil, err
		}
		keep = keep[n:]
	}
	return obsolete, nil
}

// removeFiles deletes files in parallel, bounded by the backend's
// connections. A file already gone is fine: a rerun after a crash.
func removeFiles(ctx context.Context, r *repo.Repository, t backend.FileType, ids []repo.ID, conns int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conns)
	for _, id := range ids {
		g.Go(func() error {
			err := r.Backend().Remove(gctx, backend.Handle{Type: t, Name: id.String()})
			if err != nil && !isNotExist(err) {
				return fmt.Errorf("remove %v/%v: %w", t, id.Str(), err)
			}
			return nil
		})
	}
	return g.Wait()
}

func isNotExist(err error) bool { return errors.Is(err, backend.ErrNotExist) }
