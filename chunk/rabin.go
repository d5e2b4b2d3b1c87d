package chunk

import (
	"errors"
	"math/bits"
)

// Rabin fingerprints over GF(2)
//
// A byte string b_0 … b_{n-1} is the polynomial Σ b_i(x)·x^(8(n-1-i)) and its
// fingerprint is that polynomial modulo pol. The chunker needs the
// fingerprint of the last windowSize bytes at each position. Appending byte
// b multiplies by x^8 and adds b; dropping the oldest byte o of a window of
// windowSize bytes (before the append) adds o·x^(8·(windowSize-1)), so one step
// of the window is
//
//	f' = (f·x^8 + b + o·x^(8·windowSize)) mod pol.
//
// Fingerprints are held "top aligned": a fingerprint f of degree < deg(pol)
// is stored as f<<k with k = 64-deg(pol). The 8 bits that overflow when
// multiplying by x^8 are then always the top byte of the word, so the
// reduction table index is a constant shift (>>56) whatever the degree, and
// f·x^8 is a plain <<8 (the overflowing byte falls off the word and is
// replaced by its reduction, reduce[top]). The split mask is shifted by k too.

const windowSize = 64

// splitBits is the number of low fingerprint bits that must be zero for a
// cut: restic's default, an average of 1 MiB past MinSize.
const splitBits = 20

// tables holds the per-polynomial lookup tables, all top aligned.
type tables struct {
	reduce [256]uint64 // reduce[t] = t·x^deg mod pol
	out    [256]uint64 // out[o] = o·x^(8·windowSize) mod pol
	in     uint64      // 1<<k: multiplier placing an incoming byte
	mask   uint64      // split mask, top aligned
	shift  uint        // k
	pol    Polynomial  // the polynomial they were computed for
}

var errPolynomial = errors.New("chunker polynomial must have a degree between 8 and 53")

// newTables computes the tables for pol (about 0.1 ms; a Chunker keeps
// them across Reset). Like restic, it accepts any polynomial of degree 8
// to 53, irreducible or not.
func newTables(pol Polynomial) (*tables, error) {
	deg := 63 - bits.LeadingZeros64(uint64(pol))
	if pol == 0 || deg < 8 || deg > 53 {
		return nil, errPolynomial
	}
	k := uint(64 - deg)
	t := &tables{in: 1 << k, mask: (1<<splitBits - 1) << k, shift: k, pol: pol}
	for b := range 256 {
		t.reduce[b] = mulX(uint64(b), deg, pol, deg) << k
		t.out[b] = mulX(uint64(b), 8*windowSize, pol, deg) << k
	}
	return t, nil
}

// mulX returns a·x^n mod pol for a polynomial a of degree < deg (or, for
// the first deg-deg(a) steps, any a: the reduction only starts once the
// product reaches degree deg).
func mulX(a uint64, n int, pol Polynomial, deg int) uint64 {
	for range n {
		a <<= 1
		if a>>uint(deg)&1 != 0 {
			a ^= uint64(pol)
		}
	}
	return a
}

// step slides the window one byte: in enters, out (the byte windowSize
// positions earlier) leaves. f is top aligned.
func (t *tables) step(f uint64, in, out byte) uint64 {
	return f<<8 ^ t.reduce[f>>56] ^ uint64(in)*t.in ^ t.out[out]
}

// fingerprint returns the top-aligned fingerprint of data, as if it had
// been appended to an all-zero window.
func (t *tables) fingerprint(data []byte) uint64 {
	var f uint64
	for _, b := range data {
		f = f<<8 ^ t.reduce[f>>56] ^ uint64(b)*t.in
	}
	return f
}

// scan returns the first cut length l in [pos, hi) of the chunk in data
// (data[l-windowSize:l] has a fingerprint matching the split mask), or -1.
// pos must be at least windowSize+1.
func (t *tables) scan(data []byte, pos, hi int) int {
	for ; pos+blockSize <= hi; pos += blockSize {
		w := (*[blockSize + windowSize]byte)(data[pos-windowSize-1:])
		i, lane := t.scanBlock(w)
		if i < 0 {
			continue
		}
		// The cut is at lane's step i unless an earlier lane, whose
		// steps after i are unchecked, matches later.
		l := pos + lane*laneSize + i
		if lane > 0 {
			if m := t.scanSerial(data, pos+i+1, l); m >= 0 {
				return m
			}
		}
		return l
	}
	return t.scanSerial(data, pos, hi)
}

// scanSerial is scan with a single rolling hash, for short stretches.
func (t *tables) scanSerial(data []byte, pos, hi int) int {
	if pos >= hi {
		return -1
	}
	data = data[:hi-1]
	f := t.fingerprint(data[pos-windowSize-1 : pos-1])
	for l := pos; l < hi; l++ {
		f = t.step(f, data[l-1], data[l-windowSize-1])
		if f&t.mask == 0 {
			return l
		}
	}
	return -1
}

// Lanes and block size: the loop below runs several independent rolling
// hashes, one per lane, so the CPU overlaps their dependency chains. On the
// 2-CPU AMD EPYC this was written on (64 MiB of random data, MB/s, best of
// several noisy runs): 1 lane (restic) ~620, 2 lanes ~900, 3 ~1300,
// 4 ~1560, 5 ~1560, 6 ~1550. Four lanes are as fast as more, keep every
// value in a register on amd64 and split a power-of-two block. Blocks are
// small so that the lanes past a cut waste little work (at most one block
// per chunk) while the 64-byte warm-up per lane stays cheap (1.6%).
const (
	lanes     = 4
	blockSize = 16 << 10 // cut lengths checked per scanBlock
	laneSize  = blockSize / lanes
)

// scanBlock checks the blockSize cut lengths pos … pos+blockSize-1 given
// w = data[pos-windowSize-1 : pos+blockSize-1]. After step i of lane j the
// fingerprint covers w[j·laneSize+i+1 : j·laneSize+i+windowSize+1], the
// window before length pos+j·laneSize+i. It returns the first step i at
// which any lane matches and the lowest such lane, or -1, 0.
//
// Hashing one byte is a chain of dependent operations (shift, table load,
// xor) whose latency, not the CPU's width, limits a single rolling hash.
// The block is split into lanes hashed in one loop so that their chains
// overlap; each lane first hashes the 64 bytes before its stretch.
func (t *tables) scanBlock(w *[blockSize + windowSize]byte) (int, int) {
	if t.shift == 64-53 {
		return t.scanBlock53(w)
	}
	red, out := &t.reduce, &t.out
	k, mask := t.shift&63, t.mask
	_ = w[len(w)-1] // one nil check, not one per step
	var f0, f1, f2, f3 uint64
	for i := range windowSize {
		f0 = f0<<8 ^ red[f0>>56] ^ uint64(w[i])<<k
		f1 = f1<<8 ^ red[f1>>56] ^ uint64(w[laneSize+i])<<k
		f2 = f2<<8 ^ red[f2>>56] ^ uint64(w[2*laneSize+i])<<k
		f3 = f3<<8 ^ red[f3>>56] ^ uint64(w[3*laneSize+i])<<k
	}
	for i := range laneSize {
		f0 = f0<<8 ^ red[f0>>56] ^ uint64(w[i+windowSize])<<k ^ out[w[i]]
		f1 = f1<<8 ^ red[f1>>56] ^ uint64(w[laneSize+i+windowSize])<<k ^ out[w[laneSize+i]]
		f2 = f2<<8 ^ red[f2>>56] ^ uint64(w[2*laneSize+i+windowSize])<<k ^ out[w[2*laneSize+i]]
		f3 = f3<<8 ^ red[f3>>56] ^ uint64(w[3*laneSize+i+windowSize])<<k ^ out[w[3*laneSize+i]]
		if f0&mask == 0 || f1&mask == 0 || f2&mask == 0 || f3&mask == 0 {
			return i, firstZero(mask, f0, f1, f2)
		}
	}
	return -1, 0
}

// scanBlock53 is scanBlock for polynomials of degree 53 (every polynomial
// restic or RandomPolynomial picks): with the byte shift a constant it runs
// about 20% faster.
func (t *tables) scanBlock53(w *[blockSize + windowSize]byte) (int, int) {
	red, out := &t.reduce, &t.out
	const k = 64 - 53
	mask := t.mask
	_ = w[len(w)-1] // one nil check, not one per step
	var f0, f1, f2, f3 uint64
	for i := range windowSize {
		f0 = f0<<8 ^ red[f0>>56] ^ uint64(w[i])<<k
		f1 = f1<<8 ^ red[f1>>56] ^ uint64(w[laneSize+i])<<k
		f2 = f2<<8 ^ red[f2>>56] ^ uint64(w[2*laneSize+i])<<k
		f3 = f3<<8 ^ red[f3>>56] ^ uint64(w[3*laneSize+i])<<k
	}
	for i := range laneSize {
		f0 = f0<<8 ^ red[f0>>56] ^ uint64(w[i+windowSize])<<k ^ out[w[i]]
		f1 = f1<<8 ^ red[f1>>56] ^ uint64(w[laneSize+i+windowSize])<<k ^ out[w[laneSize+i]]
		f2 = f2<<8 ^ red[f2>>56] ^ uint64(w[2*laneSize+i+windowSize])<<k ^ out[w[2*laneSize+i]]
		f3 = f3<<8 ^ red[f3>>56] ^ uint64(w[3*laneSize+i+windowSize])<<k ^ out[w[3*laneSize+i]]
		if f0&mask == 0 || f1&mask == 0 || f2&mask == 0 || f3&mask == 0 {
			return i, firstZero(mask, f0, f1, f2)
		}
	}
	return -1, 0
}

// firstZero returns the first of lanes 0-2 whose fingerprint matches mask,
// else lane 3.
func firstZero(mask, f0, f1, f2 uint64) int {
	switch {
	case f0&mask == 0:
		return 0
	case f1&mask == 0:
		return 1
	case f2&mask == 0:
		return 2
	}
	return 3
}
