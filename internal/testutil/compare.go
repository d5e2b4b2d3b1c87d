package testutil

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// CompareOptions tunes Diff and CompareTrees. Names (as raw bytes), types,
// permission and setuid/setgid/sticky bits, sizes, contents, symlink
// targets, device numbers, hardlink structure and mtimes are always compared.
type CompareOptions struct {
	IgnoreRootMtime bool          // the roots' own mtimes may differ
	IgnoreDirMtime  bool          // no directory mtime is compared
	MtimePrecision  time.Duration // compare mtimes truncated to this; 0 is exact
	Owner           bool          // compare uid and gid
	Xattrs          bool          // compare user.* extended attributes
	Sparse          bool          // compare whether regular files have holes
}

// mtimeLayout always shows all nine fractional digits, so values line up.
const mtimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// maxReportedDiffs caps the list CompareTrees prints; Diff returns all.
const maxReportedDiffs = 50

// CompareTrees marks the test failed (t.Errorf) with a list of every
// difference between the trees at want and got, at most 50 lines of it.
func CompareTrees(t testing.TB, want, got string, opt CompareOptions) {
	t.Helper()
	diffs := Diff(want, got, opt)
	if len(diffs) == 0 {
		return
	}
	shown := diffs[:min(len(diffs), maxReportedDiffs)]
	msg := strings.Join(shown, "\n")
	if more := len(diffs) - len(shown); more > 0 {
		msg += fmt.Sprintf("\n... and %d more", more)
	}
	t.Errorf("trees differ (want %s, got %s), %d differences:\n%s", want, got, len(diffs), msg)
}

// Diff walks both trees with Lstat, never following symlinks, and returns
// one readable line per difference, ordered by path; nil means equal. An
// entry missing together with everything below it is reported once.
func Diff(want, got string, opt CompareOptions) []string {
	w, err := scanTree(want, opt.Xattrs)
	if err != nil {
		return []string{fmt.Sprintf("scanning want tree: %v", err)}
	}
	g, err := scanTree(got, opt.Xattrs)
	if err != nil {
		return []string{fmt.Sprintf("scanning got tree: %v", err)}
	}
	d := &differ{opt: opt, want: w, got: g}
	d.compareEntries()
	d.compareHardlinks()
	return d.out
}

type differ struct {
	opt       CompareOptions
	want, got scannedTree
	out       []string
}

func (d *differ) addf(rel, format string, args ...any) {
	d.out = append(d.out, displayRel(rel)+": "+fmt.Sprintf(format, args...))
}

func (d *differ) compareEntries() {
	union := map[string]bool{}
	for rel := range d.want {
		union[rel] = true
	}
	for rel := range d.got {
		union[rel] = true
	}
	paths := make([]string, 0, len(union))
	for rel := range union {
		paths = append(paths, rel)
	}
	sort.Strings(paths)
	below := map[string]int{} // entries hidden under a reported missing dir
	for _, rel := range paths {
		if top := d.topOnlyIn(rel); top != rel {
			below[top]++
		}
	}
	for _, rel := range paths {
		wn, gn := d.want[rel], d.got[rel]
		switch {
		case gn == nil && d.topOnlyIn(rel) == rel:
			d.addf(rel, "only in want (%s%s)", typeName(wn.st.Mode), belowNote(below[rel]))
		case wn == nil && d.topOnlyIn(rel) == rel:
			d.addf(rel, "only in got (%s%s)", typeName(gn.st.Mode), belowNote(below[rel]))
		case wn != nil && gn != nil:
			d.compareNode(rel, wn, gn)
		}
	}
}

// topOnlyIn returns the highest ancestor of rel (or rel) that exists in only
// one tree, for a rel that exists in only one tree; otherwise rel itself.
func (d *differ) topOnlyIn(rel string) string {
	onlyIn := func(r string) bool { return (d.want[r] == nil) != (d.got[r] == nil) }
	top := rel
	for top != "." && onlyIn(top) && onlyIn(parentRel(top)) {
		top = parentRel(top)
	}
	return top
}

func belowNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", and %d entries below", n)
}

func (d *differ) compareNode(rel string, wn, gn *node) {
	wt, gt := typeName(wn.st.Mode), typeName(gn.st.Mode)
	if wt != gt {
		d.addf(rel, "type: want %s, got %s", wt, gt)
		return
	}
	if wt != "symlink" && wn.st.Mode&0o7777 != gn.st.Mode&0o7777 { // Linux symlinks are always 0777
		d.addf(rel, "mode: want %04o, got %04o", wn.st.Mode&0o7777, gn.st.Mode&0o7777)
	}
	if d.opt.Owner && (wn.st.Uid != gn.st.Uid || wn.st.Gid != gn.st.Gid) {
		d.addf(rel, "owner: want %d:%d, got %d:%d", wn.st.Uid, wn.st.Gid, gn.st.Uid, gn.st.Gid)
	}
	d.compareMtime(rel, wn, gn)
	switch wt {
	case "file":
		d.compareFile(rel, wn, gn)
	case "symlink":
		if wn.target != gn.target {
			d.addf(rel, "symlink target: want %q, got %q", wn.target, gn.target)
		}
	case "chardev", "blockdev":
		if wn.st.Rdev != gn.st.Rdev {
			d.addf(rel, "device: want %d:%d, got %d:%d",
				unix.Major(wn.st.Rdev), unix.Minor(wn.st.Rdev), unix.Major(gn.st.Rdev), unix.Minor(gn.st.Rdev))
		}
	}
	if d.opt.Xattrs {
		d.compareXattrs(rel, wn.xattrs, gn.xattrs)
	}
}

func (d *differ) compareMtime(rel string, wn, gn *node) {
	isDir := wn.st.Mode&unix.S_IFMT == unix.S_IFDIR
	if (rel == "." && d.opt.IgnoreRootMtime) || (isDir && d.opt.IgnoreDirMtime) {
		return
	}
	wm, gm := time.Unix(wn.st.Mtim.Unix()).UTC(), time.Unix(gn.st.Mtim.Unix()).UTC()
	if p := d.opt.MtimePrecision; p > 0 {
		wm, gm = wm.Truncate(p), gm.Truncate(p)
	}
	if !wm.Equal(gm) {
		d.addf(rel, "mtime: want %s, got %s", wm.Format(mtimeLayout), gm.Format(mtimeLayout))
	}
}

func (d *differ) compareFile(rel string, wn, gn *node) {
	if d.opt.Sparse && isSparse(&wn.st) != isSparse(&gn.st) {
		d.addf(rel, "sparse: want %v, got %v", isSparse(&wn.st), isSparse(&gn.st))
	}
	if wn.st.Size != gn.st.Size {
		d.addf(rel, "size: want %d, got %d", wn.st.Size, gn.st.Size)
		return
	}
	wh, err := hashFile(wn.path)
	if err != nil {
		d.addf(rel, "content: want side: %v", err)
		return
	}
	gh, err := hashFile(gn.path)
	if err != nil {
		d.addf(rel, "content: got side: %v", err)
		return
	}
	if wh != gh {
		d.addf(rel, "content: sha256 want %x, got %x", wh[:8], gh[:8])
	}
}

// isSparse reports whether fewer bytes are allocated than the file's size.
func isSparse(st *unix.Stat_t) bool {
	return st.Blocks*512 < st.Size
}

func (d *differ) compareXattrs(rel string, want, got map[string]string) {
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		wv, inWant := want[n]
		gv, inGot := got[n]
		switch {
		case !inGot:
			d.addf(rel, "xattr %s: only in want (%q)", n, wv)
		case !inWant:
			d.addf(rel, "xattr %s: only in got (%q)", n, gv)
		case wv != gv:
			d.addf(rel, "xattr %s: want %q, got %q", n, wv, gv)
		}
	}
}
