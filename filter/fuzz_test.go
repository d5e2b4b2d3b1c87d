package filter_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/filter"
)

// The reference below restates restic's matching rule as directly (and
// slowly) as possible, to cross-check the greedy matcher: split pattern and
// path at "/", marking the root as a "/" component; expand every "**" into
// any number of "*" components; then an anchored pattern must match the
// path's first components, any other pattern some run of components after
// the root. It does not copy restic's cap on the number of expansions (a
// known restic bug with several "**", see TestPatternMatch).

func refSplitPattern(pattern string) []string {
	pattern = strings.TrimPrefix(pattern, "!")
	parts := strings.Split(filepath.Clean(pattern), "/")
	if parts[0] == "" {
		parts[0] = "/"
	}
	for i, p := range parts {
		if p == "" { // only "/" leaves one; restic reads it as "**"
			parts[i] = "**"
		}
	}
	return parts
}

func refSplitPath(path string) []string {
	comps := strings.Split(path, "/")
	if comps[0] == "" {
		comps[0] = "/"
	}
	return comps
}

func refMatch(pattern, path string) bool {
	if path == "" {
		return false
	}
	return refExpand(refSplitPattern(pattern), refSplitPath(path))
}

func refExpand(pp, ss []string) bool {
	i := slices.Index(pp, "**")
	if i < 0 {
		return refWindow(pp, ss)
	}
	// Later "**" may expand to nothing, so only the other parts count.
	fixed := 0
	for _, p := range pp {
		if p != "**" {
			fixed++
		}
	}
	for k := 0; fixed+k <= len(ss); k++ {
		np := slices.Concat(pp[:i], slices.Repeat([]string{"*"}, k), pp[i+1:])
		if refExpand(np, ss) {
			return true
		}
	}
	return false
}

func refWindow(pp, ss []string) bool {
	if len(pp) == 0 || len(pp) > len(ss) {
		return false
	}
	lo, hi := 0, len(ss)-len(pp)
	if pp[0] == "/" {
		hi = 0
	} else if ss[0] == "/" {
		lo = 1
	}
outer:
	for o := lo; o <= hi; o++ {
		for i := range pp {
			if ok, _ := filepath.Match(pp[i], ss[o+i]); !ok {
				continue outer
			}
		}
		return true
	}
	return false
}

// refChildMatch follows restic's childMatch: relative patterns always may
// match below; anchored ones are compared up to their first "**".
func refChildMatch(pattern, path string) bool {
	if path == "" {
		return false
	}
	pp, ss := refSplitPattern(pattern), refSplitPath(path)
	if pp[0] != "/" {
		return true
	}
	if i := slices.Index(pp, "**"); i >= 0 && len(ss) >= i {
		ss = ss[:i]
	}
	n := min(len(ss), len(pp))
	return refWindow(pp[:n], ss)
}

func validByReference(pattern string) bool {
	for _, p := range refSplitPattern(pattern) {
		if _, err := filepath.Match(p, p); err != nil {
			return false
		}
	}
	return true
}

func FuzzMatch(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.pattern, c.path)
	}
	for _, c := range childMatchCases {
		f.Add(c.pattern, c.path)
	}
	for _, c := range listCases {
		for _, p := range c.patterns {
			f.Add(p, c.path)
		}
	}
	f.Add("/", "/")
	f.Add("!", "/a/./b")
	f.Add("a/**/b/**/c", "a/x/b/c")
	f.Add("**/**", "/")
	f.Add("..", "/..")
	f.Add("*o*o*", "/foo/ooo")
	f.Add("x[ab]*", "/xa/xbc")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p, err := filter.ParsePattern(pattern)
		if pattern == "" {
			if err == nil {
				t.Fatal("empty pattern accepted")
			}
			return
		}
		if (err == nil) != validByReference(pattern) {
			t.Fatalf("ParsePattern(%q) error = %v, reference validity %v", pattern, err, validByReference(pattern))
		}
		if err != nil {
			return
		}
		m, c := p.Match(path), p.ChildMatch(path)
		lm, lc := filter.MatchWithChild([]filter.Pattern{p}, path)
		if p.Negated() {
			if lm || lc || filter.Match([]filter.Pattern{p}, path) {
				t.Fatalf("lone negated pattern %q selected %q", pattern, path)
			}
		} else if lm != m || lc != c || filter.Match([]filter.Pattern{p}, path) != m {
			t.Fatalf("list and pattern disagree for %q on %q", pattern, path)
		}
		if m && !c {
			t.Fatalf("%q matches %q but ChildMatch is false", pattern, path)
		}

		// The reference is exponential in the number of "**"; keep it small.
		if strings.Count(pattern, "**") <= 3 && strings.Count(path, "/") <= 12 {
			if want := refMatch(pattern, path); m != want {
				t.Fatalf("ParsePattern(%q).Match(%q) = %v, reference %v", pattern, path, m, want)
			}
			if want := refChildMatch(pattern, path); c != want {
				t.Fatalf("ParsePattern(%q).ChildMatch(%q) = %v, reference %v", pattern, path, c, want)
			}
		}

		// Without metacharacters a pattern matches the path it spells.
		if !p.Negated() && !strings.ContainsAny(pattern, `*?[]\`) {
			if self := filepath.Clean(pattern); !p.Match(self) {
				t.Fatalf("%q does not match its own path %q", pattern, self)
			}
		}
	})
}
