package filter_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/filter"
)

const cacheSig = "Signature: 8a477f597d28d172789f06886806bc55"

// makeTree creates files (name -> content) below a new temp dir; names
// ending in "/" are directories.
func makeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, p, []byte(content))
	}
	return root
}

// walk returns the paths below root, relative to it, that the archiver
// would save: it never enters an excluded directory.
func walk(t *testing.T, root string, e *filter.Excluder) []string {
	t.Helper()
	var kept []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if e.Excluded(path, fi) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			rel += "/"
		}
		kept = append(kept, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kept
}

func newExcluder(t *testing.T, opts filter.ExcludeOptions) *filter.Excluder {
	t.Helper()
	e, err := filter.NewExcluder(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExcludeCaches(t *testing.T) {
	root := makeTree(t, map[string]string{
		"cache/CACHEDIR.TAG":     cacheSig + "\n# created by some tool\n",
		"cache/data.bin":         "x",
		"cache/sub/deep":         "x",
		"cache/CACHEDIR.TAG.bak": "x",
		"fake/CACHEDIR.TAG":      "hello, this is not a signature line, it is long enough",
		"fake/data":              "x",
		"empty/CACHEDIR.TAG":     "",
		"empty/data":             "x",
		"short/CACHEDIR.TAG":     "Signature: 8a4",
		"short/data":             "x",
		"plain/file":             "x",
	})
	var mu sync.Mutex
	var warnings []string
	e := newExcluder(t, filter.ExcludeOptions{
		ExcludeCaches: true,
		Warnf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, fmt.Sprintf(format, args...))
		},
	})
	got := walk(t, root, e)
	want := []string{
		"cache/", "cache/CACHEDIR.TAG", // the tagged directory and its tag are kept
		"empty/", "empty/CACHEDIR.TAG", "empty/data",
		"fake/", "fake/CACHEDIR.TAG", "fake/data",
		"plain/", "plain/file",
		"short/", "short/CACHEDIR.TAG", "short/data",
	}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q\nwant %q", got, want)
	}
	for _, w := range []string{"invalid (too short) signature", "invalid signature", "could not read signature"} {
		if !slices.ContainsFunc(warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning containing %q in %q", w, warnings)
		}
	}
	if len(warnings) != 3 {
		t.Errorf("got %d warnings, want one per bad tag file: %q", len(warnings), warnings)
	}
}

func TestExcludeIfPresent(t *testing.T) {
	root := makeTree(t, map[string]string{
		"skip/.nobackup":  "",
		"skip/f":          "x",
		"skip/d/":         "",
		"hdr/TAG":         "keep-out\nmore",
		"hdr/f":           "x",
		"wronghdr/TAG":    "come in",
		"wronghdr/f":      "x",
		"keep/f":          "x",
		"keep/sub/.other": "",
	})
	e := newExcluder(t, filter.ExcludeOptions{
		ExcludeIfPresent: []string{".nobackup", "TAG:keep-out"},
	})
	got := walk(t, root, e)
	want := []string{
		"hdr/", "hdr/TAG",
		"keep/", "keep/f", "keep/sub/", "keep/sub/.other",
		"skip/", "skip/.nobackup",
		"wronghdr/", "wronghdr/TAG", "wronghdr/f",
	}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q\nwant %q", got, want)
	}
}

func TestExcludePatternsAndSize(t *testing.T) {
	root := makeTree(t, map[string]string{
		"a.go":              "x",
		"a.c":               "x",
		"NOTES.TXT":         "x",
		"exact.bin":         strings.Repeat("x", 1024),
		"big.bin":           strings.Repeat("x", 1025),
		"Build/out.o":       "x",
		"src/node_modules/": "",
		"src/main.go":       "x",
	})
	e := newExcluder(t, filter.ExcludeOptions{
		Excludes:            []string{"*.c", "node_modules"},
		InsensitiveExcludes: []string{"notes.txt", "/" + strings.ToUpper(strings.TrimPrefix(filepath.ToSlash(root), "/")) + "/build"},
		ExcludeLargerThan:   "1k",
	})
	got := walk(t, root, e)
	want := []string{"a.go", "exact.bin", "src/", "src/main.go"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q\nwant %q", got, want)
	}
	// Directories are never excluded for their size; nil FileInfo skips it.
	if e.Excluded(filepath.Join(root, "big.bin"), nil) {
		t.Error("size checked without FileInfo")
	}
}

func TestExcludeLargerThanZero(t *testing.T) {
	root := makeTree(t, map[string]string{"empty": "", "one": "x", "dir/": ""})
	e := newExcluder(t, filter.ExcludeOptions{ExcludeLargerThan: "0"})
	got := walk(t, root, e)
	if want := []string{"dir/", "empty"}; !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}

func TestExcludeFileNegation(t *testing.T) {
	root := makeTree(t, map[string]string{
		"Documents/cv.odt":  "x",
		"Documents/cv.odt~": "x",
		"Downloads/big.iso": "x",
		"code/main.go":      "x",
		".cache/x":          "x",
	})
	t.Setenv("HB_FILTER_ROOT", root)
	file := writeFile(t, filepath.Join(t.TempDir(), "excludes"), []byte(
		"$HB_FILTER_ROOT/*\n!$HB_FILTER_ROOT/Documents\n!${HB_FILTER_ROOT}/code\n# [...]\n*~\n"))
	e := newExcluder(t, filter.ExcludeOptions{ExcludeFiles: []string{file}})
	got := walk(t, root, e)
	want := []string{"Documents/", "Documents/cv.odt", "code/", "code/main.go"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q\nwant %q", got, want)
	}
}

func TestExcludeNegationScope(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "ex"), []byte("!main.go\n"))
	// Patterns from --exclude-file come after --exclude, so "!" there can
	// cancel an --exclude match ...
	e := newExcluder(t, filter.ExcludeOptions{Excludes: []string{"*.go"}, ExcludeFiles: []string{file}})
	if e.ExcludedByName("/src/main.go") || !e.ExcludedByName("/src/util.go") {
		t.Error("negation from --exclude-file did not apply to --exclude")
	}
	// ... but the case-sensitive and insensitive lists are separate.
	e = newExcluder(t, filter.ExcludeOptions{Excludes: []string{"*.go"}, InsensitiveExcludeFiles: []string{file}})
	if !e.ExcludedByName("/src/main.go") {
		t.Error("negation crossed from --iexclude-file to --exclude")
	}
}

func TestExcludeInsensitive(t *testing.T) {
	pats := []string{"*.go", "README.md", "/home/user/foobar/*"}
	e := newExcluder(t, filter.ExcludeOptions{InsensitiveExcludes: pats})
	for path, want := range map[string]bool{
		"/home/user/foo.GO":       true,
		"/home/user/foo.c":        false,
		"/home/user/foobar":       false,
		"/home/user/FOObar/x":     true,
		"/home/user/README":       false,
		"/home/user/readme.md":    true,
		"/HOME/USER/FOOBAR/X/Y.Z": true,
	} {
		if got := e.ExcludedByName(path); got != want {
			t.Errorf("ExcludedByName(%q) = %v, want %v", path, got, want)
		}
	}
	if pats[1] != "README.md" {
		t.Error("NewExcluder modified the caller's patterns")
	}
}

func TestNewExcluderErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad"), []byte("ok\n[\n"))
	for _, c := range []struct {
		opts   filter.ExcludeOptions
		prefix string
	}{
		{filter.ExcludeOptions{Excludes: []string{"["}}, "--exclude: invalid pattern(s) provided:\n["},
		{filter.ExcludeOptions{InsensitiveExcludes: []string{"A["}}, "--iexclude: invalid pattern(s) provided:\nA["},
		{filter.ExcludeOptions{ExcludeFiles: []string{bad}}, "--exclude-file: invalid pattern(s) provided:\n["},
		{filter.ExcludeOptions{InsensitiveExcludeFiles: []string{bad}}, "--iexclude-file: invalid"},
		{filter.ExcludeOptions{ExcludeFiles: []string{filepath.Join(dir, "missing")}}, "failed to read patterns from file"},
		{filter.ExcludeOptions{ExcludeIfPresent: []string{""}}, "--exclude-if-present: name for exclusion tagfile is empty"},
		{filter.ExcludeOptions{ExcludeIfPresent: []string{":Signature"}}, "--exclude-if-present: no name for exclusion tagfile provided"},
		{filter.ExcludeOptions{ExcludeLargerThan: "1.5G"}, "--exclude-larger-than: "},
	} {
		_, err := filter.NewExcluder(c.opts)
		if err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("%+v: got error %v, want prefix %q", c.opts, err, c.prefix)
		}
	}
	_, err := filter.NewExcluder(filter.ExcludeOptions{Excludes: []string{"["}})
	var ip *filter.InvalidPatternError
	if !errors.As(err, &ip) {
		t.Errorf("error %v does not wrap *InvalidPatternError", err)
	}
}

func TestExcluderEmpty(t *testing.T) {
	e := newExcluder(t, filter.ExcludeOptions{Excludes: []string{""}})
	if e.Excluded("/x", nil) || e.ExcludedByName("/") {
		t.Error("empty options excluded something")
	}
}

func TestExcluderConcurrent(t *testing.T) {
	root := makeTree(t, map[string]string{
		"cache/CACHEDIR.TAG": cacheSig,
		"cache/a":            "x",
		"other/a":            "x",
	})
	e := newExcluder(t, filter.ExcludeOptions{ExcludeCaches: true, Excludes: []string{"*.tmp"}})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 50 {
				dir := "cache"
				if (i+j)%2 == 0 {
					dir = "other"
				}
				got := e.Excluded(filepath.Join(root, dir, "a"), nil)
				if got != (dir == "cache") {
					t.Errorf("Excluded(%s/a) = %v", dir, got)
					return
				}
			}
		})
	}
	wg.Wait()
}
