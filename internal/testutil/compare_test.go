package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// cpA copies src to the new directory dst with `cp -a`.
func cpA(t *testing.T, src, dst string) {
	t.Helper()
	cp := RequireBinary(t, "cp")
	if out, err := exec.Command(cp, "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
}

// keepTimes records the atime and mtime of rels under root and returns a
// function restoring them, so a mutation changes exactly one attribute.
func keepTimes(t *testing.T, root string, rels ...string) func() {
	t.Helper()
	type saved struct {
		path string
		ts   []unix.Timespec
	}
	var all []saved
	for _, rel := range rels {
		p := filepath.Join(root, rel)
		st := lstat(t, p)
		all = append(all, saved{p, []unix.Timespec{st.Atim, st.Mtim}})
	}
	return func() {
		t.Helper()
		for _, s := range all {
			if err := unix.UtimesNanoAt(unix.AT_FDCWD, s.path, s.ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDiffCpACopyHasNoDifferences(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	info := MakeTestTree(t, src, TreeOptions{Seed: 3, Special: true, NoUnreadable: !IsRoot()})
	dst := filepath.Join(t.TempDir(), "dst")
	cpA(t, src, dst)
	if d := Diff(src, dst, CompareOptions{Owner: true, Xattrs: info.Xattrs, Sparse: true}); len(d) != 0 {
		t.Errorf("cp -a copy differs:\n%s", joinLines(d))
	}
}

// diffCase mutates a cp -a copy of the test tree and names the single line
// Diff must report.
type diffCase struct {
	name   string
	needs  func(info TreeInfo) string // non-empty: reason to skip
	opt    func(o *CompareOptions)
	mutate func(t *testing.T, dir string)
	want   []string // each difference line must start with the matching prefix
}

func TestDiffDetectsEachChange(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	info := MakeTestTree(t, base, TreeOptions{Seed: 9, Special: true, NoUnreadable: !IsRoot()})
	for _, c := range diffCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.needs != nil {
				if why := c.needs(info); why != "" {
					t.Skip(why)
				}
			}
			got := filepath.Join(t.TempDir(), "copy")
			cpA(t, base, got)
			c.mutate(t, got)
			opt := CompareOptions{Owner: true, Xattrs: info.Xattrs, Sparse: true}
			if c.opt != nil {
				c.opt(&opt)
			}
			d := Diff(base, got, opt)
			if len(d) != len(c.want) {
				t.Fatalf("%d differences, want %d:\n%s", len(d), len(c.want), joinLines(d))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(d[i], w) {
					t.Errorf("difference %d:\n  got  %s\n  want %s...", i, d[i], w)
				}
			}
			t.Logf("reported: %s", joinLines(d))
		})
	}
}

func diffCases() []diffCase {
	needXattrs := func(i TreeInfo) string {
		if !i.Xattrs {
			return "no user xattrs on this filesystem"
		}
		return ""
	}
	return []diffCase{
		{name: "changed byte", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "files/random-3MiB")()
			f, err := os.OpenFile(filepath.Join(dir, "files/random-3MiB"), os.O_RDWR, 0)
			must(t, err)
			b := make([]byte, 1)
			_, err = f.ReadAt(b, 2<<20)
			must(t, err)
			_, err = f.WriteAt([]byte{b[0] ^ 1}, 2<<20)
			must(t, err)
			must(t, f.Close())
		}, want: []string{`"files/random-3MiB": content: sha256 want `}},
		{name: "changed mode", mutate: func(t *testing.T, dir string) {
			must(t, os.Chmod(filepath.Join(dir, "files/one-byte"), 0o640))
		}, want: []string{`"files/one-byte": mode: want 0644, got 0640`}},
		{name: "lost setuid", mutate: func(t *testing.T, dir string) {
			must(t, unix.Chmod(filepath.Join(dir, "modes/04755-setuid"), 0o755))
		}, want: []string{`"modes/04755-setuid": mode: want 4755, got 0755`}},
		{name: "changed mtime by 1ns", mutate: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "files/empty")
			st := lstat(t, p)
			mt := time.Unix(st.Mtim.Unix()).Add(time.Nanosecond)
			must(t, os.Chtimes(p, mt, mt))
		}, want: []string{`"files/empty": mtime: want 2021-`}},
		{name: "changed symlink mtime", mutate: func(t *testing.T, dir string) {
			ts := unix.NsecToTimespec(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			must(t, unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(dir, "links/dangling"), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
		}, want: []string{`"links/dangling": mtime: want 2021-`}},
		{name: "changed dir mtime", mutate: touchDirsA, want: []string{`"dirs/a": mtime: want 2021-`}},
		{name: "IgnoreDirMtime", mutate: touchDirsA, opt: func(o *CompareOptions) { o.IgnoreDirMtime = true }},
		{name: "IgnoreRootMtime", mutate: func(t *testing.T, dir string) {
			must(t, os.Chtimes(dir, time.Now(), time.Now()))
		}, opt: func(o *CompareOptions) { o.IgnoreRootMtime = true }},
		{name: "MtimePrecision", mutate: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "files/empty")
			st := lstat(t, p)
			mt := time.Unix(st.Mtim.Unix()).Add(time.Nanosecond) // same second
			must(t, os.Chtimes(p, mt, mt))
		}, opt: func(o *CompareOptions) { o.MtimePrecision = time.Second }},
		{name: "missing file", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "dirs/a")()
			must(t, os.Remove(filepath.Join(dir, "dirs/a/sibling.txt")))
		}, want: []string{`"dirs/a/sibling.txt": only in want (file)`}},
		{name: "missing subtree reported once", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "dirs")()
			must(t, os.RemoveAll(filepath.Join(dir, "dirs/a")))
		}, want: []string{`"dirs/a": only in want (dir, and 4 entries below)`}},
		{name: "extra file", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "dirs")()
			must(t, os.WriteFile(filepath.Join(dir, "dirs/extra"), nil, 0o644))
		}, want: []string{`"dirs/extra": only in got (file)`}},
		{name: "extra file with odd name", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "names")()
			must(t, os.WriteFile(filepath.Join(dir, "names/bad\xfename"), nil, 0o644))
		}, want: []string{`"names/bad\xfename": only in got (file)`}},
		{name: "changed type", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "files")()
			must(t, os.Remove(filepath.Join(dir, "files/empty")))
			must(t, os.Mkdir(filepath.Join(dir, "files/empty"), 0o644))
		}, want: []string{`"files/empty": type: want file, got dir`}},
		{name: "changed symlink target", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "links", "links/relative")()
			p := filepath.Join(dir, "links/relative")
			must(t, os.Remove(p))
			must(t, os.Symlink("../files/empty", p))
		}, want: []string{`"links/relative": symlink target: want "../files/one-byte", got "../files/empty"`}},
		{name: "broken hardlink", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "hardlinks", "hardlinks/pair-2")()
			p := filepath.Join(dir, "hardlinks/pair-2")
			data, err := os.ReadFile(p)
			must(t, err)
			must(t, os.Remove(p))
			must(t, os.WriteFile(p, data, 0o644))
			must(t, os.Chmod(p, 0o644))
		}, want: []string{`hardlinks: want one inode for ["hardlinks/pair-1" "hardlinks/pair-2"], got 2 inodes`}},
		{name: "extra hardlink", mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "dedup")()
			p := filepath.Join(dir, "dedup/copy-2")
			must(t, os.Remove(p))
			must(t, os.Link(filepath.Join(dir, "dedup/copy-1"), p))
		}, want: []string{ // the shared inode has copy-1's mtime
			`"dedup/copy-2": mtime: want `,
			`hardlinks: want 2 inodes [["dedup/copy-1"] ["dedup/copy-2"]], got one inode for`,
		}},
		{name: "changed xattr", needs: needXattrs, mutate: func(t *testing.T, dir string) {
			must(t, unix.Lsetxattr(filepath.Join(dir, "xattr/file"), "user.hbackup", []byte("changed"), 0))
		}, want: []string{`"xattr/file": xattr user.hbackup: want "value", got "changed"`}},
		{name: "removed dir xattr", needs: needXattrs, mutate: func(t *testing.T, dir string) {
			must(t, unix.Lremovexattr(filepath.Join(dir, "xattr/dir"), "user.hbackup"))
		}, want: []string{`"xattr/dir": xattr user.hbackup: only in want ("dir value")`}},
		{name: "xattrs not compared", needs: needXattrs, mutate: func(t *testing.T, dir string) {
			must(t, unix.Lremovexattr(filepath.Join(dir, "xattr/dir"), "user.hbackup"))
		}, opt: func(o *CompareOptions) { o.Xattrs = false }},
		{name: "changed owner", needs: needRoot, mutate: func(t *testing.T, dir string) {
			must(t, os.Lchown(filepath.Join(dir, "owner/link-1234"), 4321, 5678))
		}, want: []string{`"owner/link-1234": owner: want 1234:5678, got 4321:5678`}},
		{name: "changed device", needs: func(i TreeInfo) string {
			if !i.CharDevice {
				return "no device nodes (needs root and mknod)"
			}
			return ""
		}, mutate: func(t *testing.T, dir string) {
			defer keepTimes(t, dir, "special", "special/char-1-3")()
			p := filepath.Join(dir, "special/char-1-3")
			must(t, os.Remove(p))
			must(t, unix.Mknod(p, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))))
			must(t, unix.Chmod(p, 0o644))
		}, want: []string{`"special/char-1-3": device: want 1:3, got 1:5`}},
		{name: "filled sparse file", mutate: fillSparse, want: []string{`"sparse/hole-then-data": sparse: want true, got false`}},
		{name: "sparseness not compared", mutate: fillSparse, opt: func(o *CompareOptions) { o.Sparse = false }},
	}
}

func needRoot(TreeInfo) string {
	if !IsRoot() {
		return "needs root"
	}
	return ""
}

func touchDirsA(t *testing.T, dir string) {
	mt := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	must(t, os.Chtimes(filepath.Join(dir, "dirs/a"), mt, mt))
}

// fillSparse rewrites the sparse file with the same bytes, all allocated.
func fillSparse(t *testing.T, dir string) {
	defer keepTimes(t, dir, "sparse", "sparse/hole-then-data")()
	p := filepath.Join(dir, "sparse/hole-then-data")
	data, err := os.ReadFile(p)
	must(t, err)
	must(t, os.Remove(p))
	must(t, os.WriteFile(p, data, 0o644))
	must(t, os.Chmod(p, 0o644))
}

func TestCompareTreesCapsItsReport(t *testing.T) {
	want, got := t.TempDir(), t.TempDir()
	for i := range 80 {
		must(t, os.WriteFile(filepath.Join(got, fmt.Sprintf("extra-%02d", i)), nil, 0o644))
	}
	opt := CompareOptions{IgnoreRootMtime: true}
	if n := len(Diff(want, got, opt)); n != 80 {
		t.Fatalf("Diff found %d differences, want 80", n)
	}
	rec := runRecorded(t, func(tb testing.TB) { CompareTrees(tb, want, got, opt) })
	if !rec.failed || len(rec.msgs) != 1 {
		t.Fatalf("CompareTrees: failed=%v msgs=%d", rec.failed, len(rec.msgs))
	}
	msg := rec.msgs[0]
	if lines := strings.Count(msg, "\n"); lines > 52 {
		t.Errorf("report has %d lines", lines)
	}
	for _, s := range []string{"80 differences", `"extra-00": only in got (file)`, "... and 30 more"} {
		if !strings.Contains(msg, s) {
			t.Errorf("report lacks %q:\n%s", s, msg)
		}
	}
	if strings.Contains(msg, "extra-79") {
		t.Error("report was not capped")
	}
}

func TestCompareTreesPassesOnEqualTrees(t *testing.T) {
	dir := t.TempDir()
	rec := runRecorded(t, func(tb testing.TB) { CompareTrees(tb, dir, dir, CompareOptions{Owner: true, Xattrs: true}) })
	if rec.failed {
		t.Fatalf("a tree differs from itself: %v", rec.msgs)
	}
}

func TestDiffMissingRoot(t *testing.T) {
	d := Diff(filepath.Join(t.TempDir(), "nope"), t.TempDir(), CompareOptions{})
	if len(d) != 1 || !strings.HasPrefix(d[0], "scanning want tree: lstat") {
		t.Errorf("Diff = %q", d)
	}
}
