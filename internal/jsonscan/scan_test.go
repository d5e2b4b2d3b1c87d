package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// skipAll reports whether the scanner accepts data as one JSON value.
func skipAll(data []byte) bool {
	s := Scanner{Data: data}
	s.WS()
	if !s.Skip(0) {
		return false
	}
	s.WS()
	return s.Pos == len(s.Data)
}

var samples = []string{
	`null`, `true`, `false`, `0`, `-0.5e+3`, `12`, `"a\"b\u00e9\ud83d\ude00"`,
	`{"a":[1,2,{"b":null}],"c":"d"}`, ` [ ] `, `{}`, `[1,]`, `{"a" 1}`, `01`, `1.`,
	`"\x"`, "\"\x01\"", `"\u12"`, `{"a":1,}`, `tru`, `[`, `"unterminated`, `-`, `1e`,
	strings.Repeat("[", MaxSkipDepth) + strings.Repeat("]", MaxSkipDepth),
}

// The scanner never accepts what encoding/json rejects, and accepts the
// ordinary valid values.
func TestSkipAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range samples {
		got, valid := skipAll([]byte(in)), json.Valid([]byte(in))
		if got && !valid {
			t.Errorf("%q accepted, but encoding/json rejects it", in)
		}
		if valid && !got && len(in) < 100 {
			t.Errorf("%q declined, but it is valid", in)
		}
	}
	deep := strings.Repeat("[", MaxSkipDepth+1) + strings.Repeat("]", MaxSkipDepth+1)
	if skipAll([]byte(deep)) {
		t.Error("nesting beyond MaxSkipDepth accepted")
	}
}

func TestStrAndUint(t *testing.T) {
	s := Scanner{Data: []byte(`"caf\u00e9 \ud83d\ude00\n"`)}
	got, ok := s.Str()
	if !ok || string(got) != "café 😀\n" {
		t.Errorf("Str = %q, %v", got, ok)
	}
	for in, want := range map[string]bool{"0": true, "4294967295": true, "4294967296": false, "01": false, "1.0": false, "": false} {
		s := Scanner{Data: []byte(in)}
		if _, ok := s.Uint(32); ok != want {
			t.Errorf("Uint(32) of %q: ok = %v, want %v", in, ok, want)
		}
	}
	if v, ok := (&Scanner{Data: []byte("18446744073709551615")}).Uint(64); !ok || v != 1<<64-1 {
		t.Errorf("Uint(64) of the largest uint64: %d, %v", v, ok)
	}
	if _, ok := (&Scanner{Data: []byte("18446744073709551616")}).Uint(64); ok {
		t.Error("Uint(64) accepted an overflow")
	}
}

func FuzzSkip(f *testing.F) {
	for _, in := range samples {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if skipAll(data) && !json.Valid(data) {
			t.Fatalf("%q accepted, but encoding/json rejects it", data)
		}
	})
}
