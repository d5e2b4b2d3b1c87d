package filter

import "strings"

// Match reports whether path is selected by the list of patterns: the last
// pattern that matches path decides, a negated one deselecting it. This is
// restic's rule "a pattern starting with ! cancels an earlier match". An
// empty list or an empty path matches nothing.
func Match(patterns []Pattern, path string) bool {
	var buf [32]string
	comps, abs, ok := splitPath(path, buf[:0])
	if !ok {
		return false
	}
	return matchList(patterns, comps, abs)
}

func matchList(patterns []Pattern, comps []string, abs bool) bool {
	for i := len(patterns) - 1; i >= 0; i-- {
		if patterns[i].matchComps(comps, abs) {
			return !patterns[i].negated
		}
	}
	return false
}

// MatchWithChild is Match that also reports whether a path below path may be
// selected, for a restorer deciding whether to enter a directory. A negated
// pattern that matches path clears both results, so the restorer will not
// descend into a directory that a later "!" pattern deselected.
func MatchWithChild(patterns []Pattern, path string) (matched, childMayMatch bool) {
	var buf [32]string
	comps, abs, ok := splitPath(path, buf[:0])
	if !ok {
		return false, false
	}
	return matchListWithChild(patterns, comps, abs)
}

func matchListWithChild(patterns []Pattern, comps []string, abs bool) (matched, childMayMatch bool) {
	negations := false
	for i := range patterns {
		negations = negations || patterns[i].negated
	}
	for i := range patterns {
		p := &patterns[i]
		if p.negated {
			if (matched || childMayMatch) && p.matchComps(comps, abs) {
				matched, childMayMatch = false, false
			}
			continue
		}
		matched = matched || p.matchComps(comps, abs)
		childMayMatch = childMayMatch || p.childMatchComps(comps, abs)
		if matched && childMayMatch && !negations {
			break // nothing later can change the result
		}
	}
	return matched, childMayMatch
}

// patternSet is one option's pattern list; fold marks the case-insensitive
// variants, whose patterns are stored lower-cased.
type patternSet struct {
	patterns []Pattern
	fold     bool
}

func newPatternSet(raw []string, fold bool) (patternSet, error) {
	// Parse the patterns as given first, so errors quote the user's text.
	ps, err := ParsePatterns(raw)
	if err != nil || !fold {
		return patternSet{patterns: ps}, err
	}
	lower := make([]string, len(raw))
	for i, s := range raw {
		lower[i] = strings.ToLower(s)
	}
	ps, err = ParsePatterns(lower)
	return patternSet{patterns: ps, fold: true}, err
}

func (s patternSet) match(path string) bool {
	if s.fold {
		path = strings.ToLower(path)
	}
	return Match(s.patterns, path)
}

func (s patternSet) matchWithChild(path string) (matched, childMayMatch bool) {
	if s.fold {
		path = strings.ToLower(path)
	}
	return MatchWithChild(s.patterns, path)
}
