package repo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
		n, blobs := 0, 0
		for n < len(packs) && (n == 0 || blobs+len(packs[n].blobs) <= indexMaxBlobs) {
			blobs += len(packs[n].blobs)
			n++
		}
		data, free, err := encodeIndexFile(packs[:n])
		if err == nil {
			_, err = r.SaveUnpacked(ctx, backend.IndexFile, data)
			free()
		}
		if err != nil {
			// Put the packs back, this file's too, so a retry can
			// index them.
			r.packerMu.Lock()
			for _, p := range packs {
				r.unsaved.add(p)
			}
			r.packerMu.Unlock()
			return fmt.Errorf("save index: %w", err)
		}
		packs = packs[n:]
	}
	return nil
}

// encodeIndexFile returns the index file listing packs, joining the
// pieces encoded when they were recorded into a fileBuffer, and the
// function that frees it.
func encodeIndexFile(packs []pendingPack) ([]byte, func(), error) {
	pieces := make([][]byte, 0, len(packs))
	for _, p := range packs {
		if p.json == nil {
			break
		}
		pieces = append(pieces, p.json)
	}
	if len(pieces) == len(packs) {
		buf, free := fileBuffer(index.JoinedSize(pieces))
		return index.AppendJoin(buf[:0], pieces), free, nil
	}
	var f index.File
	for _, p := range packs {
		f.Packs = append(f.Packs, encodePack(p))
	}
	data, err := index.Encode(&f)
	return data, func() {}, err
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
	var files []indexFileSize
	if err := r.List(ctx, backend.IndexFile, func(id ID, size int64) error {
		files = append(files, indexFileSize{id, size})
		return nil
	}); err != nil {
		return fmt.Errorf("list index files: %w", err)
	}
	return r.loadIndexFiles(ctx, files)
}

type indexFileSize struct {
	id   ID
	size int64
}

// loadIndexFiles loads the files into the index, several at a time. The
// first file decoded tells how many blobs a byte of index file holds, and
// the index tables are sized from that for all the files at once: growing
// them one step at a time would hold the old and the new table together
// at every step.
func (r *Repository) loadIndexFiles(ctx context.Context, files []indexFileSize) error {
	// Largest first: a full file has the least per-file overhead, so its
	// blobs per byte is the best estimate for the rest.
	slices.SortFunc(files, func(a, b indexFileSize) int { return cmp.Compare(b.size, a.size) })
	var total int64
	for _, f := range files {
		total += f.size
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(4, cap(r.uploadSlots)))
	var mu sync.Mutex
	sized := false
	for _, file := range files {
		g.Go(func() error {
			f, err := r.LoadIndexFile(ctx, file.id)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if !sized && file.size > 0 {
				sized = true
				data, tree := f.count()
				scale := float64(total) / float64(file.size) * indexSizeMargin
				r.idx.reserve(int(float64(data)*scale), int(float64(tree)*scale))
			}
			r.addIndexFile(f)
			return nil
		})
	}
	return g.Wait()
}

// indexSizeMargin allows for index files holding a little more per byte
// than the one the tables are sized from; a table that still fills up
// grows as usual.
const indexSizeMargin = 1.05

// count returns the number of data and tree blobs f lists.
func (f *IndexFile) count() (data, tree int) {
	for _, p := range f.Packs {
		for _, b := range p.Blobs {
			if b.Type == TreeBlob {
				tree++
			} else {
				data++
			}
		}
	}
	return data, tree
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
