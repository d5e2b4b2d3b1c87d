package crypto

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/bits"
	"runtime"
	"sync"
)

// scryptKey derives a key with scrypt (RFC 7914). Its p lanes are
// independent, so they run in parallel on up to GOMAXPROCS cores: a
// restic key file with p=7 opens in a fraction of the sequential time.
// The result is identical to golang.org/x/crypto/scrypt.Key (a
// differential test checks this).
func scryptKey(password, salt []byte, n, r, p, keyLen int) ([]byte, error) {
	return scryptKeyOn(password, salt, n, r, p, keyLen, runtime.GOMAXPROCS(0))
}

// scryptKeyOn runs up to workers lanes at once, all in the memory of one
// sequential lane (N blocks, the peak restic's sequential scrypt has too):
// k lanes running together each keep every k-th block of V and recompute
// the others when they are read, which costs (k-1)/2 extra BlockMix per
// read, about 25% more work per lane for k=2. That buys the same peak
// memory as restic with the wall time of a parallel derivation; at
// restic's parameters the memory is 32 MiB instead of 32 MiB per core.
func scryptKeyOn(password, salt []byte, n, r, p, keyLen, workers int) ([]byte, error) {
	if n <= 1 || n&(n-1) != 0 {
		return nil, errors.New("scrypt: N must be a power of two greater than 1")
	}
	if uint64(r)*uint64(p) >= 1<<30 || r > maxInt/128/p || r > maxInt/256 || n > maxInt/128/r-workers {
		return nil, errors.New("scrypt: parameters are too large")
	}
	laneLen := 128 * r
	b, err := pbkdf2.Key(sha256.New, string(password), salt, 1, p*laneLen)
	if err != nil {
		return nil, err
	}
	workers = max(1, min(workers, p))
	words := 32 * r
	// N blocks, plus one per worker for rounding N/k up.
	mem, free := laneMemory((n + workers) * words)
	defer free()
	for next := 0; next < p; {
		k := min(workers, p-next)
		per := (n + k - 1) / k // blocks kept per lane
		var wg sync.WaitGroup
		for i := range k {
			lane := b[(next+i)*laneLen : (next+i+1)*laneLen]
			v := mem[i*per*words : (i+1)*per*words]
			wg.Go(func() { roMix(lane, v, n, r, k) })
		}
		wg.Wait()
		next += k
	}
	return pbkdf2.Key(sha256.New, string(password), b, 1, keyLen)
}

const maxInt = int(^uint(0) >> 1)

// roMix is scrypt's ROMix on one lane of 128*r bytes, in place. v holds
// every stride-th block of V (all of them for stride 1).
func roMix(lane []byte, v []uint32, n, r, stride int) {
	words := 32 * r
	x, y := make([]uint32, words), make([]uint32, words)
	for i := range x {
		x[i] = binary.LittleEndian.Uint32(lane[4*i:])
	}
	if stride == 1 {
		// V[i+1] = BlockMix(V[i]), written in place, so V is filled
		// without copying; X = BlockMix(V[N-1]) afterwards.
		copy(v[:words], x)
		for i := 0; i < n-1; i++ {
			blockMix(v[i*words:(i+1)*words], v[(i+1)*words:(i+2)*words], r)
		}
		blockMix(v[(n-1)*words:n*words], x, r)
	} else {
		for i := 0; i < n; i++ {
			if i%stride == 0 {
				copy(v[(i/stride)*words:], x)
			}
			blockMix(x, y, r)
			x, y = y, x
		}
	}
	var z, w []uint32 // scratch for recomputed blocks
	if stride > 1 {
		z, w = make([]uint32, words), make([]uint32, words)
	}
	for i := 0; i < n; i++ {
		// Integerify: the first word of the last 64-byte block, mod N.
		j := int(x[words-16]) & (n - 1)
		base, off := j/stride, j%stride
		block := v[base*words : (base+1)*words]
		if off > 0 {
			copy(z, block)
			for range off {
				blockMix(z, w, r)
				z, w = w, z
			}
			block = z
		}
		xorWords(x, block)
		blockMix(x, y, r)
		x, y = y, x
	}
	for i, word := range x {
		binary.LittleEndian.PutUint32(lane[4*i:], word)
	}
}

func xorWords(dst, src []uint32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// blockMix is scrypt's BlockMix with Salsa20/8 on the 2r 16-word blocks of
// in, written to out: even results to the first half, odd to the second.
func blockMix(in, out []uint32, r int) {
	var t [16]uint32
	copy(t[:], in[(2*r-1)*16:])
	for i := 0; i < 2*r; i += 2 {
		salsaXOR(&t, in[i*16:i*16+16], out[(i/2)*16:(i/2)*16+16])
		salsaXOR(&t, in[(i+1)*16:(i+1)*16+16], out[(r+i/2)*16:(r+i/2)*16+16])
	}
}

// salsaXOR sets t to Salsa20/8(t XOR in) and writes it to out.
func salsaXOR(t *[16]uint32, in, out []uint32) {
	in, out = in[:16], out[:16]
	w0, w1, w2, w3 := t[0]^in[0], t[1]^in[1], t[2]^in[2], t[3]^in[3]
	w4, w5, w6, w7 := t[4]^in[4], t[5]^in[5], t[6]^in[6], t[7]^in[7]
	w8, w9, w10, w11 := t[8]^in[8], t[9]^in[9], t[10]^in[10], t[11]^in[11]
	w12, w13, w14, w15 := t[12]^in[12], t[13]^in[13], t[14]^in[14], t[15]^in[15]
	x0, x1, x2, x3, x4, x5, x6, x7 := w0, w1, w2, w3, w4, w5, w6, w7
	x8, x9, x10, x11, x12, x13, x14, x15 := w8, w9, w10, w11, w12, w13, w14, w15
	for round := 0; round < 8; round += 2 {
		// Column round.
		x4 ^= bits.RotateLeft32(x0+x12, 7)
		x8 ^= bits.RotateLeft32(x4+x0, 9)
		x12 ^= bits.RotateLeft32(x8+x4, 13)
		x0 ^= bits.RotateLeft32(x12+x8, 18)
		x9 ^= bits.RotateLeft32(x5+x1, 7)
		x13 ^= bits.RotateLeft32(x9+x5, 9)
		x1 ^= bits.RotateLeft32(x13+x9, 13)
		x5 ^= bits.RotateLeft32(x1+x13, 18)
		x14 ^= bits.RotateLeft32(x10+x6, 7)
		x2 ^= bits.RotateLeft32(x14+x10, 9)
		x6 ^= bits.RotateLeft32(x2+x14, 13)
		x10 ^= bits.RotateLeft32(x6+x2, 18)
		x3 ^= bits.RotateLeft32(x15+x11, 7)
		x7 ^= bits.RotateLeft32(x3+x15, 9)
		x11 ^= bits.RotateLeft32(x7+x3, 13)
		x15 ^= bits.RotateLeft32(x11+x7, 18)
		// Row round.
		x1 ^= bits.RotateLeft32(x0+x3, 7)
		x2 ^= bits.RotateLeft32(x1+x0, 9)
		x3 ^= bits.RotateLeft32(x2+x1, 13)
		x0 ^= bits.RotateLeft32(x3+x2, 18)
		x6 ^= bits.RotateLeft32(x5+x4, 7)
		x7 ^= bits.RotateLeft32(x6+x5, 9)
		x4 ^= bits.RotateLeft32(x7+x6, 13)
		x5 ^= bits.RotateLeft32(x4+x7, 18)
		x11 ^= bits.RotateLeft32(x10+x9, 7)
		x8 ^= bits.RotateLeft32(x11+x10, 9)
		x9 ^= bits.RotateLeft32(x8+x11, 13)
		x10 ^= bits.RotateLeft32(x9+x8, 18)
		x12 ^= bits.RotateLeft32(x15+x14, 7)
		x13 ^= bits.RotateLeft32(x12+x15, 9)
		x14 ^= bits.RotateLeft32(x13+x12, 13)
		x15 ^= bits.RotateLeft32(x14+x13, 18)
	}
	x0 += w0
	x1 += w1
	x2 += w2
	x3 += w3
	x4 += w4
	x5 += w5
	x6 += w6
	x7 += w7
	x8 += w8
	x9 += w9
	x10 += w10
	x11 += w11
	x12 += w12
	x13 += w13
	x14 += w14
	x15 += w15
	t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7] = x0, x1, x2, x3, x4, x5, x6, x7
	t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15] = x8, x9, x10, x11, x12, x13, x14, x15
	copy(out, t[:])
}
