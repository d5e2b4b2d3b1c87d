package index

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// checkFast compares decodeFast with decodeReflect and reports whether the
// fast path handled data; if it did, the results must be identical.
func checkFast(t testing.TB, data []byte) bool {
	t.Helper()
	fast, ok := decodeFast(data)
	ref, err := decodeReflect(data)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast path decoded what encoding/json rejects (%v):\n%q", err, data)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("results differ for\n%q\nfast: %#v\nref:  %#v", data, fast, ref)
	}
	return true
}

// checkDecode checks Decode against the reference decoding plus checks,
// errors included, for both repository versions.
func checkDecode(t testing.TB, data []byte) {
	t.Helper()
	for _, allow := range []bool{false, true} {
		got, err := Decode(data, allow)
		want, werr := decodeReflect(data)
		if werr == nil {
			if werr = want.check(allow); werr != nil {
				want = nil
			}
		}
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("Decode error %v, reference %v for\n%q", err, werr, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode differs from reference for\n%q", data)
		}
	}
}

func randHexID(r *rand.Rand) HexID {
	var id HexID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

func randFile(r *rand.Rand) *File {
	f := &File{}
	if r.IntN(4) == 0 {
		f.Supersedes = make([]HexID, r.IntN(3))
		for i := range f.Supersedes {
			f.Supersedes[i] = randHexID(r)
		}
	}
	for range r.IntN(6) {
		p := Pack{ID: randHexID(r)}
		if r.IntN(10) != 0 {
			p.Blobs = []Blob{}
		}
		for range r.IntN(20) {
			b := Blob{ID: randHexID(r), Type: []string{"data", "tree"}[r.IntN(2)],
				Offset: r.Uint32(), Length: 32 + r.Uint32()>>r.IntN(32)}
			if r.IntN(2) == 0 {
				b.UncompressedLength = r.Uint32() >> r.IntN(32)
			}
			if r.IntN(50) == 0 {
				b.Type, b.Length = "other", uint32(r.IntN(40)) // rejected by check
			}
			p.Blobs = append(p.Blobs, b)
		}
		f.Packs = append(f.Packs, p)
	}
	return f
}

// encodings returns the forms an index can take: restic's current one,
// one with supersedes, the legacy bare array, and spaced-out variants.
func encodings(t testing.TB, f *File) [][]byte {
	cur, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	withSup, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := json.Marshal(f.Packs)
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, withSup, " \r", "\t "); err != nil {
		t.Fatal(err)
	}
	return [][]byte{cur, withSup, legacy, indented.Bytes(), append([]byte("\n "), legacy...)}
}

// TestDecodeFastRandom: every index restic writes must take the fast path
// and decode exactly as encoding/json decodes it.
func TestDecodeFastRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		for _, data := range encodings(t, randFile(r)) {
			if !checkFast(t, data) {
				t.Fatalf("fast path declined\n%q", data)
			}
			checkDecode(t, data)
		}
	}
}

// TestDecodeFastCases covers hand-written inputs: which the fast path
// takes, and that Decode agrees with the reference on all of them.
func TestDecodeFastCases(t *testing.T) {
	blob := `{"id":"` + hex64b + `","type":"data","offset":0,"length":42}`
	handled := []string{
		sample, `[]`, `{}`, `null`, ` [ ] `, `{"packs":[]}`, `{"packs":null}`, `{"supersedes":[],"packs":null}`,
		`{"supersedes":null}`, `[{"id":"` + hex64a + `"}]`, `[{"id":"` + hex64a + `","blobs":null}]`,
		`[{"id":"` + hex64a + `","blobs":[]}]`, `[{"blobs":[{}]}]`, `[{"id":"` + strings.ToUpper(hex64a) + `","blobs":[` + blob + `]}]`,
		`{"x":{"packs":[1,"a",true,null,-1.5e-3]},"packs":[{"y":[],"blobs":[{"z":{},"type":"tree","offset":4294967295,"length":null,"uncompressed_length":null}]}]}`,
		`[{"blobs":[{"type":"é","length":32},{"type":null,"length":32}]}]`,
	}
	declined := []string{
		``, `x`, `"s"`, `1`, `[null]`, `[{"blobs":[null]}]`, `{"packs":{}}`, `{"Packs":[]}`, `{"packs":[],"packs":[]}`,
		`[{"ID":"` + hex64a + `"}]`, `[{"id":null}]`, `[{"id":"` + hex64a[1:] + `"}]`, `[{"id":"\u0061` + hex64a[1:] + `"}]`,
		`[{"blobs":[{"type":"d\u0061ta"}]}]`, `[{"blobs":[{"type":"\u00e9","length":32}]}]`, `[{"blobs":[{"type":"` + "\xff" + `"}]}]`, `[{"blobs":[{"offset":-1}]}]`,
		`[{"blobs":[{"offset":1.0}]}]`, `[{"blobs":[{"offset":4294967296}]}]`, `[{"blobs":[{"offset":"1"}]}]`,
		`[{"blobs":[{"offset":1,"offset":2}]}]`, `[{"blobs":[{"type":1}]}]`, `{"supersedes":[null]}`, `[]]`, `[] x`,
		`{"packs":[]`, `{"x":[1,]}`, `{"x":01}`, `{"x":"\q"}`, `{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
	}
	for _, s := range handled {
		if !checkFast(t, []byte(s)) {
			t.Errorf("fast path declined %s", s)
		}
		checkDecode(t, []byte(s))
	}
	for _, s := range declined {
		if _, ok := decodeFast([]byte(s)); ok {
			t.Errorf("fast path took %s", s)
		}
		checkDecode(t, []byte(s))
	}
}

// FuzzDecodeFast: on any input the fast path declines or gives what
// encoding/json gives, and Decode agrees with the reference.
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`[{"id":"` + hex64a + `","blobs":[{"id":"` + hex64b + `","type":"tree","offset":1,"length":40}]}]`))
	f.Add([]byte(`{"supersedes":["` + hex64b + `"],"packs":[],"x":{"y":[null,true,1e5,"\u00e9"]}}`))
	r := rand.New(rand.NewPCG(7, 8))
	for range 5 {
		for _, data := range encodings(f, randFile(r)) {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
		checkDecode(t, data)
	})
}

// benchFile is the index the benchmarks encode and decode: 50 packs of
// 100 data blobs, as a backup of large files writes them.
func benchFile() *File {
	r := rand.New(rand.NewPCG(9, 10))
	f := &File{}
	for range 50 {
		p := Pack{ID: randHexID(r)}
		for i := range 100 {
			p.Blobs = append(p.Blobs, Blob{ID: randHexID(r), Type: "data", Offset: uint32(i) * 70000,
				Length: 40000 + r.Uint32N(30000), UncompressedLength: 60000 + r.Uint32N(30000)})
		}
		f.Packs = append(f.Packs, p)
	}
	return f
}

// BenchmarkDecode compares encoding/json ("reflect") with Decode ("fast")
// on an index file of 50 packs with 100 blobs each.
func BenchmarkDecode(b *testing.B) {
	f := benchFile()
	data, err := Encode(f)
	if err != nil {
		b.Fatal(err)
	}
	if _, ok := decodeFast(data); !ok {
		b.Fatal("fast path declined")
	}
	for _, dec := range []struct {
		name string
		fn   func([]byte) (*File, error)
	}{
		{"reflect", func(d []byte) (*File, error) {
			f, err := decodeReflect(d)
			if err == nil {
				err = f.check(true)
			}
			return f, err
		}},
		{"fast", func(d []byte) (*File, error) { return Decode(d, true) }},
	} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec.fn(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
