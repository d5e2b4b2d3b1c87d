package repo

import (
	"fmt"
	"sync"

	"github.com/hbackup/hbackup/internal/sha256x2"
)

// Pack IDs of packs built in place, hashed two packs at a time.
//
// A pack's ID is the SHA-256 of its bytes, read from its memory blocks
// (packblocks.go) or back from its file (the page cache) once stored,
// since savers store its blobs out of order. One SHA-256
// stream is bound by the latency of the CPU's round instruction, so a
// second stream hashed in the same pass (sha256x2.Write2) costs little.
// A backup fills its two open data packs at about the same rate, so
// whenever both have an eighth of a pack stored past what is hashed, the
// saver that stored the last of them hashes both starts together; the
// pack's commit hashes what is left, paired with the other open pack's
// start where it can. In a first backup of incompressible data the
// single-stream pack hash was the largest user of CPU, ahead of the
// chunker; on the benchmark VM, reading and hashing two page-cached files
// together runs at 1.84 GB/s against 1.28 GB/s for one.

// hashAhead is how many stored, unhashed bytes both open packs need
// before a saver hashes them: an eighth of a pack. A pack with blocks
// in memory (packblocks.go) that has twice that unhashed hashes it with
// whatever the other pack has, or alone: packs out of step by half a
// pack otherwise closed with 10 of 16 MiB unhashed, all of it in memory.
func (r *Repository) hashAhead() int { return r.opts.PackSize / 8 }

// packPrefix is the hash of the first n bytes of a pack's file.
type packPrefix struct {
	mu     sync.Mutex
	digest sha256x2.Digest
	n      int
	// hinted is n as last seen under the packer lock, where savers
	// check whether to hash ahead without taking mu.
	hinted int
}

// filePackID returns the ID of a closed pack built in place: the SHA-256
// of its file's first p.length bytes followed by tail (its sealed header,
// also written to the file).
func (r *Repository) filePackID(p *packer, tail []byte) (ID, error) {
	p.prefix.mu.Lock()
	defer p.prefix.mu.Unlock()
	partner, end := r.partnerFor(p, 1)
	if partner != nil {
		defer partner.prefix.mu.Unlock()
	}
	err := r.hashPrefixes(p, p.length, partner, end)
	if partner != nil {
		r.packerMu.Lock()
		partner.prefix.hinted = partner.prefix.n
		r.packerMu.Unlock()
	}
	if err != nil {
		return ID{}, err
	}
	p.prefix.digest.Write(tail)
	return p.prefix.digest.Sum(), nil
}

// hashAheadWith hashes the stored start of p, an open data pack with
// r.hashAhead() bytes stored and not hashed, together with the other open
// data pack's, if that has as many. A saver calls it after storing a blob
// in p.
func (r *Repository) hashAheadWith(p *packer) {
	if !p.prefix.mu.TryLock() {
		return
	}
	defer p.prefix.mu.Unlock()
	partner, end := r.partnerFor(p, r.hashAhead())
	r.packerMu.Lock()
	ownEnd := p.storedEnd
	r.packerMu.Unlock()
	var err error
	switch {
	case partner != nil:
		defer partner.prefix.mu.Unlock()
		// Equal lengths, so every block is paired; the rest waits.
		n := min(ownEnd-p.prefix.n, end-partner.prefix.n)
		err = r.hashPrefixes(p, p.prefix.n+n, partner, partner.prefix.n+n)
	case p.blocks != nil && ownEnd-p.prefix.n >= 2*r.hashAhead():
		// With what the other pack has, or alone, rather than hold more
		// of the pack in memory blocks.
		partner, end = r.partnerFor(p, 1)
		if partner != nil {
			defer partner.prefix.mu.Unlock()
		}
		err = r.hashPrefixes(p, ownEnd, partner, end)
	default:
		return
	}
	if err != nil {
		// p's file failed: start over at its commit, which reports it.
		p.prefix.reset()
	}
	r.packerMu.Lock()
	p.prefix.hinted = p.prefix.n
	if partner != nil {
		partner.prefix.hinted = partner.prefix.n
	}
	r.packerMu.Unlock()
}

// hashPrefixes hashes p's file up to end, and with it, in the second
// lane, partner's file (if any) up to partnerEnd; the caller holds both
// prefix locks. A read error on p's file is returned; on partner's file
// (gone at Flush, when packs merge) it resets partner's prefix, to be
// hashed again, or fail, at its own commit.
func (r *Repository) hashPrefixes(p *packer, end int, partner *packer, partnerEnd int) error {
	var bufs [2][]byte // for reading back from files, taken when needed
	defer func() {
		for _, b := range bufs {
			if b != nil {
				r.stages.put(b)
			}
		}
	}()
	own := &p.prefix
	for own.n < end {
		pa, err := r.packPiece(p, &bufs[0], own.n, end)
		if err != nil {
			return fmt.Errorf("read back pack: %w", err)
		}
		var pb []byte
		if partner != nil && partner.prefix.n < partnerEnd {
			// At most as long as pa, and pa is cut to it: equal lengths
			// keep every SHA-256 block paired.
			pb, err = r.packPiece(partner, &bufs[1], partner.prefix.n, min(partnerEnd, partner.prefix.n+len(pa)))
			if err != nil {
				partner.prefix.reset()
				partner, pb = nil, nil
			}
		}
		if pb != nil {
			pa = pa[:len(pb)]
			sha256x2.Write2(&own.digest, pa, &partner.prefix.digest, pb)
			partner.prefix.n += len(pb)
			partner.noteHashed()
			r.pairedPackHash.Add(int64(len(pb)))
		} else {
			own.digest.Write(pa)
		}
		own.n += len(pa)
		p.noteHashed()
	}
	return nil
}

// noteHashed lets a pack with blocks give back those its hash is done
// with; the caller holds the prefix lock.
func (p *packer) noteHashed() {
	if p.blocks != nil {
		p.blocks.hashedTo(p.prefix.n)
	}
}

// packPiece returns p's stored bytes from offset from on, up to at most
// to: from memory for a pack with blocks, else read from its file into
// *buf (taken from the stage pool when nil).
func (r *Repository) packPiece(p *packer, buf *[]byte, from, to int) ([]byte, error) {
	if p.blocks != nil {
		if piece := p.blocks.piece(from, to); piece != nil {
			return piece, nil
		}
	}
	if *buf == nil {
		*buf = r.stages.get(stageRound)
	}
	piece := (*buf)[:min(stageRound, to-from)]
	if _, err := p.file.ReadAt(piece, int64(from)); err != nil {
		return nil, err
	}
	return piece, nil
}

func (pp *packPrefix) reset() { pp.digest, pp.n = sha256x2.Digest{}, 0 }

// partnerFor finds the other open data pack built in place, if its file
// has at least atLeast stored bytes not yet hashed, and locks its prefix. It
// returns that pack and how far its file is stored, or nil.
func (r *Repository) partnerFor(p *packer, atLeast int) (*packer, int) {
	var candidates [2]*packer
	var ends [2]int
	r.packerMu.Lock()
	if set := r.packers[DataBlob]; set != nil {
		for i, q := range set.open {
			if q != nil && q != p && q.file != nil && q.storedEnd-q.prefix.hinted >= atLeast {
				candidates[i], ends[i] = q, q.storedEnd
			}
		}
	}
	r.packerMu.Unlock()
	for i, q := range candidates {
		// A pack whose hash is running is skipped; one committed
		// meanwhile has hashed past any end read before.
		if q == nil || !q.prefix.mu.TryLock() {
			continue
		}
		if ends[i]-q.prefix.n >= atLeast {
			return q, ends[i]
		}
		q.prefix.mu.Unlock()
	}
	return nil, 0
}
