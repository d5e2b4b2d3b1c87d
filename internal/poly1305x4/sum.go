// Package poly1305x4 computes Poly1305 tags like golang.org/x/crypto's
// poly1305.Sum, four blocks at a time with AVX2 for long messages.
//
// Restic's MAC is Poly1305-AES over every blob, so restore, check and
// backup each run it over all their data. x/crypto's amd64 code does one
// 16-byte block after another, each waiting for the previous multiply
// (about 3 GB/s here). Four independent accumulators, each stepping by r^4
// over every fourth block, fill the vector unit instead; the tail of a
// message and the final reduction run in radix 2^64 in Go. Short
// messages and CPUs without AVX2 use x/crypto.
package poly1305x4

import (
	"encoding/binary"

	"golang.org/x/crypto/poly1305" //nolint:staticcheck // the raw primitive, for short messages and other CPUs
)

// vectorMin is the shortest message worth the vector setup (the powers
// of r and two tables, about 0.5 us): measured here, AVX-512 took 774 ns
// for 2 KiB against x/crypto's 637, and 903 ns for 4 KiB against 1281.
const vectorMin = 4096

// Sum writes the Poly1305 tag of msg under the one-time key into out,
// exactly as poly1305.Sum.
func Sum(out *[16]byte, msg []byte, key *[32]byte) {
	sumWith(out, msg, key, best, vectorMin)
}

// sumWith is Sum with kernel k for messages of from bytes or more (the
// tests choose both, to reach every kernel whatever the CPU).
func sumWith(out *[16]byte, msg []byte, key *[32]byte, k kernel, from int) {
	if k.kind == noKernel || len(msg) < from {
		poly1305.Sum(out, msg, key)
		return
	}
	s := newState(key)
	n := len(msg) / k.group() * k.group()
	s.vector(msg[:n], k)
	s.finishTail(msg[n:], out)
}

// finishTail processes the last bytes (less than a group) and writes the
// tag.
func (s *state) finishTail(tail []byte, out *[16]byte) {
	full := len(tail) / 16 * 16
	s.blocks(tail[:full])
	if len(tail) > full {
		s.last(tail[full:])
	}
	s.sum(out)
}

// kernel runs groups of blocks through lane accumulators: lane j takes
// the block at offset order[j] of each group, adds it to its accumulator
// and multiplies by its multiplier in table. acc and table hold one row
// of lanes per limb (table: r0..r4, then 5*r1..5*r4); see blocksGeneric.
type kernel struct {
	order []int
	kind  kernelKind
}

type kernelKind int

const (
	noKernel     kernelKind = iota
	goKernel                // blocksGeneric, the reference
	avx2Kernel              // blocks4
	avx512Kernel            // blocks8
)

// run calls the kernel directly (not through a func value), so that acc
// and the tables stay on the caller's stack.
func (k kernel) run(acc *[5][8]uint64, msg []byte, table *[9][8]uint64) {
	groups := len(msg) / k.group()
	if groups == 0 {
		return
	}
	switch k.kind {
	case avx2Kernel:
		blocks4(acc, &msg[0], groups, table)
	case avx512Kernel:
		blocks8(acc, &msg[0], groups, table)
	default:
		blocksGeneric(acc, msg, table, k.order)
	}
}

func (k kernel) lanes() int { return len(k.order) }
func (k kernel) group() int { return 16 * len(k.order) }

// The AVX unpack instructions interleave the blocks of two loads, so the
// lanes take them in this order.
var (
	order4 = []int{0, 2, 1, 3}
	order8 = []int{0, 4, 1, 5, 2, 6, 3, 7}
)

// vector processes msg (whole groups, at least two) into s.h.
//
// Block i of n goes into h with weight r^(n-i). A lane multiplies by
// r^lanes after each group but the last, and after the last by
// r^(lanes-order[j]), so every block ends up with its weight and the
// lanes are simply added.
func (s *state) vector(msg []byte, k kernel) {
	w := k.lanes()
	var powers [9]limbs
	powers[1] = toLimbs(s.r0, s.r1, 0)
	for i := 2; i <= w; i++ {
		powers[i] = mul(powers[i-1], powers[1])
	}
	var each, final [9][8]uint64
	for lane, off := range k.order {
		setLane(&each, lane, powers[w])
		setLane(&final, lane, powers[w-off])
	}
	var acc [5][8]uint64
	h := toLimbs(s.h0, s.h1, s.h2)
	for i := range h {
		acc[i][0] = h[i] // the running h joins the lane of block 0, with its weight
	}
	n := len(msg) - k.group()
	k.run(&acc, msg[:n], &each)
	k.run(&acc, msg[n:], &final)
	var sum limbs
	for i := range sum {
		for lane := range w {
			sum[i] += acc[i][lane]
		}
	}
	s.h0, s.h1, s.h2 = fromLimbs(sum)
}

// setLane puts the multiplier m into lane of table: m's limbs, then 5
// times limbs 1 to 4 (the factor of products that pass 2^130).
func setLane(table *[9][8]uint64, lane int, m limbs) {
	for i := range 5 {
		table[i][lane] = m[i]
	}
	for i := 1; i < 5; i++ {
		table[4+i][lane] = 5 * m[i]
	}
}

// genericKernel is the kernel in Go with the lane order of the assembly
// of the same width: the reference the assembly is tested against.
func genericKernel(order []int) kernel { return kernel{order: order, kind: goKernel} }

func blocksGeneric(acc *[5][8]uint64, msg []byte, table *[9][8]uint64, order []int) {
	for g := 16 * len(order); len(msg) >= g; msg = msg[g:] {
		for lane, off := range order {
			b := msg[16*off:]
			lo, hi := binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])
			m := limbs{lo & mask26, lo >> 26 & mask26, (lo>>52 | hi<<12) & mask26, hi >> 14 & mask26, hi>>40 | 1<<24}
			var a, r limbs
			for i := range 5 {
				a[i] = acc[i][lane] + m[i]
				r[i] = table[i][lane]
			}
			p := mul(a, r)
			for i := range 5 {
				acc[i][lane] = p[i]
			}
		}
	}
}
