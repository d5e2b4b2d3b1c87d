// Package sha256x2 computes the SHA-256 digests of two messages at once.
//
// With the x86 SHA extensions, hashing one message is bound by the
// latency of the round instruction, so the CPU can run the rounds of a
// second, independent message almost for free: Sum2 of two equal-length
// messages costs little more than one crypto/sha256 sum. Where the
// extensions are missing, Sum2 falls back to crypto/sha256.
//
// Backups hash every chunk they store and every pack they write (two
// packs filling side by side: Digest and Write2), and restore, copy and
// prune (repo.StreamPack) hash every blob they read, and check hashes
// every pack it reads beside the plaintexts of its blobs, so pairing
// those hashes shortens the hottest work.
package sha256x2

import (
	"crypto/sha256"
	"encoding/binary"
)

// Size is the size of a SHA-256 digest in bytes.
const Size = sha256.Size

// BlockSize is the block size of SHA-256 in bytes.
const BlockSize = sha256.BlockSize

// state is a SHA-256 state in the layout of the SHA256RNDS2 operands:
// words F, E, B, A, then H, G, D, C.
type state [8]uint32

// initial is SHA-256's initial state, in state's layout.
var initial = state{
	0x9b05688c, 0x510e527f, 0xbb67ae85, 0x6a09e667, // f, e, b, a
	0x5be0cd19, 0x1f83d9ab, 0xa54ff53a, 0x3c6ef372, // h, g, d, c
}

// digest writes s as a big-endian SHA-256 digest.
func (s *state) digest() (d [Size]byte) {
	words := [8]uint32{s[3], s[2], s[7], s[6], s[1], s[0], s[5], s[4]} // a..h
	for i, w := range words {
		binary.BigEndian.PutUint32(d[4*i:], w)
	}
	return d
}

// Accelerated reports whether Sum2 runs both messages in one pass (the
// CPU has the SHA extensions). When false, Sum2 is two crypto/sha256
// sums.
func Accelerated() bool { return useSHA }

// Sum2 returns the SHA-256 digests of a and b. It saves the most when a
// and b have about the same length: the blocks of the longer one past
// the shorter one's end are hashed alone (Pair avoids that for streams
// of messages).
func Sum2(a, b []byte) (da, db [Size]byte) {
	var p Pair
	p.Start(0, a)
	p.Start(1, b)
	for range 2 {
		if i, sum := p.Next(); i == 0 {
			da = sum
		} else {
			db = sum
		}
	}
	return da, db
}

// Sum returns the SHA-256 digest of p with the same code as Sum2 (for
// tests and benchmarks; crypto/sha256 is as fast for one message).
func Sum(p []byte) [Size]byte {
	var pair Pair
	pair.Start(0, p)
	_, sum := pair.Next()
	return sum
}
