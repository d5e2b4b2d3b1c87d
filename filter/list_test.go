package filter_test

import (
	"testing"

	"github.com/hbackup/hbackup/filter"
)

func mustParse(t testing.TB, patterns ...string) []filter.Pattern {
	t.Helper()
	ps, err := filter.ParsePatterns(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

var listCases = []struct {
	patterns      []string
	path          string
	match, childs bool
}{
	{nil, "/foo/bar/test.go", false, false},
	{[]string{"*.go"}, "/foo/bar/test.go", true, true},
	{[]string{"*.go"}, "/foo/bar", false, true},
	{[]string{"*.c"}, "/foo/bar/test.go", false, true},
	{[]string{"*.go", "*.c"}, "/foo/bar/test.go", true, true},
	{[]string{"*"}, "/foo/bar/test.go", true, true},
	{[]string{"x"}, "/foo/bar/test.go", false, true},
	{[]string{"?"}, "/foo/bar/test.go", false, true},
	{[]string{"?", "x"}, "/foo/bar/x", true, true},
	{[]string{"/*/*/bar/test.*"}, "/foo/bar/test.go", false, false},
	{[]string{"/*/*/bar/test.*"}, "/foo/bar/bar", false, true},
	{[]string{"/*/*/bar/test.*", "*.go"}, "/foo/bar/test.go", true, true},
	{[]string{"", "*.c"}, "/foo/bar/test.go", false, true},
	{[]string{"/foo/bar/*"}, "/foo", false, true},
	{[]string{"/foo/**/test.c"}, "/foo/bar/foo/bar/test.c", true, true},
	{[]string{"/foo/*/test.c"}, "/foo/bar/foo/bar/test.c", false, false},
	// negation: the last matching pattern decides
	{[]string{"*.go", "!main.go"}, "/src/main.go", false, false},
	{[]string{"*.go", "!main.go"}, "/src/util.go", true, true},
	{[]string{"*.go", "!main.go", "/src/*"}, "/src/main.go", true, true},
	{[]string{"!main.go", "*.go"}, "/src/main.go", true, true}, // "!" only cancels earlier matches
	{[]string{"!*.go"}, "/src/main.go", false, false},
	{[]string{"/home/user/*", "!/home/user/Documents"}, "/home/user/Documents", false, false},
	{[]string{"/home/user/*", "!/home/user/Documents"}, "/home/user/Documents/cv.odt", false, false},
	{[]string{"/home/user/*", "!/home/user/Documents"}, "/home/user/Downloads", true, true},
	{[]string{"/home/user/*", "!/home/user/Documents", "*~"}, "/home/user/Documents/cv.odt~", true, true},
	// a non-matching negation keeps an earlier child match
	{[]string{"/data/keep", "!/data/other"}, "/data", false, true},
	{[]string{"/data", "!/data/tmp"}, "/data/tmp/x", false, false},
	{[]string{"/data", "!/data/tmp"}, "/data/x", true, true},
	{[]string{"*"}, "", false, false},
}

func TestMatchList(t *testing.T) {
	for _, c := range listCases {
		ps := mustParse(t, c.patterns...)
		if got := filter.Match(ps, c.path); got != c.match {
			t.Errorf("Match(%q, %q) = %v, want %v", c.patterns, c.path, got, c.match)
		}
		m, ch := filter.MatchWithChild(ps, c.path)
		if m != c.match || ch != c.childs {
			t.Errorf("MatchWithChild(%q, %q) = %v, %v, want %v, %v", c.patterns, c.path, m, ch, c.match, c.childs)
		}
	}
}

// TestDocumentedExcludeFile checks the exclude file example of restic's
// "Excluding Files" section.
func TestDocumentedExcludeFile(t *testing.T) {
	ps := mustParse(t, "*.c", "*.go", "foo/**/bar")
	for path, want := range map[string]bool{
		"/home/u/work/a.c":                true,
		"/home/u/work/b.go":               true,
		"/home/u/work/foo/x/y/z/bar":      true,
		"/home/u/work/foo/x/bar/file.txt": true,
		"/home/u/work/foo/bar":            true,
		"/home/u/work/foo/baz":            false,
		"/home/u/work/bar":                false,
		"/home/u/work/readme.md":          false,
	} {
		if got := filter.Match(ps, path); got != want {
			t.Errorf("Match(%q) = %v, want %v", path, got, want)
		}
	}
}
