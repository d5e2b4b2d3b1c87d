package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

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
	defer p.close()
	var mu sync.Mutex
	var packs []memPack
	p.keep = func(mp memPack) {
		mu.Lock()
		packs = append(packs, mp)
		mu.Unlock()
	}
	if _, err := p.run(ctx, data, p.workers(workers)); err != nil {
		return sample{}, err
	}
	data = nil // only the packs are needed from here on
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(16<<30))
	if err != nil {
		return sample{}, fmt.Errorf("zstd: %w", err)
	}
	defer dec.Close()
	s, err := measure(func() (int64, error) {
		var next, total atomic.Int64
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				var opened, plain []byte
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
					for _, b := range mp.blobs {
						var err error
						if opened, err = p.key.Open(opened[:0], mp.data[b.off:b.off+b.len]); err != nil {
							errs[w] = fmt.Errorf("bound-verify: open blob %v: %w", b.id, err)
							return
						}
						out := opened
						if b.compressed {
							if plain, err = dec.DecodeAll(opened, plain[:0]); err != nil {
								errs[w] = fmt.Errorf("bound-verify: decompress blob %v: %w", b.id, err)
								return
							}
							out = plain
						}
						if repo.Hash(out) != b.id {
							errs[w] = fmt.Errorf("bound-verify: blob %v: content does not match its ID", b.id)
							return
						}
						total.Add(int64(len(out)))
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

// writeSample measures bound-write: every file written, from memory, into
// a fresh directory by n writers through the page cache, as a restore
// must at least do. The same files are written and removed once before
// timing, as a tool's restore follows its predecessor's: on a virtual
// machine, page cache the guest never used before is far dearer to fault
// in. It stays noisy here all the same (1.5 GB in 0.8 to 4.9 s over three
// runs), so read it with its min-max. The directories are removed untimed.
func writeSample(ctx context.Context, files []sourceFile, scratch string, workers int) (sample, error) {
	data, err := loadFiles(files)
	if err != nil {
		return sample{}, err
	}
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return sample{}, fmt.Errorf("bound-write: %w", err)
	}
	var s sample
	for timed := range 2 {
		dir, err := os.MkdirTemp(scratch, "bound-write-")
		if err != nil {
			return sample{}, fmt.Errorf("bound-write: %w", err)
		}
		write := func() (int64, error) { return writeAll(ctx, data, dir, workers) }
		if timed == 1 {
			s, err = measure(write)
		} else {
			_, err = write()
		}
		if rerr := os.RemoveAll(dir); err == nil && rerr != nil {
			err = fmt.Errorf("bound-write: %w", rerr)
		}
		if err != nil {
			return sample{}, err
		}
	}
	return s, nil
}

// writeAll writes data as the files of dir, n writers taking the next.
func writeAll(ctx context.Context, data [][]byte, dir string, workers int) (int64, error) {
	var next, total atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(data) || ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				// Flat names: restore's directories are a small part.
				if err := os.WriteFile(fmt.Sprintf("%s/%06d", dir, i), data[i], 0o600); err != nil {
					errs[w] = fmt.Errorf("bound-write: %w", err)
					return
				}
				total.Add(int64(len(data[i])))
			}
		})
	}
	wg.Wait()
	return total.Load(), errors.Join(errs...)
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
