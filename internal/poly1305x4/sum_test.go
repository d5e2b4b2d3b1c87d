package poly1305x4

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/poly1305" //nolint:staticcheck // the reference
)

// withKernel is Sum with kernel k from 2 groups on, so that every
// kernel and the driver are tested whatever the CPU picks.
func withKernel(k kernel) sumFunc {
	return func(out *[16]byte, msg []byte, key *[32]byte) {
		sumWith(out, msg, key, k, 2*k.group())
	}
}

// sumScalar is the radix 2^64 code alone.
func sumScalar(out *[16]byte, msg []byte, key *[32]byte) {
	s := newState(key)
	s.finishTail(msg, out)
}

type sumFunc func(out *[16]byte, msg []byte, key *[32]byte)

// impls are the implementations compared with x/crypto: Sum as used,
// the scalar code, and each kernel, in Go and in assembly where the CPU
// has it.
var impls = func() map[string]sumFunc {
	m := map[string]sumFunc{
		"Sum": Sum, "scalar": sumScalar,
		"generic4": withKernel(genericKernel(order4)), "generic8": withKernel(genericKernel(order8)),
	}
	for name, k := range asmKernels() {
		m[name] = withKernel(k)
	}
	return m
}()

func check(t *testing.T, msg []byte, key *[32]byte) {
	t.Helper()
	var want [16]byte
	poly1305.Sum(&want, msg, key)
	for name, f := range impls {
		var got [16]byte
		f(&got, msg, key)
		if got != want {
			t.Fatalf("%s: %d-byte message, key %x: tag %x, want %x", name, len(msg), key[:], got, want)
		}
	}
}

// TestSumMatchesXCrypto compares every length up to 2 KiB and some long
// ones with random keys and content.
func TestSumMatchesXCrypto(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 1<<20+77)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	var key [32]byte
	for n := 0; n <= 2048; n++ {
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		check(t, msg[:n], &key)
	}
	for _, n := range []int{4095, 4096, 65536 + 15, 1 << 20, len(msg)} {
		check(t, msg[:n], &key)
	}
}

// TestSumExtremes uses the values that make limbs and carries largest:
// all-ones messages and keys (r clamped at its largest), and zeros.
func TestSumExtremes(t *testing.T) {
	ones := bytes.Repeat([]byte{0xff}, 1<<16+33)
	zeros := make([]byte, 1<<16+33)
	var kOnes, kZero, kMixed [32]byte
	for i := range kOnes {
		kOnes[i] = 0xff
		kMixed[i] = byte(i * 37)
	}
	for _, key := range []*[32]byte{&kOnes, &kZero, &kMixed} {
		for _, msg := range [][]byte{ones, zeros} {
			for _, n := range []int{0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, vectorMin - 1, vectorMin, vectorMin + 1, 1000, 4096, len(msg)} {
				check(t, msg[:n], key)
			}
		}
	}
	// p - 1 and values near 2^130 as message blocks: 0xff.. with the pad
	// bit make every block 2^129-1.
	almost := bytes.Repeat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03}, 4096)
	check(t, almost, &kOnes)
}

// TestKernelsMatchGeneric checks each assembly kernel lane by lane
// against the Go kernel, from accumulators at the top of their range.
func TestKernelsMatchGeneric(t *testing.T) {
	kernels := asmKernels()
	if len(kernels) == 0 {
		t.Skip("no AVX2 or AVX-512 on this CPU: no assembly is used")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	msg := make([]byte, 128*37)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	for name, k := range kernels {
		ref := genericKernel(k.order)
		for round := range 200 {
			var acc [5][8]uint64
			var table [9][8]uint64
			for lane := range k.lanes() {
				var m limbs
				for i := range m {
					m[i] = rng.Uint64() & mask26
					acc[i][lane] = rng.Uint64() & (1<<27 - 1)
					if round%2 == 0 {
						m[i] = mask26
						acc[i][lane] = 1<<27 - 1
					}
				}
				setLane(&table, lane, m)
			}
			a1, a2 := acc, acc
			n := k.group() * (1 + round%37)
			ref.run(&a1, msg[:n], &table)
			k.run(&a2, msg[:n], &table)
			if a1 != a2 {
				t.Fatalf("%s, round %d: assembly %v, Go %v", name, round, a2, a1)
			}
		}
	}
}

func FuzzSum(f *testing.F) {
	f.Add(make([]byte, 32), []byte("hello"))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 1000))
	f.Fuzz(func(t *testing.T, k, msg []byte) {
		var key [32]byte
		copy(key[:], k)
		check(t, msg, &key)
	})
}

func BenchmarkSum(b *testing.B) {
	msg := make([]byte, 1<<20)
	var key [32]byte
	key[3] = 7
	var tag [16]byte
	for name, k := range asmKernels() {
		f := withKernel(k)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				f(&tag, msg, &key)
			}
		})
	}
	b.Run("Sum", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			Sum(&tag, msg, &key)
		}
	})
	b.Run("x-crypto", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			poly1305.Sum(&tag, msg, &key)
		}
	})
}

// TestMACPieces writes messages in pieces of every kind of length,
// across block and group boundaries, and compares with x/crypto.
func TestMACPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	msg := make([]byte, 300<<10)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	var key [32]byte
	for round := range 300 {
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		n := rng.IntN(len(msg))
		if round%3 == 0 {
			n = rng.IntN(4096)
		}
		var want, got [16]byte
		poly1305.Sum(&want, msg[:n], &key)
		m := New(&key)
		for p := msg[:n]; len(p) > 0; {
			c := min(len(p), rng.IntN(3)*rng.IntN(70000)+rng.IntN(40))
			m.Write(p[:c])
			p = p[c:]
		}
		m.Sum(&got)
		if got != want {
			t.Fatalf("round %d: %d bytes in pieces: tag %x, want %x", round, n, got, want)
		}
		m.Sum(&got) // Sum again: unchanged
		if got != want {
			t.Fatalf("round %d: second Sum %x, want %x", round, got, want)
		}
	}
}
