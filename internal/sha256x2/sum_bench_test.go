package sha256x2

import (
	"crypto/sha256"
	"testing"
)

// Two 1 MiB messages, about the size of a backup chunk.
const benchSize = 1 << 20

func BenchmarkSum2(b *testing.B) {
	x, y := make([]byte, benchSize), make([]byte, benchSize)
	b.SetBytes(2 * benchSize)
	for b.Loop() {
		Sum2(x, y)
	}
}

func BenchmarkCryptoSHA256Twice(b *testing.B) {
	x, y := make([]byte, benchSize), make([]byte, benchSize)
	b.SetBytes(2 * benchSize)
	for b.Loop() {
		sha256.Sum256(x)
		sha256.Sum256(y)
	}
}

func BenchmarkSum(b *testing.B) {
	x := make([]byte, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		Sum(x)
	}
}
