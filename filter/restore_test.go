package filter_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/filter"
)

type selectCase struct {
	item          string
	isDir         bool
	selected, sub bool
}

func checkSelect(t *testing.T, opts filter.RestoreOptions, cases []selectCase) {
	t.Helper()
	s, err := filter.NewRestoreSelector(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		sel, sub := s.Select(c.item, c.isDir)
		if sel != c.selected || sub != c.sub {
			t.Errorf("%+v: Select(%q, %v) = %v, %v; want %v, %v", opts, c.item, c.isDir, sel, sub, c.selected, c.sub)
		}
	}
}

func TestRestoreSelectAll(t *testing.T) {
	checkSelect(t, filter.RestoreOptions{}, []selectCase{
		{"/home", true, true, true},
		{"/home/f", false, true, false},
	})
}

func TestRestoreInclude(t *testing.T) {
	// restic restore --include /work/foo (050_restore.rst)
	checkSelect(t, filter.RestoreOptions{Includes: []string{"/work/foo"}}, []selectCase{
		{"/work", true, false, true},
		{"/work/foo", false, true, false},
		{"/work/foo", true, true, true}, // an included directory's content follows
		{"/work/foo/bar", false, true, false},
		{"/work/bar", true, false, false},
		{"/other", true, false, false},
		{"/other/work/foo", false, false, false},
	})
	// relative patterns may match anywhere, so every directory is entered
	checkSelect(t, filter.RestoreOptions{Includes: []string{"*.go", "README.md"}}, []selectCase{
		{"/home/user/foo.go", false, true, false},
		{"/home/user/foo.c", false, false, false},
		{"/home/user/foobar", true, false, true},
		{"/home/user/foobar/x", false, false, false},
		{"/home/user/README", false, false, false},
		{"/home/user/README.md", false, true, false},
	})
	// "!" deselects, and hides the directory's children
	checkSelect(t, filter.RestoreOptions{Includes: []string{"/data", "!/data/tmp"}}, []selectCase{
		{"/data", true, true, true},
		{"/data/x", false, true, false},
		{"/data/tmp", true, false, false},
		{"/data/tmp/y", false, false, false},
	})
}

func TestRestoreInsensitiveInclude(t *testing.T) {
	checkSelect(t, filter.RestoreOptions{InsensitiveIncludes: []string{"*.go", "README.md", "/Home/*/Pics"}}, []selectCase{
		{"/home/user/foo.GO", false, true, false},
		{"/home/user/foo.c", false, false, false},
		{"/home/user/readme.MD", false, true, false},
		{"/HOME/bob/pics/a.jpg", false, true, false},
	})
	// sensitive and insensitive includes are combined
	checkSelect(t, filter.RestoreOptions{Includes: []string{"/a"}, InsensitiveIncludes: []string{"/B"}}, []selectCase{
		{"/a/x", false, true, false},
		{"/A/x", false, false, false},
		{"/b/x", false, true, false},
		{"/c", true, false, false},
	})
}

func TestRestoreExclude(t *testing.T) {
	checkSelect(t, filter.RestoreOptions{
		Excludes:            []string{"/home/user/cache", "*.tmp"},
		InsensitiveExcludes: []string{"*.ISO"},
	}, []selectCase{
		{"/home", true, true, true},
		{"/home/user", true, true, true},
		{"/home/user/cache", true, false, false},
		{"/home/user/cache/x", false, false, false},
		{"/home/user/a.tmp", false, false, false},
		{"/home/user/a.iso", false, false, false},
		{"/home/user/a.txt", false, true, false},
	})
}

func TestRestoreEmptyPatternStrings(t *testing.T) {
	// restic: --include "" switches to include mode with no pattern, so
	// nothing is restored; --exclude "" excludes nothing.
	checkSelect(t, filter.RestoreOptions{Includes: []string{""}}, []selectCase{
		{"/a", true, false, false},
	})
	checkSelect(t, filter.RestoreOptions{Excludes: []string{""}}, []selectCase{
		{"/a", true, true, true},
	})
	// A pattern file without patterns does not switch modes.
	file := writeFile(t, filepath.Join(t.TempDir(), "inc"), []byte("# nothing\n\n"))
	checkSelect(t, filter.RestoreOptions{IncludeFiles: []string{file}}, []selectCase{
		{"/a", true, true, true},
	})
}

func TestRestoreFiles(t *testing.T) {
	dir := t.TempDir()
	inc := writeFile(t, filepath.Join(dir, "inc"), []byte("/srv/www\n# comment\n"))
	checkSelect(t, filter.RestoreOptions{IncludeFiles: []string{inc}}, []selectCase{
		{"/srv", true, false, true},
		{"/srv/www/index.html", false, true, false},
		{"/srv/ftp", true, false, false},
	})
	exc := writeFile(t, filepath.Join(dir, "exc"), []byte("*.LOG\n"))
	checkSelect(t, filter.RestoreOptions{InsensitiveExcludeFiles: []string{exc}}, []selectCase{
		{"/var/x.log", false, false, false},
		{"/var/x.txt", false, true, false},
	})
}

func TestNewRestoreSelectorErrors(t *testing.T) {
	_, err := filter.NewRestoreSelector(filter.RestoreOptions{Includes: []string{"/a"}, InsensitiveExcludes: []string{"/b"}})
	if !errors.Is(err, filter.ErrIncludeAndExclude) {
		t.Errorf("got %v, want ErrIncludeAndExclude", err)
	}
	for _, c := range []struct {
		opts   filter.RestoreOptions
		prefix string
	}{
		{filter.RestoreOptions{Includes: []string{"["}}, "--include: "},
		{filter.RestoreOptions{InsensitiveIncludes: []string{"["}}, "--iinclude: "},
		{filter.RestoreOptions{Excludes: []string{"["}}, "--exclude: "},
		{filter.RestoreOptions{InsensitiveExcludes: []string{"["}}, "--iexclude: "},
		{filter.RestoreOptions{IncludeFiles: []string{filepath.Join(t.TempDir(), "x")}}, "failed to read patterns"},
	} {
		_, err := filter.NewRestoreSelector(c.opts)
		if err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("%+v: got %v, want prefix %q", c.opts, err, c.prefix)
		}
	}
}
