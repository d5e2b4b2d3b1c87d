package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/hbackup/hbackup/internal/sha256x2"
	"github.com/hbackup/hbackup/repo"
	"github.com/klauspost/compress/zstd"
)

// verifySample measures bound-verify: the CPU work of reading back a first
// backup's data, on packs held in memory. With packHash (check
// --read-data) each pack's SHA-256 is computed, as its name must be
// verified; then, for check and restore alike, every blob is opened (MAC
// and decryption), decompressed when it was compressed, and its SHA-256
// compared with its ID. The packs are built before timing by the auto
// pipeline over the files, so they hold what hbackup's backup stores.
func verifySample(ctx context.Context, files []sourceFile, packHash bool, workers int) (sample, error) {
	data, err := loadFiles(files)
	if err != nil {
		return sample{}, err
	}
	p, err := newPipeline("auto")
	if err != nil {
		return sample{}, err
	}
	kept := p.keepPacks()
	if _, err := p.run(ctx, data, p.workers(workers)); err != nil {
		return sample{}, err
	}
	packs := kept()
	data = nil // only the packs are needed from here on
	// A decoder per worker, made before timing, as hbackup's decoder
	// pool gives each core its own (repo/zstdpool.go).
	decs := make([]*zstd.Decoder, workers)
	for w := range decs {
		if decs[w], err = repo.NewDecoder(); err != nil {
			return sample{}, fmt.Errorf("zstd: %w", err)
		}
	}
	s, err := measure(func() (int64, error) {
		var next, total atomic.Int64
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				// Blob IDs are checked two at a time, as StreamPack does:
				// each lane of the pair has its own buffers.
				var opened, plain [2][]byte
				var out [2][]byte
				var ids [2]repo.ID
				var pair sha256x2.Pair
				dec := decs[w]
				for {
					i := int(next.Add(1) - 1)
					if i >= len(packs) || ctx.Err() != nil {
						errs[w] = ctx.Err()
						return
					}
					mp := packs[i]
					if packHash {
						_ = repo.Hash(mp.data)
					}
					nb := 0
					for {
						for l := range 2 {
							if pair.Busy(l) || nb == len(mp.blobs) {
								continue
							}
							b := mp.blobs[nb]
							nb++
							var err error
							if opened[l], err = p.key.Open(opened[l][:0], mp.data[b.off:b.off+b.len]); err != nil {
								errs[w] = fmt.Errorf("bound-verify: open blob %v: %w", b.id, err)
								return
							}
							out[l] = opened[l]
							if b.compressed {
								if plain[l], err = dec.DecodeAll(opened[l], plain[l][:0]); err != nil {
									errs[w] = fmt.Errorf("bound-verify: decompress blob %v: %w", b.id, err)
									return
								}
								out[l] = plain[l]
							}
							ids[l] = b.id
							pair.Start(l, out[l])
						}
						if !pair.Busy(0) && !pair.Busy(1) {
							break
						}
						l, sum := pair.Next()
						if repo.ID(sum) != ids[l] {
							errs[w] = fmt.Errorf("bound-verify: blob %v: content does not match its ID", ids[l])
							return
						}
						total.Add(int64(len(out[l])))
					}
				}
			})
		}
		wg.Wait()
		return total.Load(), errors.Join(errs...)
	})
	s.RepoSize = p.sealed.Load()
	return s, err
}

// loadFiles reads the files into memory, before timing.
func loadFiles(files []sourceFile) ([][]byte, error) {
	data := make([][]byte, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("loading the data set: %w", err)
		}
		data = append(data, b)
	}
	return data, nil
}
