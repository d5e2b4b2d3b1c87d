package chunk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/internal/testutil"
)

// A polynomial restic 0.19.1 chose for the fixture repository.
const fixturePol = chunk.Polynomial(0x239fbb629babf1)

func TestPolynomialJSON(t *testing.T) {
	b, err := json.Marshal(fixturePol)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"239fbb629babf1"` {
		t.Fatalf("got %s", b)
	}
	var p chunk.Polynomial
	if err := json.Unmarshal(b, &p); err != nil || p != fixturePol {
		t.Fatalf("round trip: %x %v", uint64(p), err)
	}
	if err := fixturePol.Valid(); err != nil {
		t.Fatal(err)
	}
	if err := chunk.Polynomial(0x239fbb629babf0).Valid(); err == nil {
		t.Fatal("reducible polynomial accepted")
	}
}

func TestRandomPolynomial(t *testing.T) {
	p, err := chunk.RandomPolynomial()
	if err != nil {
		t.Fatal(err)
	}
	if p.Deg() != 53 || p.Valid() != nil {
		t.Fatalf("random polynomial %v has degree %d", p, p.Deg())
	}
}

func split(t *testing.T, data []byte, pol chunk.Polynomial) [][]byte {
	t.Helper()
	c := chunk.New(bytes.NewReader(data), pol)
	buf := make([]byte, chunk.MaxSize)
	var out [][]byte
	for {
		b, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), b...))
	}
}

func TestChunkSizesAndReassembly(t *testing.T) {
	data := testutil.RandomBytes(42, 20<<20)
	chunks := split(t, data, fixturePol)
	if len(chunks) < 5 {
		t.Fatalf("only %d chunks for 20 MiB", len(chunks))
	}
	var joined []byte
	for i, c := range chunks {
		if len(c) > chunk.MaxSize || (i < len(chunks)-1 && len(c) < chunk.MinSize) {
			t.Fatalf("chunk %d has %d bytes", i, len(c))
		}
		joined = append(joined, c...)
	}
	if !bytes.Equal(joined, data) {
		t.Fatal("chunks do not reassemble the input")
	}
	// Content-defined: a prefix insertion changes only the first chunks.
	shifted := split(t, append([]byte("inserted bytes"), data...), fixturePol)
	same := 0
	set := map[string]bool{}
	for _, c := range chunks {
		set[string(c)] = true
	}
	for _, c := range shifted {
		if set[string(c)] {
			same++
		}
	}
	if same < len(chunks)-2 {
		t.Fatalf("only %d of %d chunks survived a prefix insertion", same, len(chunks))
	}
}

func TestSmallInputIsOneChunk(t *testing.T) {
	if n := len(split(t, testutil.RandomBytes(1, chunk.MinSize-1), fixturePol)); n != 1 {
		t.Fatalf("%d chunks", n)
	}
	if n := len(split(t, nil, fixturePol)); n != 0 {
		t.Fatalf("empty input gave %d chunks", n)
	}
	// An all-zero window has digest 0, which matches the split mask, so
	// zeros are cut at MinSize.
	for i, c := range split(t, make([]byte, 3*chunk.MaxSize), fixturePol) {
		if len(c) != chunk.MinSize {
			t.Fatalf("zero chunk %d has %d bytes", i, len(c))
		}
	}
}

func BenchmarkChunker(b *testing.B) {
	data := testutil.RandomBytes(1, 32<<20)
	buf := make([]byte, chunk.MaxSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c := chunk.New(bytes.NewReader(data), fixturePol)
		for {
			if _, err := c.Next(buf); err != nil {
				break
			}
		}
	}
}
