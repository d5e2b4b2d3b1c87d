package index

import (
	"errors"
	"strings"
	"testing"
)

const sample = `{"packs":[{"id":"` + hex64a + `","blobs":[{"id":"` + hex64b + `","type":"data","offset":0,"length":42,"uncompressed_length":10},{"id":"` + hex64a + `","type":"tree","offset":42,"length":100}]}]}
`

const (
	hex64a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hex64b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestDecodeEncodeRoundTrip(t *testing.T) {
	f, err := Decode([]byte(sample), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Packs) != 1 || len(f.Packs[0].Blobs) != 2 || f.Packs[0].Blobs[0].UncompressedLength != 10 {
		t.Fatalf("decoded %+v", f)
	}
	out, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sample {
		t.Fatalf("re-encoded\n%s\nwant\n%s", out, sample)
	}
}

func TestDecodeVariants(t *testing.T) {
	// Legacy array format and supersedes, as old restic wrote them.
	legacy := `[{"id":"` + hex64a + `","blobs":[{"id":"` + hex64b + `","type":"data","offset":0,"length":40}]}]`
	f, err := Decode([]byte(legacy), false)
	if err != nil || len(f.Packs) != 1 {
		t.Fatalf("legacy: %+v %v", f, err)
	}
	sup := `{"supersedes":["` + hex64b + `"],"packs":[]}`
	if f, err := Decode([]byte(sup), false); err != nil || len(f.Supersedes) != 1 {
		t.Fatalf("supersedes: %+v %v", f, err)
	}
	if out, _ := Encode(f); strings.Contains(string(out), "supersedes") {
		t.Fatal("supersedes must not be written")
	}
	if out, _ := Encode(&File{}); string(out) != "{\"packs\":[]}\n" {
		t.Fatalf("empty index encodes as %q", out)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"compressed in v1": sample,
		"bad type":         strings.Replace(sample, `"tree"`, `"blub"`, 1),
		"short length":     strings.Replace(sample, `"length":100`, `"length":3`, 1),
		"bad id":           strings.Replace(sample, hex64b, "xyz", 1),
		"negative":         strings.Replace(sample, `"offset":42`, `"offset":-1`, 1),
		"not json":         "garbage",
	} {
		allow := name != "compressed in v1"
		if _, err := Decode([]byte(in), allow); !errors.Is(err, ErrInvalid) && err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"packs":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := Decode(data, true)
		if err != nil {
			return
		}
		out, err := Encode(idx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(out, true)
		if err != nil || len(again.Packs) != len(idx.Packs) {
			t.Fatalf("re-decoding failed: %v", err)
		}
	})
}
