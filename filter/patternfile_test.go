package filter_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/filter"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestReadPatternFile(t *testing.T) {
	t.Setenv("HB_FILTER_USER", "bob")
	t.Setenv("HB_FILTER_EMPTY", "")
	content := "# exclude go-files\n" +
		"*.go\n" +
		"\n" +
		"   \t\n" +
		"  # indented comment\n" +
		"# exclude foo/x/y/z/bar foo/x/bar foo/bar\n" +
		"foo/**/bar\n" +
		"  foo bar star.txt  \r\n" +
		"/home/$HB_FILTER_USER/foo\n" +
		"/home/${HB_FILTER_USER}x/foo\n" +
		"price$$\n" +
		"a$HB_FILTER_UNSET_VARIABLE/b\n" +
		"~/cache\n" +
		"!$HB_FILTER_USER/keep\n" +
		"x#not-a-comment\n" +
		"last-line-without-newline"
	name := writeFile(t, filepath.Join(t.TempDir(), "excludes.txt"), []byte(content))
	got, err := filter.ReadPatternFile(name)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"*.go",
		"foo/**/bar",
		"foo bar star.txt",
		"/home/bob/foo",
		"/home/bobx/foo",
		"price$",
		"a/b",
		"~/cache", // tilde is not expanded
		"!bob/keep",
		"x#not-a-comment",
		"last-line-without-newline",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestReadPatternFileEncodings(t *testing.T) {
	dir := t.TempDir()
	want := []string{"*.go", "/home/ü"}
	utf16 := func(bigEndian bool) []byte {
		var b []byte
		if bigEndian {
			b = []byte{0xfe, 0xff}
		} else {
			b = []byte{0xff, 0xfe}
		}
		for _, r := range "*.go\r\n/home/ü\r\n" {
			hi, lo := byte(r>>8), byte(r)
			if bigEndian {
				b = append(b, hi, lo)
			} else {
				b = append(b, lo, hi)
			}
		}
		return b
	}
	for name, data := range map[string][]byte{
		"utf8":     []byte("*.go\n/home/ü\n"),
		"utf8-bom": append([]byte{0xef, 0xbb, 0xbf}, "*.go\n/home/ü\n"...),
		"utf16le":  utf16(false),
		"utf16be":  utf16(true),
	} {
		got, err := filter.ReadPatternFile(writeFile(t, filepath.Join(dir, name), data))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestReadPatternFileMissing(t *testing.T) {
	_, err := filter.ReadPatternFile(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want a wrapped fs.ErrNotExist", err)
	}
}
