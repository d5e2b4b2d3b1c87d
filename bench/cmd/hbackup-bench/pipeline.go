package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/sha256x2"
	"github.com/hbackup/hbackup/repo"
	"github.com/klauspost/compress/zstd"
)

// benchPolynomial is a fixed irreducible polynomial, so that every run
// cuts the same chunks.
const benchPolynomial = chunk.Polynomial(0x3DA3358B4DC173)

// pipeline is the CPU work of writing a backup's data, without any I/O:
// chunking, the blob ID (SHA-256), deduplication, compression (auto: with
// the probe) and sealing into pack-sized buffers, whose pack IDs are
// hashed as well. It uses hbackup's own packages, zstd coders included
// (repo.NewEncoder).
type pipeline struct {
	key      *crypto.Key
	compress bool // false: compression off
	packSize int
	sealed   atomic.Int64 // bytes of sealed blobs: what the packs would hold

	// keep, when set, receives a copy of every finished pack and its
	// blobs (bound-verify builds its packs this way, untimed).
	keep func(memPack)
}

// keepPacks makes p keep a copy of every pack it finishes, and returns a
// function that gives them all once p's run is over.
func (p *pipeline) keepPacks() func() []memPack {
	var mu sync.Mutex
	var packs []memPack
	p.keep = func(mp memPack) {
		mu.Lock()
		packs = append(packs, mp)
		mu.Unlock()
	}
	return func() []memPack {
		mu.Lock()
		defer mu.Unlock()
		return packs
	}
}

// memPack is a pack held in memory: sealed blobs back to back.
type memPack struct {
	id    repo.ID // its pack ID as the pipeline hashed it
	data  []byte
	blobs []memBlob
}

// memBlob is one sealed blob of a memPack.
type memBlob struct {
	id         repo.ID
	off, len   int
	compressed bool
}

func newPipeline(mode string) (*pipeline, error) {
	if err := benchPolynomial.Valid(); err != nil {
		return nil, err
	}
	p := &pipeline{key: crypto.NewRandomKey(), packSize: repo.DefaultPackSize}
	if mode == "off" {
		return p, nil
	}
	p.compress = true
	// Fail here on options zstd rejects; workers make their own.
	if _, err := repo.NewEncoder(zstd.SpeedDefault); err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return p, nil
}

// workers makes n workers sharing one deduplication set. Their buffers
// are allocated here, before timing, as a long backup amortises them.
func (p *pipeline) workers(n int) []*pipeWorker {
	seen := &idSet{ids: map[repo.ID]struct{}{}}
	ws := make([]*pipeWorker, n)
	for i := range ws {
		ws[i] = p.newWorker(seen)
	}
	return ws
}

// run processes files (whole contents, already in memory) on the workers,
// each taking the next file, and returns the bytes chunked.
func (p *pipeline) run(ctx context.Context, files [][]byte, ws []*pipeWorker) (int64, error) {
	var (
		next  atomic.Int64
		total atomic.Int64
		wg    sync.WaitGroup
		errs  = make([]error, len(ws))
	)
	for w, pw := range ws {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) || ctx.Err() != nil {
					errs[w] = ctx.Err()
					pw.flushAll()
					return
				}
				if err := pw.file(files[i]); err != nil {
					errs[w] = err
					return
				}
				total.Add(int64(len(files[i])))
			}
		})
	}
	wg.Wait()
	return total.Load(), errors.Join(errs...)
}

// idSet deduplicates blobs across workers, as a repository's index does.
type idSet struct {
	mu  sync.Mutex
	ids map[repo.ID]struct{}
}

func (s *idSet) add(id repo.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	s.ids[id] = struct{}{}
	return true
}

// pipeWorker holds one worker's reusable buffers: nothing is allocated
// per chunk, as in a tuned backup.
type pipeWorker struct {
	p       *pipeline
	seen    *idSet
	chunker *chunk.Chunker
	rd      *bytes.Reader
	bufs    [2][]byte     // a chunk per hash lane
	enc     *zstd.Encoder // nil: compression off
	probe   *zstd.Encoder
	comp    []byte // its compressed form
	sample  []byte
	probed  []byte
	// Two packs fill side by side, and their IDs are hashed two at a
	// time as they fill, as hbackup's packs built in place are (see
	// repo/packhash.go).
	packs [2]benchPack
	next  int // the pack the next blob goes to
}

// benchPack is a pack being filled and the hash of its start.
type benchPack struct {
	buf    []byte
	blobs  []memBlob // when the pipeline keeps packs
	digest sha256x2.Digest
	hashed int
}

func (p *pipeline) newWorker(seen *idSet) *pipeWorker {
	rd := bytes.NewReader(nil)
	w := &pipeWorker{p: p, seen: seen, rd: rd, chunker: chunk.New(rd, benchPolynomial),
		bufs:  [2][]byte{make([]byte, chunk.MaxSize), make([]byte, chunk.MaxSize)},
		packs: [2]benchPack{{buf: make([]byte, 0, p.packSize+chunk.MaxSize+1024)}, {buf: make([]byte, 0, p.packSize+chunk.MaxSize+1024)}}}
	if p.compress {
		// Each worker compresses with encoders of its own, whose match
		// tables then stay in its core's cache, as hbackup's encoder pool
		// arranges. newPipeline made one with these options already.
		w.enc, _ = repo.NewEncoder(zstd.SpeedDefault)
		w.probe, _ = repo.NewEncoder(zstd.SpeedFastest)
	}
	return w
}

// file chunks, hashes and stores one file's data. Chunk IDs are hashed two
// at a time, as hbackup's archiver does (see sha256x2.Pair).
func (w *pipeWorker) file(data []byte) error {
	w.rd.Reset(data)
	w.chunker.Reset(w.rd, benchPolynomial)
	var pair sha256x2.Pair
	var lanes [2][]byte
	eof := false
	for {
		for i := range lanes {
			if pair.Busy(i) || eof {
				continue
			}
			c, err := w.chunker.Next(w.bufs[i])
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("chunking: %w", err)
			}
			lanes[i] = c
			pair.Start(i, c)
		}
		if !pair.Busy(0) && !pair.Busy(1) {
			return nil
		}
		i, sum := pair.Next()
		w.store(repo.ID(sum), lanes[i])
	}
}

// store compresses (unless off or incompressible), seals and packs a
// chunk unless it was seen before. Blobs go to the two packs in turn.
func (w *pipeWorker) store(id repo.ID, c []byte) {
	if !w.seen.add(id) {
		return
	}
	k := w.next
	w.next ^= 1
	pk, other := &w.packs[k], &w.packs[k^1]
	off := len(pk.buf)
	plain := w.plaintext(c)
	pk.buf = w.p.key.Seal(pk.buf, plain)
	if w.p.keep != nil {
		pk.blobs = append(pk.blobs, memBlob{id: id, off: off, len: len(pk.buf) - off, compressed: len(plain) > 0 && &plain[0] != &c[0]})
	}
	if len(pk.buf) >= w.p.packSize {
		w.flush(pk, other)
		return
	}
	// Both packs a quarter of a pack ahead of their hashes: hash equal
	// lengths of both together.
	if n := min(len(pk.buf)-pk.hashed, len(other.buf)-other.hashed); n >= w.p.packSize/4 {
		sha256x2.Write2(&pk.digest, pk.buf[pk.hashed:pk.hashed+n], &other.digest, other.buf[other.hashed:other.hashed+n])
		pk.hashed += n
		other.hashed += n
	}
}

// flushAll finishes both packs.
func (w *pipeWorker) flushAll() {
	w.flush(&w.packs[0], &w.packs[1])
	w.flush(&w.packs[1], &w.packs[0])
}

// flush computes the pack ID of pk's blobs, hashing the rest of pk
// together with other's start, and empties pk.
func (w *pipeWorker) flush(pk, other *benchPack) {
	if len(pk.buf) == 0 {
		return
	}
	w.p.sealed.Add(int64(len(pk.buf)))
	rest := pk.buf[pk.hashed:]
	if n := min(len(rest), len(other.buf)-other.hashed); n > 0 {
		sha256x2.Write2(&pk.digest, rest, &other.digest, other.buf[other.hashed:other.hashed+n])
		other.hashed += n
	} else {
		pk.digest.Write(rest)
	}
	id := repo.ID(pk.digest.Sum())
	if w.p.keep != nil {
		w.p.keep(memPack{id: id, data: bytes.Clone(pk.buf), blobs: pk.blobs})
		pk.blobs = nil
	}
	pk.buf, pk.digest, pk.hashed = pk.buf[:0], sha256x2.Digest{}, 0
}

// plaintext is what gets sealed: c compressed, unless compression is off
// or the probe finds c incompressible.
func (w *pipeWorker) plaintext(c []byte) []byte {
	if w.enc == nil {
		return c
	}
	if sample := repo.ProbeSample(w.sample, c); sample != nil {
		w.sample = sample
		w.probed = w.probe.EncodeAll(w.sample, w.probed[:0])
		if float64(len(w.probed)) > repo.ProbeThreshold*float64(len(w.sample)) {
			return c
		}
	}
	w.comp = w.enc.EncodeAll(c, w.comp[:0])
	return w.comp
}
