package sha256x2

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// writeInPieces writes a and b into two Digests in pieces of random
// lengths, together with Write2 or alone with Write, as chosen by rng.
func writeInPieces(rng *rand.Rand, a, b []byte) (da, db [Size]byte) {
	var ha, hb Digest
	for len(a) > 0 || len(b) > 0 {
		na, nb := min(len(a), rng.IntN(300)), min(len(b), rng.IntN(300))
		switch rng.IntN(4) {
		case 0:
			ha.Write(a[:na])
			nb = 0
		case 1:
			hb.Write(b[:nb])
			na = 0
		default:
			Write2(&ha, a[:na], &hb, b[:nb])
		}
		a, b = a[na:], b[nb:]
	}
	return ha.Sum(), hb.Sum()
}

func TestDigestMatchesSHA256(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for la := 0; la <= 300; la++ {
		lb := rng.IntN(len(data) / 2)
		a, b := data[:la], data[len(data)-lb:]
		da, db := writeInPieces(rng, a, b)
		if want := sha256.Sum256(a); da != want {
			t.Fatalf("Digest a (len %d) = %x, want %x", la, da, want)
		}
		if want := sha256.Sum256(b); db != want {
			t.Fatalf("Digest b (len %d) = %x, want %x", lb, db, want)
		}
	}
	// Sum leaves the Digest as it was: writing on after it gives the
	// digest of the whole message.
	var d Digest
	d.Write(data[:100])
	if got, want := d.Sum(), sha256.Sum256(data[:100]); got != want {
		t.Fatalf("Sum of the first 100 bytes = %x, want %x", got, want)
	}
	d.Write(data[100:1000])
	if got, want := d.Sum(), sha256.Sum256(data[:1000]); got != want {
		t.Fatalf("Sum after writing on = %x, want %x", got, want)
	}
	var empty Digest
	if got, want := empty.Sum(), sha256.Sum256(nil); got != want {
		t.Fatalf("Sum of nothing = %x, want %x", got, want)
	}
}

func FuzzWrite2(f *testing.F) {
	f.Add([]byte("abc"), []byte(""), uint64(1))
	f.Add(make([]byte, 200), make([]byte, 130), uint64(7))
	f.Fuzz(func(t *testing.T, a, b []byte, seed uint64) {
		da, db := writeInPieces(rand.New(rand.NewPCG(seed, 0)), a, b)
		if da != sha256.Sum256(a) || db != sha256.Sum256(b) {
			t.Fatalf("Digest of %x, %x (pieces seed %d) differs from crypto/sha256", a, b, seed)
		}
	})
}
