package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func sampleBlobs() []Blob {
	return []Blob{
		{ID: [32]byte{1}, Length: 42},
		{Tree: true, ID: [32]byte{2}, Length: 100},
		{ID: [32]byte{3}, Length: 60, UncompressedLength: 1000},
		{Tree: true, ID: [32]byte{4}, Length: 33, UncompressedLength: 1},
	}
}

func TestEncodeDecode(t *testing.T) {
	var hdr []byte
	for _, b := range sampleBlobs() {
		hdr = AppendEntry(hdr, b)
	}
	if len(hdr) != 2*PlainEntrySize+2*CompressedEntrySize {
		t.Fatalf("header has %d bytes", len(hdr))
	}
	// Type bytes as restic defines them: 0 data, 1 tree, 2/3 compressed.
	if hdr[0] != 0 || hdr[PlainEntrySize] != 1 || hdr[2*PlainEntrySize] != 2 || hdr[2*PlainEntrySize+CompressedEntrySize] != 3 {
		t.Fatalf("type bytes wrong: % x", hdr)
	}
	if binary.LittleEndian.Uint32(hdr[1:]) != 42 {
		t.Fatal("length not little-endian")
	}
	got, err := Decode(hdr, true)
	if err != nil {
		t.Fatal(err)
	}
	var off uint32
	for i, want := range sampleBlobs() {
		want.Offset = off
		off += want.Length
		if got[i] != want {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want)
		}
	}
	if _, err := Decode(hdr, false); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("compressed entries in a v1 repository: %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	valid := AppendEntry(nil, Blob{ID: [32]byte{1}, Length: 42})
	for name, hdr := range map[string][]byte{
		"truncated":         valid[:len(valid)-1],
		"bad type":          append([]byte{7}, valid[1:]...),
		"short blob":        AppendEntry(nil, Blob{ID: [32]byte{1}, Length: 31}),
		"zero uncompressed": append([]byte{2, 42, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 32)...),
	} {
		if _, err := Decode(hdr, true); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestHeaderLength(t *testing.T) {
	le := func(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }
	if n, err := HeaderLength(le(69), 200); err != nil || n != 69 {
		t.Fatalf("valid: %d %v", n, err)
	}
	for name, tc := range map[string]struct {
		trailer []byte
		size    int64
	}{
		"zero":          {le(0), 200},
		"below 32":      {le(31), 200},
		"beyond file":   {le(197), 200},
		"beyond max":    {le(MaxHeaderSize), MaxHeaderSize * 2},
		"short trailer": {[]byte{1, 2}, 200},
	} {
		if _, err := HeaderLength(tc.trailer, tc.size); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var hdr []byte
	for _, b := range sampleBlobs() {
		hdr = AppendEntry(hdr, b)
	}
	f.Add(hdr, true)
	f.Add(hdr[:40], true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, compressed bool) {
		blobs, err := Decode(data, compressed)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		var again []byte
		for _, b := range blobs {
			again = AppendEntry(again, b)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs")
		}
	})
}
