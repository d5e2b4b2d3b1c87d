package copier

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/hbackup/hbackup/repo"
	"golang.org/x/sync/errgroup"
)

// maxGap is the largest stretch of unneeded bytes read through rather than
// split into a second request, when only some blobs of a pack are needed.
const maxGap = 1 << 20

// packRead is one ranged read of a source pack: blobs in offset order.
type packRead struct {
	pack  repo.ID
	blobs []repo.PackedBlob
}

// planReads groups the blobs by the source pack holding them (the first
// copy the index lists) and splits each pack's blobs where a gap larger
// than maxGap separates them.
func planReads(idx *repo.MasterIndex, need []repo.BlobHandle) ([]packRead, error) {
	byPack := make(map[repo.ID][]repo.PackedBlob)
	for _, h := range need {
		locs := idx.Lookup(h)
		if len(locs) == 0 {
			return nil, fmt.Errorf("source %v: %w", h, repo.ErrBlobNotFound)
		}
		byPack[locs[0].PackID] = append(byPack[locs[0].PackID], locs[0])
	}
	packs := make([]repo.ID, 0, len(byPack))
	for id := range byPack {
		packs = append(packs, id)
	}
	slices.SortFunc(packs, func(a, b repo.ID) int { return slices.Compare(a[:], b[:]) })
	var reads []packRead
	for _, id := range packs {
		blobs := byPack[id]
		sort.Slice(blobs, func(i, j int) bool { return blobs[i].Offset < blobs[j].Offset })
		start := 0
		for i := 1; i <= len(blobs); i++ {
			if i == len(blobs) || uint64(blobs[i].Offset) > uint64(blobs[i-1].Offset)+uint64(blobs[i-1].Length)+maxGap {
				reads = append(reads, packRead{pack: id, blobs: blobs[start:i]})
				start = i
			}
		}
	}
	return reads, nil
}

// copyBlobs reads the needed data blobs pack by pack, ru.conc reads at
// once, and saves each into the destination, which compresses it as its
// own version and options say.
func (ru *run) copyBlobs(ctx context.Context, need []repo.BlobHandle) error {
	if len(need) == 0 {
		return nil
	}
	reads, err := planReads(ru.src.Index(), need)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ru.conc)
	for _, rd := range reads {
		g.Go(func() error {
			ru.packs.Add(1)
			return ru.src.StreamPack(gctx, rd.pack, rd.blobs, func(pb repo.PackedBlob, plain []byte, err error) error {
				if err != nil {
					// This copy is damaged: try the others the index lists.
					if plain, err = ru.src.LoadBlob(gctx, pb.Type, pb.ID, nil); err != nil {
						return fmt.Errorf("read %v: %w", pb.BlobHandle, err)
					}
				}
				// Not gctx: the destination's uploads outlive the group.
				return ru.saveData(ctx, pb.BlobHandle, plain)
			})
		})
	}
	return g.Wait()
}

func (ru *run) saveData(ctx context.Context, h repo.BlobHandle, plain []byte) error {
	known, _, err := ru.dst.SaveBlobID(ctx, h.Type, h.ID, plain)
	if err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	if !known {
		ru.dataBlobs.Add(1)
		ru.bytes.Add(uint64(len(plain)))
	}
	return nil
}
