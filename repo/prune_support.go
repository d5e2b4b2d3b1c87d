package repo

import (
	"context"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo/internal/index"
)

// This file holds the two hooks prune needs that ordinary writers must
// not have: writing a blob the index already knows, and writing an index
// file with chosen contents.

// NewRepackWriter returns a repository that shares r's backend, key,
// config and options but starts with an empty index. Its SaveBlobID
// therefore stores every blob it is given once, even when r's index
// already has it: prune copies the still-used blobs of packs it is about
// to delete this way. Its Flush uploads the new packs and writes index
// files for exactly those packs. Closing it releases its compressors but
// leaves the shared backend open; r's own index is not changed.
//
// Unless compression is off, it compresses every blob it stores from
// plaintext, even one that does not shrink (which auto stores as it is):
// prune stores blobs from plaintext to compress the uncompressed ones
// (--repack-uncompressed), and a blob left uncompressed would make every
// later run rewrite its pack again. restic compresses them all too.
func (r *Repository) NewRepackWriter() (*Repository, error) {
	w, err := newRepository(noCloseBackend{r.be}, r.key, r.cfg, r.opts)
	if err != nil {
		return nil, err
	}
	w.compressAll = true
	w.keyID = r.keyID
	return w, nil
}

// noCloseBackend keeps a repack writer's Close from closing the backend it
// shares with its parent.
type noCloseBackend struct{ backend.Backend }

func (noCloseBackend) Close() error { return nil }

// CreateFile forwards backend.FileBuilder, so repacked packs are built in
// place as the parent's are.
func (b noCloseBackend) CreateFile(ctx context.Context, t backend.FileType) (backend.PendingFile, error) {
	return backend.CreateFile(ctx, b.Backend, t)
}

// SaveIndexFile writes one index file listing packs exactly as given and
// returns its ID. Prune uses it to replace index files that mention
// packs it deletes; the caller keeps each file below the usual size.
func (r *Repository) SaveIndexFile(ctx context.Context, packs []IndexPack) (ID, error) {
	var f index.File
	for _, p := range packs {
		f.Packs = append(f.Packs, encodePack(pendingPack{id: p.ID, blobs: p.Blobs}))
	}
	data, err := index.Encode(&f)
	if err != nil {
		return ID{}, err
	}
	id, err := r.SaveUnpacked(ctx, backend.IndexFile, data)
	if err != nil {
		return ID{}, fmt.Errorf("save index: %w", err)
	}
	return id, nil
}

// IndexFileMaxBlobs is how many blobs an index file written by this
// package holds at most (restic's indexMaxBlobs).
const IndexFileMaxBlobs = indexMaxBlobs

// PackSize returns the target pack size in bytes.
func (r *Repository) PackSize() int { return r.opts.PackSize }
