package poly1305x4

import "math/bits"

// The vector code works in radix 2^26: a number below 2^130 is five
// 26-bit limbs, so that limb products fit the 32x32->64-bit multiplies
// of AVX2 with room for sums.

const mask26 = 1<<26 - 1

type limbs [5]uint64

// toLimbs splits h (h2 < 8) into limbs; the top limb takes h2 whole.
func toLimbs(h0, h1, h2 uint64) limbs {
	return limbs{
		h0 & mask26,
		h0 >> 26 & mask26,
		(h0>>52 | h1<<12) & mask26,
		h1 >> 14 & mask26,
		h1>>40 | h2<<24,
	}
}

// fromLimbs adds up limbs of any size below 2^32 into radix 2^64 and
// folds the result so that h2 < 8.
func fromLimbs(l limbs) (h0, h1, h2 uint64) {
	add := func(v0, v1, v2 uint64) {
		var c uint64
		h0, c = bits.Add64(h0, v0, 0)
		h1, c = bits.Add64(h1, v1, c)
		h2 += v2 + c
	}
	add(l[0], 0, 0)
	add(l[1]<<26, l[1]>>38, 0)
	add(l[2]<<52, l[2]>>12, 0)
	add(0, l[3]<<14, l[3]>>50)
	add(0, l[4]<<40, l[4]>>24)
	// 2^130 = 5 modulo p.
	c := h2 >> 2
	h2 &= 3
	add(c*5, 0, 0)
	return h0, h1, h2
}

// mul returns a*b modulo 2^130-5 in limbs, for limbs below 2^28;
// the result's limbs are as carry leaves them.
func mul(a, b limbs) limbs {
	d0 := a[0]*b[0] + 5*(a[1]*b[4]+a[2]*b[3]+a[3]*b[2]+a[4]*b[1])
	d1 := a[0]*b[1] + a[1]*b[0] + 5*(a[2]*b[4]+a[3]*b[3]+a[4]*b[2])
	d2 := a[0]*b[2] + a[1]*b[1] + a[2]*b[0] + 5*(a[3]*b[4]+a[4]*b[3])
	d3 := a[0]*b[3] + a[1]*b[2] + a[2]*b[1] + a[3]*b[0] + 5*(a[4]*b[4])
	d4 := a[0]*b[4] + a[1]*b[3] + a[2]*b[2] + a[3]*b[1] + a[4]*b[0]
	return carry(d0, d1, d2, d3, d4)
}

// carry brings products back to limbs below 2^26 (limbs 1 and 4 may
// exceed it by less than 2^13), in the same steps as the vector code: two
// chains side by side, d3 -> d4 -> 5*d0 -> d1 and d0 -> d1 -> d2 -> d3
// -> d4, which is half the dependent steps of one chain.
func carry(d0, d1, d2, d3, d4 uint64) limbs {
	c, e := d3>>26, d0>>26
	d3, d0 = d3&mask26, d0&mask26
	d4, d1 = d4+c, d1+e
	c, e = d4>>26, d1>>26
	d4, d1 = d4&mask26, d1&mask26
	d0, d2 = d0+5*c, d2+e
	c, e = d2>>26, d0>>26
	d2, d0 = d2&mask26, d0&mask26
	d3, d1 = d3+c, d1+e
	c = d3 >> 26
	d3 &= mask26
	d4 += c
	return limbs{d0, d1, d2, d3, d4}
}
