package sha256x2

import (
	"crypto/sha256"
	"hash"
)

// Digest is the SHA-256 of a message written in pieces, for messages
// that are not in memory at once (a pack read back from its file). Write2
// advances two Digests together, as Pair does for whole messages.
//
// The zero Digest is ready to use.
type Digest struct {
	begun bool
	s     state
	buf   [BlockSize]byte // the start of a block not yet hashed
	nbuf  int
	total int
	std   hash.Hash // without the SHA extensions
}

func (d *Digest) begin() {
	if d.begun {
		return
	}
	d.begun, d.s = true, initial
	if !useSHA {
		d.std = sha256.New()
	}
}

// Write adds p to the message.
func (d *Digest) Write(p []byte) {
	d.begin()
	d.total += len(p)
	if !useSHA {
		d.std.Write(p)
		return
	}
	d.rest(d.fill(p))
}

// Write2 adds pa to a's message and pb to b's, hashing the blocks the two
// have in common in one pass. a and b must be different Digests.
func Write2(a *Digest, pa []byte, b *Digest, pb []byte) {
	if !useSHA {
		a.Write(pa)
		b.Write(pb)
		return
	}
	a.begin()
	b.begin()
	a.total += len(pa)
	b.total += len(pb)
	pa, pb = a.fill(pa), b.fill(pb)
	// fill leaves a non-empty rest only with no partial block pending.
	if len(pa) > 0 && len(pb) > 0 {
		if n := min(len(pa), len(pb)) / BlockSize; n > 0 {
			blocks2(&a.s, &b.s, &pa[0], &pb[0], n)
			pa, pb = pa[n*BlockSize:], pb[n*BlockSize:]
		}
	}
	a.rest(pa)
	b.rest(pb)
}

// fill completes a partial block from p, hashing it once whole, and
// returns what is left of p.
func (d *Digest) fill(p []byte) []byte {
	if d.nbuf == 0 {
		return p
	}
	n := copy(d.buf[d.nbuf:], p)
	d.nbuf += n
	if d.nbuf == BlockSize {
		blocks1(&d.s, &d.buf[0], 1)
		d.nbuf = 0
	}
	return p[n:]
}

// rest hashes the whole blocks of p and keeps the tail; the partial block
// must be empty unless p is.
func (d *Digest) rest(p []byte) {
	if len(p) == 0 {
		return
	}
	if n := len(p) / BlockSize; n > 0 {
		blocks1(&d.s, &p[0], n)
		p = p[n*BlockSize:]
	}
	d.nbuf = copy(d.buf[:], p)
}

// Sum returns the digest of what was written. The Digest is unchanged.
func (d *Digest) Sum() [Size]byte {
	d.begin()
	if !useSHA {
		var sum [Size]byte
		d.std.Sum(sum[:0])
		return sum
	}
	s := d.s
	var buf [2 * BlockSize]byte
	last := pad(d.buf[:d.nbuf], d.total, &buf)
	blocks1(&s, &last[0], len(last)/BlockSize)
	return s.digest()
}
