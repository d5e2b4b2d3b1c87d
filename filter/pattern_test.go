package filter_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/hbackup/hbackup/filter"
)

// matchCases are single-pattern cases. Most come from restic's documented
// examples and from the behaviour its own filter tests pin down.
var matchCases = []struct {
	pattern, path string
	want          bool
}{
	// names at any depth
	{"*.go", "/foo/bar/test.go", true},
	{"*.c", "/foo/bar/test.go", false},
	{"*", "/foo/bar/test.go", true},
	{"**", "/foo/bar/test.go", true},
	{"foo*", "/foo/bar/test.go", true},
	{"bar*", "/foo/bar/test.go", true},
	{"/bar*", "/foo/bar/test.go", false},
	{"bar/*", "/foo/bar/test.go", true},
	{"baz/*", "/foo/bar/test.go", false},
	{"bar/test.go", "/foo/bar/test.go", true},
	{"bar/*.go", "/foo/bar/test.go", true},
	{"ba*/*.go", "/foo/bar/test.go", true},
	{"bb*/*.go", "/foo/bar/test.go", false},
	{"test.*", "/foo/bar/test.go", true},
	{"tesT.*", "/foo/bar/test.go", false}, // case-sensitive
	{"bar/*", "/foo/bar/baz", true},
	{"bar", "/foo/bar", true},
	{"bar", "/foo/bar/baz", true},
	{"bar", "/foo/bar/test.go", true},
	{"sdk", "/foo/bar/sdk", true},
	{"sdk", "/foo/bar/sdk/test/sdk_foo.go", true},
	{"sdk/*/cpp/*/*vars*.html", "/usr/share/doc/libreoffice/sdk/docs/cpp/ref/a00517.html", false},
	// whole components only (040_backup.rst)
	{"foo", "/dir1/foo/dir2/file", true},
	{"foo", "/dir/foo", true},
	{"foo", "/dir/foobar", false},
	{"foo", "barfoo", false},
	{"b*ash", "/bin/bash", true},
	{"b*ash", "/bin/ash", false},
	// anchoring and trailing slashes
	{"/bin", "/bin/bash", true},
	{"/bin", "/usr/bin/restic", false},
	{"/foo/bar", "/foo/bar", true},
	{"/foo/bar/", "/foo/bar", true},
	{"/foo/bar", "/foo/baz", false},
	{"/foo/bar", "/foo/baz/", false},
	{"/foo///bar", "/foo/bar", true},
	{"/foo/../bar", "/foo/bar", false},
	{"/foo/../bar", "/bar", true},
	{"/foo", "/foo/baz", true},
	{"/foo/", "/foo/baz", true},
	{"/foo/*", "/foo", false},
	{"/foo/*", "/foo/baz", true},
	{"/foo/*test.*", "/foo/bar/test.go", false},
	{"/foo/*/test.*", "/foo/bar/test.go", true},
	{"/foo/*/bar/test.*", "/foo/bar/test.go", false},
	{"/*/*/bar/test.*", "/foo/bar/test.go", false},
	{"/*/*/bar/test.*", "/foo/bar/baz/test.go", false},
	{"/*/*/baz/test.*", "/foo/bar/baz/test.go", true},
	{"/*/foo/bar/test.*", "/foo/bar/baz/test.go", false},
	{"/foo/bar/test.*", "bar/baz/test.go", false},
	{"/x/y/bar/baz/test.*", "bar/baz/test.go", false},
	{"/bin", "bin/bash", false}, // anchored pattern, relative path
	{"/", "/", true},            // restic treats "/" like "/**"
	{"/", "/etc/passwd", true},
	{"/", "etc/passwd", false},
	// relative paths
	{"baz/test.*", "bar/baz/test.go", true},
	{"baz/tesT.*", "bar/baz/test.go", false},
	{"test.go", "bar/baz/test.go", true},
	{"*.go", "bar/baz/test.go", true},
	{"*.c", "bar/baz/test.go", false},
	// the root is not a component a relative pattern can match
	{"*/foo", "/foo", false},
	{"*/foo", "/x/foo", true},
	// "**"
	{"foo/**/bar/*.go", "/home/user/foo/work/special/project/bar/test.go", true},
	{"foo/**/bar/*.go", "/home/user/foo/bar/test.go", true},
	{"foo/**/bar/*.go", "x/foo/bar/test.go", true},
	{"foo/**/bar/*.go", "foo/bar/test.go", true},
	{"foo/**/bar/*.go", "foo/bar/baz/bar/test.go", true},
	{"foo/**/bar/*.go", "/home/user/foo/test.c", false},
	{"foo/**/bar/*.go", "bar/foo/main.go", false},
	{"foo/**/bar/*.go", "/foo/bar/main.go", true},
	{"foo/**/bar/*.go", "bar/main.go", false},
	{"foo/**/bar", "/home/user/foo/x/y/bar", true},
	{"foo/**/bar", "/home/user/foo/x/y/bar/main.go", true},
	{"foo/**/bar", "/dir1/foo/dir2/bar/file", true},
	{"foo/**/bar", "/foo/bar/file", true},
	{"foo/**/bar", "/tmp/foo/bar", true},
	{"foo/**/bar", "/tmp/foo/baz", false},
	{"foo/**/bar/**/x", "/home/user/foo/bar/x", true},
	{"foo/**/bar/**/x", "/home/user/foo/blaaa/blaz/bar/shared/work/x", true},
	{"user/**/important*", "/home/user/work/x/y/hidden/x", false},
	{"user/**/hidden*/**/c", "/home/user/work/x/y/hidden/z/a/b/c", true},
	{"/foo/**", "/foo", true},
	{"/foo/**", "/bar", false},
	{"/**/bar", "/bar", true},
	{"/**/bar", "/a/b/bar/c", true},
	{"**", "foo", true},
	{"/**", "/", true},
	// a later "**" matching nothing (documented; see README of this change)
	{"/srv/**/data/**/*.key", "/srv/app/data/secret.key", true},
	{"/home/**/cache/**", "/home/user/cache", true},
	// star shapes that skip filepath.Match
	{"*oo*", "/foo", true},
	{"*oo*", "/bar", false},
	{"***", "/x", true},
	{"fo*", "/foo", true},
	{"fo*", "/f", false},
	{"*", "/", true}, // "/" has one empty component
	{"core.[0-9]*", "/core.123", true},
	{"core.[0-9]*", "/cores", false},
	// a "**" inside a component is an ordinary "*"
	{"a**b", "/x/aXYZb", true},
	{"a**b", "/a/x/b", false},
	// character classes and "?"
	{"/home/[uU]ser/?.go", "/home/user/F.go", true},
	{"/home/[uU]ser/?.go", "/home/User/F.go", true},
	{"/home/[uU]ser/?.go", "/home/user/FF.go", false},
	{"*.[ch]", "/src/x.h", true},
	{"*.[ch]", "/src/x.o", false},
	{"file[0-9]", "/d/file7", true},
	{"file[^0-9]", "/d/file7", false},
	// filepath.Match negates a class with "^" only; "!" is a member
	{"file[!0-9]", "/d/fileX", false},
	{"file[!0-9]", "/d/file!", true},
	{`\*`, "/d/*", true},
	{`\*`, "/d/x", false},
	// Windows-looking patterns are plain relative patterns on Unix
	{"c:/foo/*test.*", "c:/foo/bar/test.go", false},
	{"c:/foo", "c:/foo/bar", true},
	{"c:/foo/", "c:/foo/bar", true},
	{"c:/foo/*/test.*", "c:/foo/bar/test.go", true},
	{"c:/foo/*/bar/test.*", "c:/foo/bar/test.go", false},
	// spaces are literal
	{"foo bar star.txt", "/x/foo bar star.txt", true},
	// negation does not change what the pattern itself matches
	{"!*.go", "/x/a.go", true},
	// empty path
	{"*", "", false},
}

func TestPatternMatch(t *testing.T) {
	for _, c := range matchCases {
		p, err := filter.ParsePattern(c.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", c.pattern, err)
		}
		if got := p.Match(c.path); got != c.want {
			t.Errorf("ParsePattern(%q).Match(%q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
		// A match of path means children may match too.
		if c.want && !p.ChildMatch(c.path) {
			t.Errorf("ParsePattern(%q).ChildMatch(%q) = false for a matching path", c.pattern, c.path)
		}
	}
}

var childMatchCases = []struct {
	pattern, path string
	want          bool
}{
	{"foo/bar", "/foo", true},
	{"baz/bar", "/foo", true},
	{"foo", "/foo/bar", true},
	{"bar", "/foo", true},
	{"baz", "/foo/bar", true},
	{"*", "/foo", true},
	{"*", "/foo/bar", true},
	{"/foo/bar", "/foo", true},
	{"/foo/bar/baz", "/foo", true},
	{"/foo/bar/baz", "/foo/bar", true},
	{"/foo/bar/baz", "/foo/baz", false},
	{"/foo/**/baz", "/foo/bar/baz", true},
	{"/foo/**/baz", "/foo/bar/baz/blah", true},
	{"/foo/**/qux", "/foo/bar/baz/qux", true},
	{"/foo/**/qux", "/foo/bar/baz", true},
	{"/foo/**/qux", "/foo/bar/baz/boo", true},
	{"/foo/**", "/foo/bar/baz", true},
	{"/foo/**", "/foo/bar", true},
	{"foo/**/bar/**/x", "/home/user/foo", true},
	{"foo/**/bar/**/x", "/home/user/foo/bar", true},
	{"/foo/*/qux", "/foo/bar", true},
	{"/foo/*/qux", "/foo/bar/boo", false},
	{"/foo/*/qux", "/foo/bar/boo/xx", false},
	{"/baz/bar", "/foo", false},
	{"/foo", "/foo/bar", true},
	{"/*", "/foo", true},
	{"/*", "/foo/bar", true},
	{"/**", "/foo", true},
	{"/*/**", "/foo", true},
	{"/*/**", "/foo/bar", true},
	{"/*/bar", "/foo", true},
	{"/bar/*", "/foo", false},
	{"/foo/*/baz", "/foo/bar", true},
	{"/foo/*/baz", "/foo/baz", true},
	{"/foo/*/baz", "/bar/baz", false},
	{"/**/*", "/foo", true},
	{"/**/bar", "/foo/bar", true},
	{"/foo/bar", "foo", false}, // anchored pattern, relative path
	{"/foo", "", false},
}

func TestPatternChildMatch(t *testing.T) {
	for _, c := range childMatchCases {
		p, err := filter.ParsePattern(c.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", c.pattern, err)
		}
		if got := p.ChildMatch(c.path); got != c.want {
			t.Errorf("ParsePattern(%q).ChildMatch(%q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

func TestParsePatterns(t *testing.T) {
	ps, err := filter.ParsePatterns([]string{"*.go", "", "!/tmp", "foo/**/bar"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{"*.go", "!/tmp", "foo/**/bar"} // "" is skipped
	if len(got) != len(want) {
		t.Fatalf("parsed %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("parsed %q, want %q", got, want)
		}
	}
	if ps[0].Negated() || !ps[1].Negated() {
		t.Errorf("Negated: got %v %v, want false true", ps[0].Negated(), ps[1].Negated())
	}
}

func TestParsePatternsInvalid(t *testing.T) {
	_, err := filter.ParsePatterns([]string{"*.foo", "*[._]log[.-][0-9]", "!*[._]log[.-][0-9]", "test/[", "test/**/[", "ok"})
	var ip *filter.InvalidPatternError
	if !errors.As(err, &ip) {
		t.Fatalf("got error %v, want *InvalidPatternError", err)
	}
	want := []string{"*[._]log[.-][0-9]", "!*[._]log[.-][0-9]", "test/[", "test/**/["}
	if len(ip.Patterns) != len(want) {
		t.Fatalf("invalid patterns %q, want %q", ip.Patterns, want)
	}
	for i := range want {
		if ip.Patterns[i] != want[i] {
			t.Fatalf("invalid patterns %q, want %q", ip.Patterns, want)
		}
	}
	if !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("errors.Is(%v, filepath.ErrBadPattern) = false", err)
	}
	if got := err.Error(); got != "invalid pattern(s) provided:\n*[._]log[.-][0-9]\n!*[._]log[.-][0-9]\ntest/[\ntest/**/[" {
		t.Errorf("message %q", got)
	}

	// A pattern with two bad components is reported once.
	_, err = filter.ParsePatterns([]string{"[/["})
	if !errors.As(err, &ip) || len(ip.Patterns) != 1 {
		t.Errorf("got %v, want one invalid pattern", err)
	}
	if _, err := filter.ParsePattern(""); !errors.Is(err, filter.ErrEmptyPattern) {
		t.Errorf("ParsePattern(\"\") = %v, want ErrEmptyPattern", err)
	}
	if _, err := filter.ParsePattern("a\\"); err == nil {
		t.Error("trailing backslash accepted")
	}
}

func TestZeroPatternMatchesNothing(t *testing.T) {
	var p filter.Pattern
	if p.Match("/x") || p.ChildMatch("/x") {
		t.Error("zero Pattern matched")
	}
}
