package repo

import (
	"context"
	"fmt"
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo/internal/index"
	"golang.org/x/sync/errgroup"
)

// SaveIndex waits for uploads in flight, then writes index files for all
// uploaded packs not yet indexed, at most indexMaxBlobs blobs per file. It
// returns the first upload error, after indexing what was uploaded.
func (r *Repository) SaveIndex(ctx context.Context) error {
	uploadErr := r.Wait()
	if err := r.saveIndex(ctx); err != nil {
		return err
	}
	return uploadErr
}

// saveIndex is SaveIndex without waiting, for use by uploads.
func (r *Repository) saveIndex(ctx context.Context) error {
	r.packerMu.Lock()
	packs := r.unsaved.take()
	r.packerMu.Unlock()
	for len(packs) > 0 {
		var f index.File
		n := 0
		for len(packs) > 0 && (n == 0 || n+len(packs[0].blobs) <= indexMaxBlobs) {
			f.Packs = append(f.Packs, encodePack(packs[0]))
			n += len(packs[0].blobs)
			packs = packs[1:]
		}
		data, err := index.Encode(&f)
		if err != nil {
			return err
		}
		if _, err := r.SaveUnpacked(ctx, backend.IndexFile, data); err != nil {
			// Put the packs back so a retry can index them.
			r.packerMu.Lock()
			for _, p := range packs {
				r.unsaved.add(p.id, p.blobs)
			}
			r.packerMu.Unlock()
			return fmt.Errorf("save index: %w", err)
		}
	}
	return nil
}

func encodePack(p pendingPack) index.Pack {
	out := index.Pack{ID: index.HexID(p.id), Blobs: make([]index.Blob, len(p.blobs))}
	for i, b := range p.blobs {
		out.Blobs[i] = index.Blob{ID: index.HexID(b.ID), Type: b.Type.String(),
			Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength}
	}
	return out
}

// LoadIndex reads every index file into memory. It should be called after
// listing snapshots, so that any snapshot seen has its index seen too.
func (r *Repository) LoadIndex(ctx context.Context) error {
	var ids []ID
	if err := r.List(ctx, backend.IndexFile, func(id ID, _ int64) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return fmt.Errorf("list index files: %w", err)
	}
	return r.loadIndexFiles(ctx, ids)
}

func (r *Repository) loadIndexFiles(ctx context.Context, ids []ID) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(4, cap(r.uploadSlots)))
	var mu sync.Mutex
	for _, id := range ids {
		g.Go(func() error {
			f, err := r.LoadIndexFile(ctx, id)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			r.addIndexFile(f)
			return nil
		})
	}
	return g.Wait()
}

// IndexFile is the decoded content of one index file.
type IndexFile struct {
	ID    ID
	Packs []IndexPack
}

// IndexPack lists the blobs an index file records for one pack.
type IndexPack struct {
	ID    ID
	Blobs []PackedBlob
}

// LoadIndexFile loads and decodes one index file.
func (r *Repository) LoadIndexFile(ctx context.Context, id ID) (*IndexFile, error) {
	data, err := r.LoadUnpacked(ctx, backend.IndexFile, id)
	if err != nil {
		return nil, err
	}
	f, err := index.Decode(data, r.cfg.Version >= 2)
	if err != nil {
		return nil, fmt.Errorf("%w: index/%v: %v", ErrIntegrity, id, err)
	}
	out := &IndexFile{ID: id, Packs: make([]IndexPack, len(f.Packs))}
	for i, p := range f.Packs {
		ip := IndexPack{ID: ID(p.ID), Blobs: make([]PackedBlob, len(p.Blobs))}
		for j, b := range p.Blobs {
			t := DataBlob
			if b.Type == "tree" {
				t = TreeBlob
			}
			ip.Blobs[j] = PackedBlob{BlobHandle: BlobHandle{ID: ID(b.ID), Type: t}, PackID: ip.ID,
				Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength}
		}
		out.Packs[i] = ip
	}
	return out, nil
}

func (r *Repository) addIndexFile(f *IndexFile) {
	for _, p := range f.Packs {
		r.idx.add(p.ID, p.Blobs)
	}
}
