package sha256x2

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

func TestSum2MatchesSHA256(t *testing.T) {
	if !Accelerated() {
		t.Log("no SHA extensions: testing the crypto/sha256 fallback")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	// Every length pair around the padding edges (55, 56, 63, 64, ...),
	// from distinct offsets so the two messages differ.
	for la := 0; la <= 200; la++ {
		for lb := 0; lb <= 200; lb++ {
			a, b := data[7:7+la], data[1000:1000+lb]
			da, db := Sum2(a, b)
			if want := sha256.Sum256(a); da != want {
				t.Fatalf("Sum2 a (len %d, b len %d) = %x, want %x", la, lb, da, want)
			}
			if want := sha256.Sum256(b); db != want {
				t.Fatalf("Sum2 b (len %d, a len %d) = %x, want %x", lb, la, db, want)
			}
		}
		if got, want := Sum(data[3:3+la]), sha256.Sum256(data[3:3+la]); got != want {
			t.Fatalf("Sum (len %d) = %x, want %x", la, got, want)
		}
	}
	// Long messages of unequal length: part paired, part alone.
	for _, l := range [][2]int{{3000, 2999}, {2048, 64}, {0, 3000}, {1111, 2222}} {
		a, b := data[:l[0]], data[len(data)-l[1]:]
		da, db := Sum2(a, b)
		if da != sha256.Sum256(a) || db != sha256.Sum256(b) {
			t.Fatalf("Sum2 of lengths %v differs from crypto/sha256", l)
		}
	}
}

func FuzzSum2(f *testing.F) {
	f.Add([]byte("abc"), []byte(""))
	f.Add(make([]byte, 64), make([]byte, 119))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		da, db := Sum2(a, b)
		if da != sha256.Sum256(a) || db != sha256.Sum256(b) {
			t.Fatalf("Sum2(%x, %x) differs from crypto/sha256", a, b)
		}
	})
}

// TestPairStream feeds two lanes from one queue of messages of mixed
// lengths, refilling whichever lane Next frees, as StreamPack does, and
// checks every digest.
func TestPairStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var msgs [][]byte
	for range 2000 {
		n := rng.IntN(300)
		if rng.IntN(10) == 0 {
			n = rng.IntN(200000)
		}
		off := rng.IntN(len(data) - n + 1)
		msgs = append(msgs, data[off:off+n])
	}
	var p Pair
	inLane := [2]int{-1, -1}
	next, got := 0, 0
	for {
		for i := range 2 {
			if !p.Busy(i) && next < len(msgs) {
				p.Start(i, msgs[next])
				inLane[i] = next
				next++
			}
		}
		if !p.Busy(0) && !p.Busy(1) {
			break
		}
		i, sum := p.Next()
		if want := sha256.Sum256(msgs[inLane[i]]); sum != want {
			t.Fatalf("message %d (%d bytes) in lane %d: %x, want %x", inLane[i], len(msgs[inLane[i]]), i, sum, want)
		}
		got++
	}
	if got != len(msgs) {
		t.Fatalf("%d digests for %d messages", got, len(msgs))
	}
}
