package pruner

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"golang.org/x/sync/errgroup"
)

// Stats counts what a plan keeps, repacks and deletes, as restic 0.14's
// prune report does. Sizes are stored (encrypted) blob bytes.
type Stats struct {
	Snapshots int
	Blobs     struct {
		Used, Duplicate, Unused int
		Repack, RepackRemove    int // blobs in packs to repack, and the unused ones among them
		Remove                  int // blobs in packs to delete
	}
	Size struct {
		Used, Duplicate, Unused uint64
		Unreferenced            uint64 // packs no index lists
		Repack, RepackRemove    uint64
		Remove                  uint64
	}
	Packs struct {
		Used, PartlyUsed, Unused int
		Keep, Repack, Remove     int
		Unreferenced             int
	}
}

// mixed marks a pack holding both blob types.
const mixed = repo.BlobType(255)

// packInfo sums up one indexed pack.
type packInfo struct {
	tpe                    repo.BlobType // mixed for mixed packs
	typed                  bool          // tpe has been set
	usedBlobs, unusedBlobs int
	usedSize, unusedSize   uint64 // usedSize starts with the header size
	uncompressed           bool
	small, mustCompress    bool
}

// Plan is what prune will do. Build it with NewPlan, read Stats, then
// Execute it (or not, for a dry run).
type Plan struct {
	r     *repo.Repository
	stats Stats

	files    []*repo.IndexFile            // the index files read
	keep     map[repo.BlobHandle]struct{} // blobs the snapshots use
	repack   map[repo.ID]struct{}         // packs whose used blobs move, then deleted
	remove   map[repo.ID]struct{}         // packs without used blobs
	missing  map[repo.ID]struct{}         // indexed, absent and unneeded: drop from index
	orphans  []repo.ID                    // packs no index lists
	packSize map[repo.ID]int64
	// recompress: blobs stored uncompressed are compressed when repacked
	// (v2 trees always, data with RepackUncompressed, as restic does).
	recompressData, recompressTrees bool
}

// NewPlan decides, under an exclusive lock the caller holds, which packs
// to keep, repack and delete. It lists snapshots before loading the
// index, and fails rather than guess when a used blob or a needed pack is
// missing. r's index is loaded by NewPlan.
func NewPlan(ctx context.Context, r *repo.Repository, opts Options) (*Plan, error) {
	if opts.MaxUnused == nil {
		opts.MaxUnused, _ = ParseMaxUnused("5%")
	}
	if opts.MaxRepackBytes == 0 {
		opts.MaxRepackBytes = math.MaxUint64
	}
	conns := max(1, r.Backend().Properties().Connections)
	roots, err := snapshotRoots(ctx, r, opts.IgnoreSnapshots)
	if err != nil {
		return nil, err
	}
	v2 := r.Config().Version >= 2
	p := &Plan{r: r, recompressData: v2 && opts.RepackUncompressed, recompressTrees: v2,
		repack: map[repo.ID]struct{}{}, remove: map[repo.ID]struct{}{},
		missing: map[repo.ID]struct{}{}, packSize: map[repo.ID]int64{}}
	p.stats.Snapshots = len(roots)
	if p.files, err = loadIndexFiles(ctx, r, conns); err != nil {
		return nil, err
	}
	if p.keep, err = usedBlobs(ctx, r, roots, conns); err != nil {
		return nil, fmt.Errorf("find used blobs: %w", err)
	}
	packs, err := p.countBlobs()
	if err != nil {
		return nil, err
	}
	if err := r.List(ctx, backend.PackFile, func(id repo.ID, size int64) error {
		p.packSize[id] = size
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	candidates, err := p.classify(packs, opts, r.Config().Version >= 2, r.PackSize())
	if err != nil {
		return nil, err
	}
	p.choose(candidates, opts)
	return p, nil
}

// loadIndexFiles reads every index file, keeping each file's content for
// the index rewrite, and merges them into r's index.
func loadIndexFiles(ctx context.Context, r *repo.Repository, conns int) ([]*repo.IndexFile, error) {
	var ids []repo.ID
	if err := r.List(ctx, backend.IndexFile, func(id repo.ID, _ int64) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list index files: %w", err)
	}
	files := make([]*repo.IndexFile, len(ids))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(4, conns))
	for i, id := range ids {
		g.Go(func() error {
			f, err := r.LoadIndexFile(gctx, id)
			if err != nil {
				return fmt.Errorf("load index %v: %w", id.Str(), err)
			}
			files[i] = f
			mu.Lock()
			defer mu.Unlock()
			r.AddIndexFile(f)
			return nil
		})
	}
	return files, g.Wait()
}

// countBlobs counts used, duplicate and unused blobs and sums them up
// per pack. Of a blob stored several times, one copy counts as used,
// preferably one in a pack that has other used blobs.
func (p *Plan) countBlobs() (map[repo.ID]*packInfo, error) {
	idx := p.r.Index()
	seen := make(map[repo.BlobHandle]struct{}, len(p.keep))
	dups := make(map[repo.BlobHandle]int) // copies of used blobs, left to assign
	st := &p.stats
	idx.Each(func(pb repo.PackedBlob) {
		_, used := p.keep[pb.BlobHandle]
		_, again := seen[pb.BlobHandle]
		switch {
		case used && !again:
			seen[pb.BlobHandle] = struct{}{}
			st.Blobs.Used++
			st.Size.Used += uint64(pb.Length)
		case used:
			dups[pb.BlobHandle] = max(dups[pb.BlobHandle], 1) + 1
			st.Blobs.Duplicate++
			st.Size.Duplicate += uint64(pb.Length)
		default:
			st.Blobs.Unused++
			st.Size.Unused += uint64(pb.Length)
		}
	})
	if missing := len(p.keep) - len(seen); missing > 0 {
		return nil, fmt.Errorf("%d blobs used by snapshots are missing from the index; run `restic rebuild-index` (integrity check failed)", missing)
	}

	packs := make(map[repo.ID]*packInfo)
	info := func(id repo.ID) *packInfo {
		pi := packs[id]
		if pi == nil {
			pi = &packInfo{usedSize: 4 + 32} // header length field and crypto overhead
			packs[id] = pi
		}
		return pi
	}
	idx.Each(func(pb repo.PackedBlob) {
		pi := info(pb.PackID)
		switch {
		case !pi.typed:
			pi.tpe, pi.typed = pb.Type, true
		case pi.tpe != pb.Type:
			pi.tpe = mixed
		}
		pi.usedSize += headerEntrySize(pb)
		if pb.UncompressedLength == 0 {
			pi.uncompressed = true
		}
		if _, dup := dups[pb.BlobHandle]; dup {
			return // assigned below
		}
		if _, used := p.keep[pb.BlobHandle]; used {
			pi.usedBlobs++
			pi.usedSize += uint64(pb.Length)
		} else {
			pi.unusedBlobs++
			pi.unusedSize += uint64(pb.Length)
		}
	})
	if len(dups) == 0 {
		return packs, nil
	}
	// Each duplicated blob: one copy is used, the others unused. A copy in
	// a pack with used blobs wins, else the last copy seen.
	idx.Each(func(pb repo.PackedBlob) {
		left, dup := dups[pb.BlobHandle]
		if !dup {
			return
		}
		pi := packs[pb.PackID]
		if left == 0 || (pi.usedBlobs == 0 && left > 1) {
			pi.unusedBlobs++
			pi.unusedSize += uint64(pb.Length)
			if left > 0 {
				dups[pb.BlobHandle] = left - 1
			}
			return
		}
		pi.usedBlobs++
		pi.usedSize += uint64(pb.Length)
		dups[pb.BlobHandle] = 0
	})
	return packs, nil
}

// headerEntrySize is the bytes a blob's entry takes in its pack header.
func headerEntrySize(pb repo.PackedBlob) uint64 {
	if pb.UncompressedLength != 0 {
		return 41
	}
	return 37
}

// classify decides for each pack on disk: delete (no used blob, or not
// indexed), keep, or consider for repacking. It returns the candidates.
func (p *Plan) classify(packs map[repo.ID]*packInfo, opts Options, v2 bool, packSize int) ([]repackCandidate, error) {
	st := &p.stats
	var candidates []repackCandidate
	ids := make([]repo.ID, 0, len(p.packSize))
	for id := range p.packSize {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b repo.ID) int { return slices.Compare(a[:], b[:]) })
	var small []repackCandidate // fully used small packs, with --repack-small
	for _, id := range ids {
		size := p.packSize[id]
		pi, ok := packs[id]
		if !ok {
			p.orphans = append(p.orphans, id)
			st.Size.Unreferenced += uint64(size)
			continue
		}
		delete(packs, id)
		if pi.usedBlobs > 0 && pi.usedSize+pi.unusedSize != uint64(size) {
			return nil, fmt.Errorf("pack %s: calculated size %d does not match real size %d; run `restic rebuild-index`", id.Str(), pi.usedSize+pi.unusedSize, size)
		}
		switch {
		case pi.usedBlobs == 0:
			st.Packs.Unused++
		case pi.unusedBlobs == 0:
			st.Packs.Used++
		default:
			st.Packs.PartlyUsed++
		}
		// v2: uncompressed trees are always recompressed, data on request.
		pi.mustCompress = v2 && pi.uncompressed && (pi.tpe == repo.TreeBlob || opts.RepackUncompressed)
		pi.small = opts.RepackSmall && size < int64(packSize)*4/5
		switch {
		case pi.usedBlobs == 0:
			p.remove[id] = struct{}{}
			st.Blobs.Remove += pi.unusedBlobs
			st.Size.Remove += pi.unusedSize
		case opts.RepackCacheableOnly && pi.tpe == repo.DataBlob:
			st.Packs.Keep++
		case pi.unusedBlobs == 0 && pi.tpe != mixed && !pi.mustCompress:
			if pi.small {
				small = append(small, repackCandidate{id, pi})
				continue
			}
			st.Packs.Keep++
		default:
			candidates = append(candidates, repackCandidate{id, pi})
		}
	}
	// One small pack alone would only be rewritten as itself.
	if len(small) == 1 && len(candidates) == 0 {
		st.Packs.Keep++
	} else {
		candidates = append(candidates, small...)
	}
	// What is left is indexed but missing from the backend.
	var needed []string
	for id, pi := range packs {
		if pi.usedBlobs > 0 {
			needed = append(needed, id.String())
			continue
		}
		p.missing[id] = struct{}{}
		st.Blobs.Remove += pi.unusedBlobs
		st.Size.Remove += pi.unusedSize
	}
	if len(needed) > 0 {
		sort.Strings(needed)
		return nil, fmt.Errorf("the index references %d needed pack files which are missing from the repository: %v", len(needed), needed)
	}
	return candidates, nil
}

type repackCandidate struct {
	id repo.ID
	*packInfo
}

// choose picks the candidates to repack: tree, mixed and must-compress
// packs first, then data packs with the most unused space, until the
// unused space left is tolerable or the repack budget is spent.
func (p *Plan) choose(candidates []repackCandidate, opts Options) {
	st := &p.stats
	sort.SliceStable(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		if (a.tpe != repo.DataBlob) != (b.tpe != repo.DataBlob) {
			return a.tpe != repo.DataBlob
		}
		// unused/used descending, cross-multiplied to stay in integers.
		return a.unusedSize*b.usedSize > b.unusedSize*a.usedSize
	})
	maxUnused := opts.MaxUnused(st.Size.Used)
	for _, c := range candidates {
		size := c.usedSize + c.unusedSize
		unusedLeft := st.Size.Unused - st.Size.Remove - st.Size.RepackRemove
		switch {
		case st.Size.Repack+size >= opts.MaxRepackBytes:
			st.Packs.Keep++
		case c.tpe != repo.DataBlob, c.mustCompress, c.small:
			p.markRepack(c)
		case unusedLeft < maxUnused:
			st.Packs.Keep++
		default:
			p.markRepack(c)
		}
	}
	st.Packs.Repack = len(p.repack)
	st.Packs.Remove = len(p.remove)
	st.Packs.Unreferenced = len(p.orphans)
}

func (p *Plan) markRepack(c repackCandidate) {
	p.repack[c.id] = struct{}{}
	st := &p.stats
	st.Blobs.Repack += c.usedBlobs + c.unusedBlobs
	st.Size.Repack += c.usedSize + c.unusedSize
	st.Blobs.RepackRemove += c.unusedBlobs
	st.Size.RepackRemove += c.unusedSize
}

// Stats returns the plan's numbers.
func (p *Plan) Stats() Stats { return p.stats }

// RepackPacks, RemovePacks and Unreferenced list the packs the plan
// repacks, deletes as unused, and deletes as not indexed, sorted.
func (p *Plan) RepackPacks() []repo.ID  { return sortedIDs(p.repack) }
func (p *Plan) RemovePacks() []repo.ID  { return sortedIDs(p.remove) }
func (p *Plan) Unreferenced() []repo.ID { return slices.Clone(p.orphans) }

// MissingPacks lists the packs the index lists but the backend lacks,
// that no used blob needs; prune drops them from the index.
func (p *Plan) MissingPacks() []repo.ID { return sortedIDs(p.missing) }

func sortedIDs(set map[repo.ID]struct{}) []repo.ID {
	out := make([]repo.ID, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b repo.ID) int { return slices.Compare(a[:], b[:]) })
	return out
}
