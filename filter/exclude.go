package filter

import (
	"fmt"
	"io/fs"
)

// CacheDirTag is the --exclude-if-present spec that --exclude-caches adds:
// the Cache Directory Tagging Standard's file name and signature.
const CacheDirTag = "CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55"

// ExcludeOptions are backup's exclusion flags.
type ExcludeOptions struct {
	Excludes                []string // --exclude
	InsensitiveExcludes     []string // --iexclude
	ExcludeFiles            []string // --exclude-file
	InsensitiveExcludeFiles []string // --iexclude-file
	ExcludeCaches           bool     // --exclude-caches
	ExcludeIfPresent        []string // --exclude-if-present name[:header]
	// ExcludeLargerThan is --exclude-larger-than in ParseSize syntax; ""
	// means no limit. It is a string because "0" is a valid limit
	// (excluding every non-empty file) and must differ from "unset".
	ExcludeLargerThan string
	// Warnf, if set, receives warnings about unreadable or malformed tag
	// files, which restic reports and then ignores.
	Warnf func(format string, args ...any)
}

// Excluder answers the archiver's "is this path excluded?". It is built
// once and is safe for concurrent use.
type Excluder struct {
	// sets holds --iexclude (with --iexclude-file) then --exclude (with
	// --exclude-file). Negation works only within one set, as in restic.
	sets    []patternSet
	maxSize int64 // < 0: no limit
	tags    []*tagFile
}

// NewExcluder reads the pattern files, validates all patterns and tag specs
// and parses the size limit, reporting the first problem with the name of
// the flag at fault.
func NewExcluder(opts ExcludeOptions) (*Excluder, error) {
	e := &Excluder{maxSize: -1}
	warnf := opts.Warnf
	if warnf == nil {
		warnf = func(string, ...any) {}
	}

	insensitive, _, err := collect(opts.InsensitiveExcludes, opts.InsensitiveExcludeFiles, "--iexclude", true)
	if err != nil {
		return nil, err
	}
	sensitive, _, err := collect(opts.Excludes, opts.ExcludeFiles, "--exclude", false)
	if err != nil {
		return nil, err
	}
	for _, s := range []patternSet{insensitive, sensitive} {
		if len(s.patterns) > 0 {
			e.sets = append(e.sets, s)
		}
	}

	specs := opts.ExcludeIfPresent
	if opts.ExcludeCaches {
		specs = append(specs[:len(specs):len(specs)], CacheDirTag)
	}
	for _, spec := range specs {
		t, err := newTagFile(spec, warnf)
		if err != nil {
			return nil, fmt.Errorf("--exclude-if-present: %w", err)
		}
		e.tags = append(e.tags, t)
	}

	if opts.ExcludeLargerThan != "" {
		e.maxSize, err = ParseSize(opts.ExcludeLargerThan)
		if err != nil {
			return nil, fmt.Errorf("--exclude-larger-than: %w", err)
		}
	}
	return e, nil
}

// collect builds the set for one flag and its -file variant: the flag's
// patterns first, then each file's, in order (restic's order, which matters
// for "!" patterns). given counts the pattern strings, empty ones included.
func collect(patterns, files []string, flag string, fold bool) (s patternSet, given int, err error) {
	fromFiles, err := readPatternFiles(files)
	if err != nil {
		return patternSet{}, 0, err
	}
	if _, err := ParsePatterns(fromFiles); err != nil {
		return patternSet{}, 0, fmt.Errorf("%s-file: %w", flag, err)
	}
	all := append(patterns[:len(patterns):len(patterns)], fromFiles...)
	s, err = newPatternSet(all, fold)
	if err != nil {
		return patternSet{}, 0, fmt.Errorf("%s: %w", flag, err)
	}
	return s, len(all), nil
}

// ExcludedByName reports whether the exclude patterns reject path, an
// absolute source path. It does no I/O, so the archiver can call it before
// lstat.
func (e *Excluder) ExcludedByName(path string) bool {
	for _, s := range e.sets {
		if s.match(path) {
			return true
		}
	}
	return false
}

// ExcludedByPath is Excluded for a regular file at path when the path
// decides (decided), which is unless a size limit needs the file's size.
func (e *Excluder) ExcludedByPath(path string) (excluded, decided bool) {
	if e.maxSize >= 0 {
		return false, false
	}
	return e.Excluded(path, nil), true
}

// Excluded reports whether path, an absolute source path with file info fi,
// is excluded by any option. fi may be nil, which skips the size check.
// Directories are never excluded for their size. A directory holding a tag
// file is itself kept, with only its tag file inside; all its other entries
// are excluded.
func (e *Excluder) Excluded(path string, fi fs.FileInfo) bool {
	if e.ExcludedByName(path) {
		return true
	}
	if e.maxSize >= 0 && fi != nil && !fi.IsDir() && fi.Size() > e.maxSize {
		return true
	}
	for _, t := range e.tags {
		if t.excludes(path) {
			return true
		}
	}
	return false
}
