package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"golang.org/x/sync/errgroup"
)

// password protects both synthetic repositories; it is no secret.
const password = "index-memory-benchmark"

// blobsPerPack is how many data blobs each synthetic pack holds.
const blobsPerPack = 100

// kdf is deliberately cheap: restic accepts any power-of-two N > 1, and
// a calibrated key (up to 60 MiB of scrypt memory, 0.5 s) would only add
// noise to every run's peak RSS and wall time.
var kdf = crypto.Params{N: 1024, R: 8, P: 1}

// synthIndex describes the index files written into a repository.
type synthIndex struct {
	blobs, packs, files int
	bytes               int64 // index files on disk
}

// createRepo initialises a format version 2 repository in dir and writes
// index files referencing blobs data blobs (none for 0). No pack files are
// written: listing blobs only reads the index.
func createRepo(ctx context.Context, dir string, blobs int) (synthIndex, error) {
	if _, err := os.Stat(dir); err == nil {
		return synthIndex{}, fmt.Errorf("%s already exists: remove it or choose another -work", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return synthIndex{}, err
	}
	be, err := local.New(dir, local.Options{})
	if err != nil {
		return synthIndex{}, fmt.Errorf("open %s: %w", dir, err)
	}
	r, err := repo.Init(ctx, be, password, repo.InitOptions{Version: 2, KDF: kdf})
	if err != nil {
		return synthIndex{}, fmt.Errorf("init %s: %w", dir, err)
	}
	info, err := writeIndex(ctx, r, blobs)
	if cerr := r.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", dir, cerr)
	}
	return info, err
}

// writeIndex writes index files of at most repo.IndexFileMaxBlobs blobs
// (restic's limit for a full index file), several at once.
func writeIndex(ctx context.Context, r *repo.Repository, blobs int) (synthIndex, error) {
	perFile := repo.IndexFileMaxBlobs / blobsPerPack * blobsPerPack
	files := (blobs + perFile - 1) / perFile
	sizes := make([]int64, files)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for f := range files {
		g.Go(func() error {
			first := f * perFile
			packs := synthPacks(first, min(first+perFile, blobs))
			id, err := r.SaveIndexFile(ctx, packs)
			if err != nil {
				return fmt.Errorf("index file %d: %w", f, err)
			}
			sizes[f], err = indexFileSize(r, id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return synthIndex{}, err
	}
	info := synthIndex{blobs: blobs, packs: (blobs + blobsPerPack - 1) / blobsPerPack, files: files}
	for _, s := range sizes {
		info.bytes += s
	}
	return info, nil
}

func indexFileSize(r *repo.Repository, id repo.ID) (int64, error) {
	// The local backend's default layout: index/ID.
	fi, err := os.Stat(r.Backend().Location() + "/index/" + id.String())
	if err != nil {
		return 0, fmt.Errorf("stat index file: %w", err)
	}
	return fi.Size(), nil
}

// synthPacks returns the packs holding blobs first..end-1 (first is a
// multiple of blobsPerPack).
func synthPacks(first, end int) []repo.IndexPack {
	var packs []repo.IndexPack
	for start := first; start < end; start += blobsPerPack {
		packs = append(packs, synthPack(start/blobsPerPack, start, min(start+blobsPerPack, end)))
	}
	return packs
}

// synthPack lays blobs first..end-1 out back to back in pack number p,
// with the sizes of compressed data blobs in a version 2 repository.
func synthPack(p, first, end int) repo.IndexPack {
	pack := repo.IndexPack{ID: synthID("pack", p), Blobs: make([]repo.PackedBlob, 0, end-first)}
	var off uint32
	for n := first; n < end; n++ {
		id := synthID("blob", n)
		length := 1000 + binary.LittleEndian.Uint32(id[:4])%15000
		pack.Blobs = append(pack.Blobs, repo.PackedBlob{
			BlobHandle:         repo.BlobHandle{ID: id, Type: repo.DataBlob},
			PackID:             pack.ID,
			Offset:             off,
			Length:             length,
			UncompressedLength: 2*length + binary.LittleEndian.Uint32(id[4:8])%4000,
		})
		off += length
	}
	return pack
}

// synthID is the SHA-256 of kind and n: distinct and random-looking, so
// neither tool's index benefits from regular IDs.
func synthID(kind string, n int) repo.ID {
	var buf [16]byte
	copy(buf[:8], kind)
	binary.LittleEndian.PutUint64(buf[8:], uint64(n))
	return sha256.Sum256(buf[:])
}
