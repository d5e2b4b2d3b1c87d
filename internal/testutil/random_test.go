package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRandomBytesDeterministic(t *testing.T) {
	a, b := RandomBytes(42, 1000), RandomBytes(42, 1000)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different bytes")
	}
	if bytes.Equal(a, RandomBytes(43, 1000)) {
		t.Fatal("different seeds gave the same bytes")
	}
	if !bytes.Equal(RandomBytes(42, 10), a[:10]) {
		t.Fatal("a shorter request is not a prefix of a longer one")
	}
}

func TestWriteRandomFileMatchesRandomBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r")
	const size = 1<<20 + 77 // several io.Copy buffers
	WriteRandomFile(t, p, size, 7)
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, RandomBytes(7, size)) {
		t.Fatal("file content differs from RandomBytes")
	}
}
