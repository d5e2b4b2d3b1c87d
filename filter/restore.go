package filter

import "errors"

// RestoreOptions are restore's selection flags. Restic 0.14 has only the
// first four; the -file variants come from later restic versions and read
// files like ReadPatternFile.
type RestoreOptions struct {
	Includes                []string // --include
	InsensitiveIncludes     []string // --iinclude
	Excludes                []string // --exclude
	InsensitiveExcludes     []string // --iexclude
	IncludeFiles            []string // --include-file
	InsensitiveIncludeFiles []string // --iinclude-file
	ExcludeFiles            []string // --exclude-file
	InsensitiveExcludeFiles []string // --iexclude-file
}

// ErrIncludeAndExclude is returned when include and exclude patterns are
// combined, which restic refuses.
var ErrIncludeAndExclude = errors.New("exclude and include patterns are mutually exclusive")

// RestoreSelector answers the restorer's questions for each snapshot path.
// It is immutable and safe for concurrent use.
type RestoreSelector struct {
	include bool         // sets are include patterns, else exclude patterns
	sets    []patternSet // insensitive set, then sensitive set; may be empty
	all     bool         // no patterns given: restore everything
}

// NewRestoreSelector reads the pattern files and validates all patterns.
func NewRestoreSelector(opts RestoreOptions) (*RestoreSelector, error) {
	ii, nii, err := collect(opts.InsensitiveIncludes, opts.InsensitiveIncludeFiles, "--iinclude", true)
	if err != nil {
		return nil, err
	}
	si, nsi, err := collect(opts.Includes, opts.IncludeFiles, "--include", false)
	if err != nil {
		return nil, err
	}
	ie, nie, err := collect(opts.InsensitiveExcludes, opts.InsensitiveExcludeFiles, "--iexclude", true)
	if err != nil {
		return nil, err
	}
	se, nse, err := collect(opts.Excludes, opts.ExcludeFiles, "--exclude", false)
	if err != nil {
		return nil, err
	}
	// Like restic, a mode is active when pattern strings were given, even
	// empty ones (--include "" restores nothing), but not for pattern files
	// that hold no patterns.
	hasIncludes, hasExcludes := nii+nsi > 0, nie+nse > 0
	switch {
	case hasIncludes && hasExcludes:
		return nil, ErrIncludeAndExclude
	case hasIncludes:
		return &RestoreSelector{include: true, sets: []patternSet{ii, si}}, nil
	case hasExcludes:
		return &RestoreSelector{sets: []patternSet{ie, se}}, nil
	}
	return &RestoreSelector{all: true}, nil
}

// Select reports whether the snapshot path item (such as "/home/user/f")
// is restored, and, for a directory, whether the restorer must look at its
// children. As in restic:
//
//   - With includes, an item is selected when an include pattern matches it
//     or one of its parents; a directory's children are visited when some
//     pattern may match below it. A restorer that finds a selected child in
//     an unselected directory should still create that directory and, like
//     restic, restore its metadata once the child is restored.
//   - With excludes, an item is selected unless an exclude pattern matches
//     it, and an excluded directory's children are never visited.
//   - Without patterns everything is selected.
//
// childMayBeSelected is always false when isDir is false.
func (s *RestoreSelector) Select(item string, isDir bool) (selectedForRestore, childMayBeSelected bool) {
	switch {
	case s.all:
		return true, isDir
	case s.include:
		for _, set := range s.sets {
			m, c := set.matchWithChild(item)
			selectedForRestore = selectedForRestore || m
			childMayBeSelected = childMayBeSelected || c
		}
		return selectedForRestore, childMayBeSelected && isDir
	}
	for _, set := range s.sets {
		if set.match(item) {
			return false, false
		}
	}
	return true, isDir
}
