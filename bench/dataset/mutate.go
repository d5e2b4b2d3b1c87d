package dataset

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ChangeKind is how Mutate changed a file.
type ChangeKind string

// The two ways files change between backups.
const (
	Append    ChangeKind = "append"    // Len bytes added at Offset, the old size
	Overwrite ChangeKind = "overwrite" // Len bytes replaced at Offset; the size is unchanged
)

// Change records one file Mutate modified.
type Change struct {
	Rel    string
	Kind   ChangeKind
	Offset int64
	Len    int64
}

// Limits of the changes, for callers that verify them.
const (
	MaxSmallAppend     = 4 * KiB
	MaxSmallOverwrite  = 1 * KiB
	MaxRandomOverwrite = 256 * KiB
)

// Mutate changes about 5% of the regular files under dir, which must hold
// the data set p (possibly already mutated by earlier rounds). The same
// (p, round) always makes the same change:
//
//   - random: 5% of the files; by turns 256 KiB overwritten in place at a
//     random offset, or 1 MiB appended (both shrunk like the files at tiny scales)
//   - text: one of the four files gets about 2% of its size in new lines
//   - small: 5% of the files; by turns 256 B-4 KiB of text appended, or
//     64 B-1 KiB overwritten in place
//
// Every changed file gets the mtime base + round days + its position, so
// each round is visible to a backup's change detection.
func Mutate(dir string, p Params, round int) ([]Change, error) {
	l := newLayout(p)
	v := newVocab()
	fivePct := func(n int) int { return max(1, int(math.Round(float64(n)/20))) }
	var sel []fileSpec
	sel = append(sel, pickFiles(p.Seed, round, "random", l.random, fivePct(len(l.random)))...)
	sel = append(sel, pickFiles(p.Seed, round, "text", l.text, 1)...)
	if len(l.small) > 0 {
		sel = append(sel, pickFiles(p.Seed, round, "small", l.small, fivePct(len(l.small)))...)
	}
	changes := make([]Change, 0, len(sel))
	for n, s := range sel {
		c, err := mutateFile(dir, p, v, s, round, n)
		if err != nil {
			return changes, err
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// pickFiles chooses k of specs for this round, sorted by path.
func pickFiles(seed uint64, round int, class string, specs []fileSpec, k int) []fileSpec {
	r, _ := newRNG(seed, fmt.Sprintf("mutate/%d/pick/%s", round, class))
	out := make([]fileSpec, 0, k)
	for _, i := range r.Perm(len(specs))[:min(k, len(specs))] {
		out = append(out, specs[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out
}

// mutateFile applies one change to s; n is its position in the round's
// selection, which alternates the kinds of change.
func mutateFile(dir string, p Params, v *vocab, s fileSpec, round, n int) (Change, error) {
	path := filepath.Join(dir, s.rel)
	st, err := os.Stat(path)
	if err != nil {
		return Change{}, fmt.Errorf("mutate: %w", err)
	}
	size := st.Size()
	r, c := newRNG(p.Seed, fmt.Sprintf("mutate/%d/%s", round, s.rel))
	g := &textGen{r: r, v: v, ms: baseUnix*1000 + int64(round)*30*24*3600*1000}
	ch := Change{Rel: s.rel, Kind: Append, Offset: size}
	var data []byte
	overwrite := (n+round)%2 == 0
	switch s.kind {
	case kindRandom:
		ch.Len = int64(float64(MiB) * shrink(p.Scale))
		if overwrite && size >= 2 {
			ch.Kind, ch.Len = Overwrite, min(int64(MaxRandomOverwrite), size/2)
			ch.Offset = r.Int64N(size - ch.Len + 1)
		}
		data = make([]byte, ch.Len)
		_, _ = c.Read(data)
	case kindSmall:
		ch.Len = int64(256 + r.IntN(MaxSmallAppend-256+1))
		if overwrite && size > 0 {
			ch.Kind, ch.Len = Overwrite, min(int64(64+r.IntN(MaxSmallOverwrite-64+1)), size)
			ch.Offset = r.Int64N(size - ch.Len + 1)
		}
		data = textOf(g, s, ch.Len)
	default: // text: always new lines at the end, as logs grow
		ch.Len = max(KiB, size/50)
		g.line = 1 // no second CSV header
		data = textOf(g, s, ch.Len)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return Change{}, fmt.Errorf("mutate: %w", err)
	}
	_, err = f.WriteAt(data, ch.Offset)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Change{}, fmt.Errorf("mutate %s: %w", s.rel, err)
	}
	mt := time.Unix(baseUnix, 0).Add(time.Duration(round)*24*time.Hour + time.Duration(n)*time.Second)
	return ch, setMtime(path, mt)
}

// textOf returns exactly n bytes of s's kind of text.
func textOf(g *textGen, s fileSpec, n int64) []byte {
	var b []byte
	for int64(len(b)) < n {
		b = g.next(b, s.kind, s.flavour)
	}
	return b[:n]
}
