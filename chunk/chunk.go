// Package chunk splits data into content-defined chunks exactly as restic
// does (github.com/restic/chunker), so identical content gives identical
// blobs in hbackup and restic repositories that share a polynomial.
package chunk

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/restic/chunker"
)

// Chunk sizes used by restic.
const (
	MinSize = chunker.MinSize // 512 KiB
	MaxSize = chunker.MaxSize // 8 MiB
)

// Polynomial is an irreducible polynomial over GF(2) of degree 53, the
// repository's chunking parameter.
type Polynomial uint64

// RandomPolynomial returns a new random irreducible polynomial of degree 53.
func RandomPolynomial() (Polynomial, error) {
	p, err := chunker.RandomPolynomial()
	return Polynomial(p), err
}

// Irreducible reports whether p is irreducible (a valid chunker parameter).
func (p Polynomial) Irreducible() bool { return chunker.Pol(p).Irreducible() }

// Deg returns the polynomial's degree.
func (p Polynomial) Deg() int { return chunker.Pol(p).Deg() }

// Valid reports whether restic would accept p.
func (p Polynomial) Valid() error {
	if p == 0 || p.Deg() > 53 || !p.Irreducible() {
		return fmt.Errorf("invalid chunker polynomial %x", uint64(p))
	}
	return nil
}

// String returns lowercase hex without a prefix, as restic stores it.
func (p Polynomial) String() string { return strconv.FormatUint(uint64(p), 16) }

// MarshalJSON encodes p as a JSON string of lowercase hex.
func (p Polynomial) MarshalJSON() ([]byte, error) {
	return []byte(`"` + p.String() + `"`), nil
}

// UnmarshalJSON decodes a JSON string of hex.
func (p *Polynomial) UnmarshalJSON(data []byte) error {
	s, err := strconv.Unquote(string(data))
	if err != nil {
		return fmt.Errorf("chunker polynomial: %w", err)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return fmt.Errorf("chunker polynomial: %w", err)
	}
	*p = Polynomial(v)
	return nil
}

// Chunker cuts a stream into chunks at exactly the positions
// github.com/restic/chunker (with its default sizes) cuts it.
//
// A chunk of n bytes ends at the first length L in [MinSize, MaxSize) where
// the low splitBits bits of the Rabin fingerprint of the 64 bytes before L
// are zero, else at MaxSize, else at the end of the input. (restic's
// chunker starts each chunk from a window holding a single 1 byte and skips
// the first MinSize-64 bytes without hashing, so by the first check at
// MinSize the 1 has slid out and the digest is the fingerprint of exactly
// the last 64 bytes.) Because the decision at L depends only on those 64
// bytes, the chunker reads straight into the caller's buffer, takes the
// outgoing byte from the buffer instead of a ring, and hashes several
// stretches of the buffer at once (see scanBlock).
type Chunker struct {
	rd    io.Reader
	tab   *tables
	err   error  // sticky: invalid polynomial or read error
	eof   bool   // rd returned io.EOF
	carry []byte // bytes read past the last cut, the start of the next chunk
	spare []byte // MaxSize buffer used when the caller's is smaller
}

// readStep is how far past the positions already checked the chunker
// reads, so at most readStep bytes are read past a cut and carried over.
// It is a multiple of blockSize and at most MinSize.
const readStep = 256 << 10

// New returns a chunker reading from rd with polynomial pol.
func New(rd io.Reader, pol Polynomial) *Chunker {
	c := &Chunker{}
	c.Reset(rd, pol)
	return c
}

// Reset restarts the chunker on a new reader, keeping its buffers.
func (c *Chunker) Reset(rd io.Reader, pol Polynomial) {
	c.rd = rd
	if c.tab == nil || c.tab.pol != pol {
		c.tab, c.err = newTables(pol)
	} else {
		c.err = nil
	}
	c.eof = false
	c.carry = c.carry[:0]
}

// Next returns the next chunk's bytes, stored in buf if it is large enough
// (use a buffer of MaxSize to avoid allocations). At the end of the input
// it returns io.EOF. A read error is returned as is, and again by every
// later call until Reset.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	dst := buf[:cap(buf)]
	if len(dst) < MaxSize {
		if c.spare == nil {
			c.spare = make([]byte, MaxSize)
		}
		dst = c.spare
	}
	dst = dst[:MaxSize]
	n := copy(dst, c.carry)
	c.carry = c.carry[:0]
	pos := MinSize // the next cut length to check
	for {
		if want := min(pos+readStep, MaxSize); n < want && !c.eof {
			var err error
			if n, err = c.fill(dst, n, want); err != nil {
				c.err = err
				return nil, err
			}
		}
		// A cut at n itself would give the same chunk as the end of the
		// input or a later cut past n, so lengths up to n-1 are checked
		// here and n is checked once more data has been read.
		if hi := min(n, MaxSize); pos < hi {
			if l := c.tab.scan(dst, pos, hi); l >= 0 {
				return c.cut(buf, dst, n, l), nil
			}
			pos = hi
		}
		switch {
		case n >= MaxSize:
			return c.cut(buf, dst, n, MaxSize), nil
		case c.eof && n == 0:
			return nil, io.EOF
		case c.eof:
			return c.cut(buf, dst, n, n), nil
		}
	}
}

// fill reads into dst[n:want] until it is full or the input ends.
func (c *Chunker) fill(dst []byte, n, want int) (int, error) {
	for n < want {
		m, err := c.rd.Read(dst[n:want])
		if m < 0 || m > want-n {
			return n, errors.New("chunker: reader returned an invalid count")
		}
		n += m
		if errors.Is(err, io.EOF) {
			c.eof = true
			break
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// cut returns dst[:l] as the chunk (in buf) and keeps dst[l:n] for the
// next one.
func (c *Chunker) cut(buf, dst []byte, n, l int) []byte {
	if c.carry == nil && n > l {
		c.carry = make([]byte, 0, readStep)
	}
	c.carry = append(c.carry[:0], dst[l:n]...)
	if cap(buf) < MaxSize {
		return append(buf[:0], dst[:l]...)
	}
	return dst[:l]
}
