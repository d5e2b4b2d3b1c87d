package chunk_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/hbackup/hbackup/chunk"
)

// fuzzPolynomials are irreducible degree-53 polynomials as restic picks
// them; the fuzzer may also derive an arbitrary one of degree 8 to 53.
var fuzzPolynomials = []chunk.Polynomial{
	fixturePol, 0x3DA3358B4DC173, 0x3e56cf696dd341, 0x35d48b2baccbf5, 0x2bbeac9fa5d95f,
}

// fuzzData returns size bytes determined by seed, of one of several kinds
// that cut in different ways.
func fuzzData(seed uint64, size int, kind uint8) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	src := rand.NewChaCha8(key)
	rnd := rand.New(src)
	data := make([]byte, size)
	switch kind % 4 {
	case 0: // random: content-defined cuts
		_, _ = src.Read(data)
	case 1: // random with zero runs: cuts at MinSize inside the runs
		_, _ = src.Read(data)
		for i := 0; i < size; {
			i += rnd.IntN(2 << 20)
			l := rnd.IntN(1 << (6 + rnd.IntN(18)))
			clear(data[min(i, size):min(i+l, size)])
			i += l
		}
	case 2: // a short period: few distinct windows, often MaxSize chunks
		period := 1 + rnd.IntN(3000)
		_, _ = src.Read(data[:min(period, size)])
		for i := period; i < size; i++ {
			data[i] = data[i-period]
		}
		if size > 0 && rnd.IntN(2) == 0 { // one matching window somewhere
			at := rnd.IntN(size)
			clear(data[at:min(at+64, size)])
		}
	default: // sparse: mostly zeros with a few random bytes
		for range rnd.IntN(64) {
			if size > 0 {
				data[rnd.IntN(size)] = byte(rnd.Uint32())
			}
		}
	}
	return data
}

// FuzzChunkerMatchesRestic compares every chunk with restic's chunker on
// generated inputs of up to 20 MiB, fed through various readers.
func FuzzChunkerMatchesRestic(f *testing.F) {
	f.Add(uint64(1), uint32(20<<20), uint8(0), uint8(0), uint8(0))
	f.Add(uint64(2), uint32(17<<20+12345), uint8(1), uint8(1), uint8(4))
	f.Add(uint64(3), uint32(3*chunk.MaxSize+1), uint8(2), uint8(2), uint8(1))
	f.Add(uint64(4), uint32(chunk.MinSize), uint8(3), uint8(0), uint8(3))
	f.Add(uint64(5), uint32(chunk.MinSize+1), uint8(4), uint8(3), uint8(2))
	f.Add(uint64(6), uint32(chunk.MaxSize), uint8(5), uint8(2), uint8(0))
	f.Add(uint64(7), uint32(100), uint8(0), uint8(0), uint8(0))
	f.Add(uint64(8), uint32(9<<20), uint8(200), uint8(1), uint8(4))
	f.Add(uint64(9), uint32(0), uint8(0), uint8(0), uint8(0))
	c := chunk.New(nil, fixturePol)
	buf := make([]byte, chunk.MaxSize)
	f.Fuzz(func(t *testing.T, seed uint64, size uint32, polSel, kind, readSel uint8) {
		data := fuzzData(seed, int(size%(20<<20+1)), kind)
		pol := fuzzPolynomials[int(polSel)%len(fuzzPolynomials)]
		if polSel >= 128 { // any polynomial of degree 8 to 53
			deg := 8 + int(seed%46)
			pol = chunk.Polynomial(1<<deg | (seed>>8|1)&(1<<deg-1))
		}
		want := resticChunks(t, data, pol)
		var rd io.Reader = bytes.NewReader(data)
		switch readSel % 5 {
		case 1:
			rd = iotest.OneByteReader(rd)
		case 2:
			rd = iotest.HalfReader(rd)
		case 3:
			rd = iotest.DataErrReader(rd)
		case 4:
			rd = &shortReader{rd, rand.New(rand.NewPCG(seed, 7))}
		}
		got, err := ourChunks(c, rd, pol, buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameChunks(want, got); err != nil {
			t.Fatalf("%d bytes of kind %d, polynomial %v: %v", len(data), kind%4, pol, err)
		}
	})
}
