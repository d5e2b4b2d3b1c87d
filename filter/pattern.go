package filter

import (
	"errors"
	"path/filepath"
	"strings"
)

// ErrEmptyPattern is returned by ParsePattern for the empty string, which
// restic ignores rather than matches.
var ErrEmptyPattern = errors.New("filter: empty pattern")

// InvalidPatternError lists patterns that path/filepath.Match rejects. Its
// message has the same form as restic's.
type InvalidPatternError struct {
	Patterns []string
}

func (e *InvalidPatternError) Error() string {
	return "invalid pattern(s) provided:\n" + strings.Join(e.Patterns, "\n")
}

// Unwrap lets errors.Is(err, filepath.ErrBadPattern) succeed.
func (e *InvalidPatternError) Unwrap() error { return filepath.ErrBadPattern }

// Pattern is a parsed pattern, ready to be matched against many paths. The
// zero Pattern matches nothing.
type Pattern struct {
	original string
	negated  bool
	absolute bool
	// segs are the components between "**" wildcards: a pattern
	// "a/**/b/c" has segs [[a] [b c]]. A pattern without "**" has one seg.
	segs [][]part
}

// part is one pattern component other than "**".
type part struct {
	text string // the component, or its literal core for the star kinds
	kind partKind
	lead string // glob only: the literal text before the first metacharacter
}

// partKind lets common component shapes skip filepath.Match. A component
// holds no "/", so a "*" at either end matches any prefix or suffix.
type partKind uint8

const (
	exact    partKind = iota // "name": compared with ==
	star                     // "*": matches every component
	prefix                   // "name*"
	suffix                   // "*.ext"
	contains                 // "*name*"
	glob                     // anything else: filepath.Match
)

func newPart(c string) part {
	const meta = `*?[]\`
	if !strings.ContainsAny(c, meta) {
		return part{text: c, kind: exact}
	}
	core := strings.Trim(c, "*")
	if strings.ContainsAny(core, meta) {
		return part{text: c, kind: glob, lead: c[:strings.IndexAny(c, meta)]}
	}
	lead, trail := c[0] == '*', c[len(c)-1] == '*'
	switch {
	case core == "":
		return part{kind: star}
	case lead && trail:
		return part{text: core, kind: contains}
	case lead:
		return part{text: core, kind: suffix}
	}
	return part{text: core, kind: prefix}
}

func (p part) match(comp string) bool {
	switch p.kind {
	case exact:
		return p.text == comp
	case star:
		return true
	case prefix:
		return strings.HasPrefix(comp, p.text)
	case suffix:
		return strings.HasSuffix(comp, p.text)
	case contains:
		return strings.Contains(comp, p.text)
	}
	if !strings.HasPrefix(comp, p.lead) {
		return false // cheap rejection before filepath.Match
	}
	// Parsing validated the pattern, so Match cannot fail here.
	ok, _ := filepath.Match(p.text, comp)
	return ok
}

// ParsePattern parses one pattern. A leading "!" negates it.
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, ErrEmptyPattern
	}
	p := Pattern{original: s}
	body := s
	if body[0] == '!' {
		p.negated = true
		body = body[1:]
	}
	comps := strings.Split(filepath.ToSlash(filepath.Clean(body)), "/")
	if comps[0] == "" {
		p.absolute = true
		comps = comps[1:]
	}
	var seg []part
	for _, c := range comps {
		// After Clean the only empty component is the one a bare "/"
		// leaves; restic treats it like "**", so "/" matches every
		// absolute path.
		if c == "**" || c == "" {
			p.segs = append(p.segs, seg)
			seg = nil
			continue
		}
		pt := newPart(c)
		if pt.kind == glob {
			// Matching the component against itself makes Match check
			// the whole component's syntax.
			if _, err := filepath.Match(c, c); err != nil {
				return Pattern{}, &InvalidPatternError{Patterns: []string{s}}
			}
		}
		seg = append(seg, pt)
	}
	p.segs = append(p.segs, seg)
	return p, nil
}

// ParsePatterns parses a list of patterns, skipping empty strings as restic
// does. All invalid patterns are reported together in an
// *InvalidPatternError.
func ParsePatterns(patterns []string) ([]Pattern, error) {
	out := make([]Pattern, 0, len(patterns))
	var bad []string
	for _, s := range patterns {
		if s == "" {
			continue
		}
		p, err := ParsePattern(s)
		if err != nil {
			bad = append(bad, s)
			continue
		}
		out = append(out, p)
	}
	if len(bad) > 0 {
		return nil, &InvalidPatternError{Patterns: bad}
	}
	return out, nil
}

// String returns the pattern as it was given, including a leading "!".
func (p Pattern) String() string { return p.original }

// Negated reports whether the pattern started with "!".
func (p Pattern) Negated() bool { return p.negated }

// Match reports whether the pattern matches path or one of its parents,
// ignoring negation. An empty path matches nothing.
func (p Pattern) Match(path string) bool {
	var buf [32]string
	comps, abs, ok := splitPath(path, buf[:0])
	return ok && p.matchComps(comps, abs)
}

// ChildMatch reports whether the pattern may match a path below path, which
// is what a restorer needs to know to decide whether to enter a directory.
// Like restic, it is always true for patterns without a leading "/".
func (p Pattern) ChildMatch(path string) bool {
	var buf [32]string
	comps, abs, ok := splitPath(path, buf[:0])
	return ok && p.childMatchComps(comps, abs)
}

// splitPath splits path at "/" into buf. For an absolute path the leading
// empty component is dropped and abs is true. ok is false for "".
func splitPath(path string, buf []string) (comps []string, abs, ok bool) {
	if path == "" {
		return nil, false, false
	}
	path = filepath.ToSlash(path)
	if path[0] == '/' {
		abs = true
		path = path[1:]
	}
	for {
		i := strings.IndexByte(path, '/')
		if i < 0 {
			return append(buf, path), abs, true
		}
		buf = append(buf, path[:i])
		path = path[i+1:]
	}
}

func (p *Pattern) matchComps(comps []string, abs bool) bool {
	if len(p.segs) == 0 {
		return false // zero Pattern
	}
	first := p.segs[0]
	var pos int
	if p.absolute {
		if !abs || !matchSeq(first, comps) {
			return false
		}
		pos = len(first)
	} else {
		if p.onlyDoubleStars() {
			// restic never lets a relative pattern match zero components.
			return len(comps) > 0
		}
		q := find(first, comps, 0)
		if q < 0 {
			return false
		}
		pos = q + len(first)
	}
	// Each "**" may skip any number of components. Placing every following
	// fixed run at its leftmost possible position leaves the most room for
	// the rest, so this greedy search finds a match whenever one exists.
	for _, seg := range p.segs[1:] {
		q := find(seg, comps, pos)
		if q < 0 {
			return false
		}
		pos = q + len(seg)
	}
	return true
}

func (p *Pattern) childMatchComps(comps []string, abs bool) bool {
	if len(p.segs) == 0 {
		return false
	}
	if !p.absolute {
		return true
	}
	if !abs {
		return false
	}
	// Compare the components both have, up to the first "**".
	first := p.segs[0]
	n := min(len(first), len(comps))
	return matchSeq(first[:n], comps)
}

func (p *Pattern) onlyDoubleStars() bool {
	for _, s := range p.segs {
		if len(s) > 0 {
			return false
		}
	}
	return true
}

// matchSeq reports whether seg matches the first len(seg) comps.
func matchSeq(seg []part, comps []string) bool {
	if len(seg) > len(comps) {
		return false
	}
	// Last component first: it is usually the most selective ("*.go").
	for i := len(seg) - 1; i >= 0; i-- {
		if !seg[i].match(comps[i]) {
			return false
		}
	}
	return true
}

// find returns the smallest q >= from where seg matches comps[q:], or -1.
func find(seg []part, comps []string, from int) int {
	for q := from; q+len(seg) <= len(comps); q++ {
		if matchSeq(seg, comps[q:]) {
			return q
		}
	}
	return -1
}
