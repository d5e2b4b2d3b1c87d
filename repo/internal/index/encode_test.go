package index

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// checkEncode: Encode gives exactly encoding/json's bytes, and the fast
// path took the index when it should.
func checkEncode(t testing.TB, f *File) {
	t.Helper()
	want, err := encodeReflect(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode differs from encoding/json:\n got %s\nwant %s", got, want)
	}
	plain := true
	for _, p := range f.Packs {
		for _, b := range p.Blobs {
			plain = plain && plainWord(b.Type)
		}
	}
	if _, ok := encodeFast(f); ok != plain {
		t.Fatalf("fast path took it: %v, want %v", ok, plain)
	}
	// Packs encoded one by one and joined: the same bytes.
	var pieces [][]byte
	for i := range f.Packs {
		piece, ok := AppendPack([]byte("x"), &f.Packs[i])
		if ok != packIsPlain(&f.Packs[i]) {
			t.Fatalf("AppendPack took pack %d: %v", i, ok)
		}
		if !ok {
			if string(piece) != "x" {
				t.Fatalf("AppendPack declined but appended %q", piece)
			}
			return
		}
		pieces = append(pieces, piece[1:])
	}
	joined := AppendJoin([]byte("y"), pieces)
	if !bytes.Equal(joined[1:], want) || joined[0] != 'y' {
		t.Fatalf("AppendJoin differs from encoding/json:\n got %s\nwant y%s", joined, want)
	}
	if len(joined)-1 != JoinedSize(pieces) {
		t.Fatalf("JoinedSize %d, AppendJoin appended %d bytes", JoinedSize(pieces), len(joined)-1)
	}
}

func packIsPlain(p *Pack) bool {
	for _, b := range p.Blobs {
		if !plainWord(b.Type) {
			return false
		}
	}
	return true
}

func TestEncodeFastRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 500 {
		checkEncode(t, randFile(r))
	}
}

func TestEncodeFastCases(t *testing.T) {
	id := HexID{0: 0xab, 31: 0x01}
	for _, f := range []*File{
		{},
		{Packs: []Pack{}},
		{Packs: []Pack{{ID: id}}}, // blobs null
		{Packs: []Pack{{ID: id, Blobs: []Blob{}}}}, // blobs []
		{Packs: []Pack{{ID: id, Blobs: []Blob{{ID: id, Type: "tree", Offset: math.MaxUint32, Length: math.MaxUint32, UncompressedLength: math.MaxUint32}}}}},
		{Packs: []Pack{{ID: id, Blobs: []Blob{{ID: id, Type: "data", Length: 40}}}}}, // no uncompressed_length
		// Types JSON escapes or that are not plain words: encoding/json writes them.
		{Packs: []Pack{{ID: id, Blobs: []Blob{{ID: id, Type: "<tree>&\u2028\"\\"}}}}},
		{Packs: []Pack{{ID: id, Blobs: []Blob{{ID: id, Type: ""}, {ID: id, Type: "Data"}}}}},
		{Supersedes: []HexID{id}, Packs: []Pack{{ID: id, Blobs: []Blob{{ID: id, Type: "data"}}}}}, // supersedes is not written
	} {
		checkEncode(t, f)
	}
}

// FuzzEncode: for any pack and blob fields Encode matches encoding/json.
func FuzzEncode(f *testing.F) {
	f.Add([]byte{1, 2, 3}, "data", uint32(0), uint32(40), uint32(0), 3)
	f.Add([]byte{}, "tree", uint32(1)<<31, uint32(1)<<31, uint32(7), 0)
	f.Add([]byte{9}, "x\"y", uint32(5), uint32(6), uint32(7), 1)
	f.Fuzz(func(t *testing.T, seed []byte, typ string, off, length, ulen uint32, nblobs int) {
		var id HexID
		copy(id[:], seed)
		p := Pack{ID: id}
		if nblobs >= 0 {
			p.Blobs = []Blob{}
		}
		for i := range min(max(nblobs, 0), 8) {
			id[0] = byte(i)
			p.Blobs = append(p.Blobs, Blob{ID: id, Type: typ, Offset: off + uint32(i), Length: length, UncompressedLength: ulen})
		}
		checkEncode(t, &File{Packs: []Pack{p, p}})
	})
}

// BenchmarkEncode compares encoding/json ("reflect") with Encode
// ("fast") on an index file of 50 packs with 100 blobs each.
func BenchmarkEncode(b *testing.B) {
	f := benchFile()
	data, err := Encode(f)
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []struct {
		name string
		fn   func(*File) ([]byte, error)
	}{{"reflect", encodeReflect}, {"fast", Encode}} {
		b.Run(enc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.fn(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
