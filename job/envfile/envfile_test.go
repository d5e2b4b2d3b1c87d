package envfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "# B2 credentials\n" +
		"\n" +
		"B2_ACCOUNT_ID=000abc\n" +
		"export B2_ACCOUNT_KEY = 'K0/ab#c$d'   # comment\n" +
		"  RESTIC_PASSWORD=\"a \\\"quoted\\\" \\$word\\n\"\r\n" +
		"EMPTY=\n" +
		"HASH=abc#def\n" +
		"SPACED=  two words  \n" +
		"B2_ACCOUNT_ID=000def\n"
	got, err := Parse(strings.NewReader(in), "b2.env")
	if err != nil {
		t.Fatal(err)
	}
	want := []Var{
		{"B2_ACCOUNT_ID", "000abc"},
		{"B2_ACCOUNT_KEY", "K0/ab#c$d"},
		{"RESTIC_PASSWORD", "a \"quoted\" $word\n"},
		{"EMPTY", ""},
		{"HASH", "abc#def"},
		{"SPACED", "two words"},
		{"B2_ACCOUNT_ID", "000def"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if s := want[0].String(); s != "B2_ACCOUNT_ID=000abc" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"JUST_A_NAME", `x.env:1: expected KEY=VALUE, got "JUST_A_NAME"`},
		{"\n\n1ABC=x", `x.env:3: invalid variable name "1ABC"`},
		{"MY-VAR=x", `x.env:1: invalid variable name "MY-VAR"`},
		{"=x", `x.env:1: invalid variable name ""`},
		{"A=\"open", `x.env:1: A: unterminated " quote`},
		{"A='open", `x.env:1: A: unterminated ' quote`},
		{"A='x' y", `x.env:1: A: unexpected "y" after the closing quote`},
	} {
		_, err := Parse(strings.NewReader(tc.in), "x.env")
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v, want %s", tc.in, err, tc.want)
		}
	}
	// Every bad line is reported, each matchable with errors.As.
	_, err := Parse(strings.NewReader("A\nB=1\nC"), "x.env")
	if err == nil || err.Error() != "x.env:1: expected KEY=VALUE, got \"A\"\nx.env:3: expected KEY=VALUE, got \"C\"" {
		t.Errorf("got %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 {
		t.Errorf("errors.As = %+v", e)
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b2.env")
	if err := os.WriteFile(path, []byte("B2_ACCOUNT_ID=id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars, err := ReadFile(path)
	if err != nil || len(vars) != 1 || vars[0] != (Var{"B2_ACCOUNT_ID", "id"}) {
		t.Errorf("ReadFile = %v, %v", vars, err)
	}
	if _, err := ReadFile(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
