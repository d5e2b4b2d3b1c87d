package crypto_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/hbackup/hbackup/crypto"
)

// SealInto's pieces, joined, open like a Seal's output, however the
// pieces split the IV, the ciphertext and the MAC.
func TestSealIntoPieces(t *testing.T) {
	k := crypto.NewRandomKey()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 15, 16, 17, 1000, 100000} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(rng.Uint32())
		}
		for range 20 {
			sealed := make([]byte, n+crypto.Extension)
			var pieces [][]byte
			for rest := sealed; len(rest) > 0; {
				m := min(len(rest), 1+rng.IntN(2*len(rest)/3+8))
				pieces = append(pieces, rest[:m:m])
				rest = rest[m:]
			}
			if rng.IntN(2) == 0 {
				pieces = append([][]byte{{}}, pieces...) // an empty piece
			}
			k.SealInto(pieces, plain)
			got, err := k.Open(nil, sealed)
			if err != nil {
				t.Fatalf("%d bytes in %d pieces: %v", n, len(pieces), err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes in %d pieces: opened to different bytes", n, len(pieces))
			}
		}
	}
}
