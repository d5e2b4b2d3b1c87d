package poly1305x4

import (
	"encoding/binary"
	"math/bits"
)

// state is a Poly1305 computation in radix 2^64: the accumulator h
// (h2 holds bits 128 and up and stays below 8 between blocks), the
// clamped r and the final addend s.
type state struct {
	h0, h1, h2 uint64
	r0, r1     uint64
	s0, s1     uint64
}

func newState(key *[32]byte) state {
	return state{
		r0: binary.LittleEndian.Uint64(key[0:8]) & 0x0ffffffc0fffffff,
		r1: binary.LittleEndian.Uint64(key[8:16]) & 0x0ffffffc0ffffffc,
		s0: binary.LittleEndian.Uint64(key[16:24]),
		s1: binary.LittleEndian.Uint64(key[24:32]),
	}
}

// blocks adds each 16-byte block of msg (with the 2^128 pad bit) and
// multiplies by r. len(msg) must be a multiple of 16.
func (s *state) blocks(msg []byte) {
	for ; len(msg) >= 16; msg = msg[16:] {
		s.add(binary.LittleEndian.Uint64(msg[0:8]), binary.LittleEndian.Uint64(msg[8:16]), 1)
		s.mulR()
	}
}

// last processes a final block shorter than 16 bytes: padded with a 1
// byte and zeros, without the 2^128 bit.
func (s *state) last(tail []byte) {
	var b [16]byte
	copy(b[:], tail)
	b[len(tail)] = 1
	s.add(binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16]), 0)
	s.mulR()
}

func (s *state) add(m0, m1, pad uint64) {
	var c uint64
	s.h0, c = bits.Add64(s.h0, m0, 0)
	s.h1, c = bits.Add64(s.h1, m1, c)
	s.h2 += c + pad
}

// mulR sets h to h*r modulo 2^130-5, partially reduced (h2 <= 5).
func (s *state) mulR() {
	s.h0, s.h1, s.h2 = mulMod(s.h0, s.h1, s.h2, s.r0, s.r1)
}

// mulMod returns h*r modulo 2^130-5, partially reduced (result h2 <= 5),
// for h2 < 8 and a clamped r (r0, r1 < 2^60).
func mulMod(h0, h1, h2, r0, r1 uint64) (uint64, uint64, uint64) {
	// h*r as four 64-bit words w0..w3. With h2 < 8 and r0, r1 < 2^60 the
	// h2 products fit in a word and w3 cannot overflow.
	hi00, lo00 := bits.Mul64(h0, r0)
	hi01, lo01 := bits.Mul64(h0, r1)
	hi10, lo10 := bits.Mul64(h1, r0)
	hi11, lo11 := bits.Mul64(h1, r1)
	var c, cw2, cw3 uint64
	w0 := lo00
	w1, c := bits.Add64(hi00, lo01, 0)
	cw2 += c
	w1, c = bits.Add64(w1, lo10, 0)
	cw2 += c
	w2, c := bits.Add64(hi01, hi10, 0)
	cw3 += c
	w2, c = bits.Add64(w2, lo11, 0)
	cw3 += c
	w2, c = bits.Add64(w2, h2*r0, 0)
	cw3 += c
	w2, c = bits.Add64(w2, cw2, 0)
	cw3 += c
	w3 := hi11 + h2*r1 + cw3

	// Split at bit 130: h*r = low + high*2^130, and 2^130 = 5 modulo p,
	// so the result is low + 4*high + high.
	high0, high1 := w2>>2|w3<<62, w3>>2
	r0out, c := bits.Add64(w0, w2&^3, 0)
	r1out, c := bits.Add64(w1, w3, c)
	r2out := w2&3 + c
	r0out, c = bits.Add64(r0out, high0, 0)
	r1out, c = bits.Add64(r1out, high1, c)
	return r0out, r1out, r2out + c
}

// reduce returns h fully reduced modulo p = 2^130-5, for h2 < 2^61.
func reduce(h0, h1, h2 uint64) (uint64, uint64, uint64) {
	// Fold the bits from 130 up: what is left is below 2^130 + 5*2^59.
	c := h2 >> 2
	h2 &= 3
	var cc uint64
	h0, cc = bits.Add64(h0, c*5, 0)
	h1, cc = bits.Add64(h1, 0, cc)
	h2 += cc
	// Once more for the rare carry into bit 130: now below 2^130 + 5.
	c = h2 >> 2
	h2 &= 3
	h0, cc = bits.Add64(h0, c*5, 0)
	h1, cc = bits.Add64(h1, 0, cc)
	h2 += cc
	// h - p = h + 5 - 2^130: take it when it does not go negative.
	t0, cc := bits.Add64(h0, 5, 0)
	t1, cc := bits.Add64(h1, 0, cc)
	t2 := h2 + cc
	if t2>>2 != 0 {
		return t0, t1, t2 & 3
	}
	return h0, h1, h2
}

// sum writes the tag: (h mod p) + s, modulo 2^128.
func (s *state) sum(out *[16]byte) {
	h0, h1, _ := reduce(s.h0, s.h1, s.h2)
	var c uint64
	h0, c = bits.Add64(h0, s.s0, 0)
	h1, _ = bits.Add64(h1, s.s1, c)
	binary.LittleEndian.PutUint64(out[0:8], h0)
	binary.LittleEndian.PutUint64(out[8:16], h1)
}
