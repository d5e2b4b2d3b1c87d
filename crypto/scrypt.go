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
	if n <= 1 || n&(n-1) != 0 {
		return nil, errors.New("scrypt: N must be a power of two greater than 1")
	}
	if uint64(r)*uint64(p) >= 1<<30 || r > maxInt/128/p || r > maxInt/256 || n > maxInt/128/r {
		return nil, errors.New("scrypt: parameters are too large")
	}
	laneLen := 128 * r
	b, err := pbkdf2.Key(sha256.New, string(password), salt, 1, p*laneLen)
	if err != nil {
		return nil, err
	}
	workers := min(p, runtime.GOMAXPROCS(0))
	lanes := make(chan int, p)
	for i := 0; i < p; i++ {
		lanes <- i
	}
	close(lanes)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := newMixer(r, n)
			for i := range lanes {
				m.roMix(b[i*laneLen:(i+1)*laneLen], n)
			}
		}()
	}
	wg.Wait()
	return pbkdf2.Key(sha256.New, string(password), b, 1, keyLen)
}

const maxInt = int(^uint(0) >> 1)

// mixer holds one lane's working memory: V (N blocks of 32*r words) and
// the scratch blocks of BlockMix.
type mixer struct {
	r    int
	v    []uint32 // N * 32r words
	x, y []uint32 // 32r words each
}

func newMixer(r, n int) *mixer { // n is a power of two > 1, so even
	return &mixer{r: r, v: make([]uint32, n*32*r), x: make([]uint32, 32*r), y: make([]uint32, 32*r)}
}

// roMix is scrypt's ROMix on one lane of 128*r bytes, in place.
func (m *mixer) roMix(lane []byte, n int) {
	words := 32 * m.r
	x, y := m.x, m.y
	for i := range x {
		x[i] = binary.LittleEndian.Uint32(lane[4*i:])
	}
	// V[i+1] = BlockMix(V[i]), written in place, so V is filled without
	// copying; X = BlockMix(V[N-1]) afterwards.
	copy(m.v[:words], x)
	for i := 0; i < n-1; i++ {
		blockMix(m.v[i*words:(i+1)*words], m.v[(i+1)*words:(i+2)*words], m.r)
	}
	blockMix(m.v[(n-1)*words:n*words], x, m.r)
	for i := 0; i < n; i += 2 {
		// Integerify: the first word of the last 64-byte block, mod N.
		j := int(x[words-16]) & (n - 1)
		xorWords(x, m.v[j*words:(j+1)*words])
		blockMix(x, y, m.r)
		j = int(y[words-16]) & (n - 1)
		xorWords(y, m.v[j*words:(j+1)*words])
		blockMix(y, x, m.r)
	}
	for i, w := range x {
		binary.LittleEndian.PutUint32(lane[4*i:], w)
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
