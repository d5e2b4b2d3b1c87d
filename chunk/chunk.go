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

// Chunker cuts a stream into chunks.
type Chunker struct {
	c *chunker.Chunker
}

// New returns a chunker reading from rd with polynomial pol.
func New(rd io.Reader, pol Polynomial) *Chunker {
	return &Chunker{c: chunker.New(rd, chunker.Pol(pol))}
}

// Reset restarts the chunker on a new reader, keeping its tables.
func (c *Chunker) Reset(rd io.Reader, pol Polynomial) {
	c.c.Reset(rd, chunker.Pol(pol))
}

// Next returns the next chunk's bytes, stored in buf if it is large enough
// (use a buffer of MaxSize to avoid allocations). At the end of the input
// it returns io.EOF.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	ch, err := c.c.Next(buf)
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	return ch.Data, nil
}
