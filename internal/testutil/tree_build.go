package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// treeBuilder creates MakeTestTree's entries and remembers them so that
// times can be set once everything exists.
type treeBuilder struct {
	t       testing.TB
	root    string
	opt     TreeOptions
	info    TreeInfo
	nonDirs []string // in creation order
	dirs    []string
}

func (b *treeBuilder) abs(rel string) string {
	if rel == "." {
		return b.root
	}
	return filepath.Join(b.root, filepath.FromSlash(rel))
}

func (b *treeBuilder) check(err error, what, rel string) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("MakeTestTree: %s %q: %v", what, rel, err)
	}
}

func (b *treeBuilder) added(rel string, isDir bool) {
	if isDir {
		b.dirs = append(b.dirs, rel)
	} else {
		b.nonDirs = append(b.nonDirs, rel)
	}
	if rel != "." {
		b.info.Paths = append(b.info.Paths, rel)
	}
}

func (b *treeBuilder) mkdirRoot() {
	b.check(os.MkdirAll(b.root, 0o755), "mkdir", ".")
	b.added(".", true)
}

// mkdir and file chmod explicitly so the result does not depend on umask.
func (b *treeBuilder) mkdir(rel string) {
	b.check(os.Mkdir(b.abs(rel), 0o755), "mkdir", rel)
	b.check(unix.Chmod(b.abs(rel), 0o755), "chmod", rel)
	b.added(rel, true)
}

func (b *treeBuilder) file(rel string, data []byte) {
	b.check(os.WriteFile(b.abs(rel), data, 0o644), "write", rel)
	b.check(unix.Chmod(b.abs(rel), 0o644), "chmod", rel)
	b.added(rel, false)
}

func (b *treeBuilder) randomFile(rel string, size, seed int64) {
	b.check(writeRandomFile(b.abs(rel), size, seed), "write", rel)
	b.check(unix.Chmod(b.abs(rel), 0o644), "chmod", rel)
	b.added(rel, false)
}

// sparseFile writes data after a hole of holeSize bytes; Truncate makes the
// hole without allocating it on filesystems that support sparse files.
func (b *treeBuilder) sparseFile(rel string, holeSize int64, data []byte) {
	f, err := os.OpenFile(b.abs(rel), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	b.check(err, "create", rel)
	err = f.Truncate(holeSize + int64(len(data)))
	if err == nil {
		_, err = f.WriteAt(data, holeSize)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	b.check(err, "write", rel)
	b.check(unix.Chmod(b.abs(rel), 0o644), "chmod", rel)
	b.added(rel, false)
}

func (b *treeBuilder) symlink(rel, target string) {
	b.check(os.Symlink(target, b.abs(rel)), "symlink", rel)
	b.added(rel, false)
}

func (b *treeBuilder) hardlink(rel, existing string) {
	b.check(os.Link(b.abs(existing), b.abs(rel)), "link", rel)
	b.added(rel, false)
}

func (b *treeBuilder) fifo(rel string) bool {
	if err := unix.Mkfifo(b.abs(rel), 0o644); err != nil {
		b.t.Logf("MakeTestTree: no fifo %q: %v", rel, err)
		return false
	}
	b.check(unix.Chmod(b.abs(rel), 0o644), "chmod", rel)
	b.added(rel, false)
	return true
}

// device creates a char ('c') or block ('b') node. Failure is only logged:
// containers often deny mknod even to root.
func (b *treeBuilder) device(rel string, kind byte, major, minor uint32) bool {
	mode := uint32(unix.S_IFCHR)
	if kind == 'b' {
		mode = unix.S_IFBLK
	}
	if err := unix.Mknod(b.abs(rel), mode|0o644, int(unix.Mkdev(major, minor))); err != nil {
		b.t.Logf("MakeTestTree: no device node %q: %v", rel, err)
		return false
	}
	b.check(unix.Chmod(b.abs(rel), 0o644), "chmod", rel)
	b.added(rel, false)
	return true
}

func (b *treeBuilder) chown(rel string, uid, gid int) {
	b.check(os.Lchown(b.abs(rel), uid, gid), "chown", rel)
}

// chmod sets the mode and verifies it, because the kernel silently drops
// setgid for a group the caller is not in.
func (b *treeBuilder) chmod(rel string, mode uint32) {
	b.check(unix.Chmod(b.abs(rel), mode), "chmod", rel)
	var st unix.Stat_t
	b.check(unix.Lstat(b.abs(rel), &st), "lstat", rel)
	if st.Mode&0o7777 != mode {
		b.t.Fatalf("MakeTestTree: chmod %q to %04o gave %04o", rel, mode, st.Mode&0o7777)
	}
}

// setXattr reports false when the filesystem does not support user xattrs.
func (b *treeBuilder) setXattr(rel, name string, value []byte) bool {
	err := unix.Lsetxattr(b.abs(rel), name, value, 0)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
		b.t.Logf("MakeTestTree: no user xattrs here: %v", err)
		return false
	}
	b.check(err, "setxattr", rel)
	return true
}

// setTimes gives every entry its own nanosecond mtime (and the same atime).
// Directories come last and deepest first, as setting a time inside a
// directory does not change the directory itself but creating entries does.
func (b *treeBuilder) setTimes() {
	dirs := append([]string(nil), b.dirs...)
	sort.SliceStable(dirs, func(i, j int) bool { return depth(dirs[i]) > depth(dirs[j]) })
	for i, rel := range append(append([]string(nil), b.nonDirs...), dirs...) {
		ts := unix.NsecToTimespec(treeTime(i).UnixNano())
		err := unix.UtimesNanoAt(unix.AT_FDCWD, b.abs(rel), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
		b.check(err, "set times of", rel)
	}
}

// depth is the number of path elements; the root "." has depth 0.
func depth(rel string) int {
	if rel == "." {
		return 0
	}
	return strings.Count(rel, "/") + 1
}
