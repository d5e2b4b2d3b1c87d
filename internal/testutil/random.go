package testutil

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// newRand returns a ChaCha8 stream determined by seed alone, so test data
// is identical across runs and machines.
func newRand(seed int64) *rand.ChaCha8 {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	copy(key[8:], "hbackup testutil random")
	return rand.NewChaCha8(key)
}

// RandomBytes returns n pseudo-random bytes determined by seed.
func RandomBytes(seed int64, n int) []byte {
	buf := make([]byte, n)
	_, _ = newRand(seed).Read(buf) // ChaCha8.Read never fails
	return buf
}

// WriteRandomFile creates (or truncates) path with size pseudo-random bytes
// determined by seed; the content equals RandomBytes(seed, size). The data is
// streamed, so large files do not need to fit in memory.
func WriteRandomFile(t testing.TB, path string, size int64, seed int64) {
	t.Helper()
	if err := writeRandomFile(path, size, seed); err != nil {
		t.Fatal(err)
	}
}

func writeRandomFile(path string, size int64, seed int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, newRand(seed), size); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
