package crypto

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// TestScryptMatchesReference compares the parallel implementation with
// golang.org/x/crypto/scrypt and with RFC 7914's test vectors.
func TestScryptMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		pw, salt string
		n, r, p  int
	}{
		{"", "", 16, 1, 1},
		{"password", "NaCl", 1024, 8, 16},
		{"geheim", "salt", 2, 1, 1},
		{"geheim", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1024, 8, 7},
		{"x", "y", 256, 3, 5},
		{"long password with ünïcode", "s", 64, 2, 3},
	} {
		want, err := scrypt.Key([]byte(tc.pw), []byte(tc.salt), tc.n, tc.r, tc.p, 64)
		if err != nil {
			t.Fatal(err)
		}
		// 1 worker keeps all of V; more share it, each keeping every
		// k-th block and recomputing the rest (k does not divide N for 3).
		for _, workers := range []int{1, 2, 3, 4} {
			got, err := scryptKeyOn([]byte(tc.pw), []byte(tc.salt), tc.n, tc.r, tc.p, 64, workers)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("N=%d r=%d p=%d on %d workers: differs from x/crypto/scrypt", tc.n, tc.r, tc.p, workers)
			}
		}
	}
	// RFC 7914, section 12, second vector.
	got, _ := scryptKey([]byte("password"), []byte("NaCl"), 1024, 8, 16, 64)
	want, _ := hex.DecodeString("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
	if !bytes.Equal(got, want) {
		t.Errorf("RFC 7914 vector: got %x", got)
	}
	if _, err := scryptKey([]byte("x"), nil, 1000, 8, 1, 64); err == nil {
		t.Error("N not a power of two accepted")
	}
}

func FuzzScrypt(f *testing.F) {
	f.Add([]byte("pw"), []byte("salt"), uint8(4), uint8(2), uint8(3), uint8(1))
	f.Add([]byte("pw"), []byte("salt"), uint8(1), uint8(1), uint8(7), uint8(3))
	f.Fuzz(func(t *testing.T, pw, salt []byte, logN, r, p, workers uint8) {
		n := 1 << (logN%8 + 1)
		ri, pi := int(r%4)+1, int(p%8)+1
		got, err := scryptKeyOn(pw, salt, n, ri, pi, 64, int(workers%5)+1)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := scrypt.Key(pw, salt, n, ri, pi, 64)
		if !bytes.Equal(got, want) {
			t.Fatalf("N=%d r=%d p=%d differs", n, ri, pi)
		}
	})
}

func BenchmarkScryptResticParams(b *testing.B) {
	salt := make([]byte, 64)
	for b.Loop() {
		if _, err := scryptKey([]byte("geheim"), salt, 32768, 8, 7, 64); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScryptRestic is what restic 0.14's init picks on the CI
// machine: N=2^15, r=8, p=5..7 (p=7 here).
func BenchmarkScryptRestic(b *testing.B) {
	salt := make([]byte, 64)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				if _, err := scryptKeyOn([]byte("geheim"), salt, 32768, 8, 7, 64, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScryptXCrypto(b *testing.B) {
	salt := make([]byte, 64)
	for b.Loop() {
		if _, err := scrypt.Key([]byte("geheim"), salt, 32768, 8, 7, 64); err != nil {
			b.Fatal(err)
		}
	}
}
