package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMakeTestTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	info := MakeTestTree(t, dir, TreeOptions{Seed: 1, Special: true, NoUnreadable: !IsRoot()})
	at := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	t.Logf("info: xattrs=%v fifo=%v chardev=%v blockdev=%v chown=%v unreadable=%v, %d entries",
		info.Xattrs, info.Fifo, info.CharDevice, info.BlockDevice, info.Chown, info.Unreadable, len(info.Paths))

	t.Run("sizes", func(t *testing.T) {
		for rel, size := range map[string]int64{
			"files/empty": 0, "files/one-byte": 1, "files/100KiB": 100 << 10,
			"files/random-3MiB": 3<<20 + 12345, "files/text-2MiB": 2 << 20,
			"dedup/copy-1": 1<<20 + 300<<10, "sparse/hole-then-data": 1<<20 + 64<<10,
		} {
			if st := lstat(t, at(rel)); st.Size != size {
				t.Errorf("%s: size %d, want %d", rel, st.Size, size)
			}
		}
	})
	t.Run("dedup and sparse", func(t *testing.T) {
		a, _ := os.ReadFile(at("dedup/copy-1"))
		b, _ := os.ReadFile(at("dedup/copy-2"))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Error("dedup copies differ")
		}
		st := lstat(t, at("sparse/hole-then-data"))
		if !isSparse(&st) {
			t.Errorf("sparse file has %d blocks for %d bytes", st.Blocks, st.Size)
		}
		data, _ := os.ReadFile(at("sparse/hole-then-data"))
		if !bytes.Equal(data[:1<<20], make([]byte, 1<<20)) {
			t.Error("hole does not read as zeros")
		}
	})
	t.Run("symlinks", func(t *testing.T) {
		for rel, target := range map[string]string{
			"links/relative": "../files/one-byte", "links/absolute": "/dev/null",
			"links/dangling": "no/such/target", "links/to-dir": "../dirs/a",
			"links/non-utf8-target": "tgt\xff",
		} {
			if got, err := os.Readlink(at(rel)); err != nil || got != target {
				t.Errorf("%s -> %q (%v), want %q", rel, got, err, target)
			}
		}
	})
	t.Run("hardlinks", func(t *testing.T) {
		if lstat(t, at("hardlinks/pair-1")).Ino != lstat(t, at("hardlinks/pair-2")).Ino {
			t.Error("pair is not one inode")
		}
		st := lstat(t, at("hardlinks/sub/triple-3"))
		if st.Nlink != 3 || st.Ino != lstat(t, at("hardlinks/triple-1")).Ino {
			t.Errorf("triple: nlink %d", st.Nlink)
		}
	})
	t.Run("names", func(t *testing.T) {
		for _, n := range treeNameCases() {
			lstat(t, at("names/"+n))
		}
	})
	t.Run("modes", func(t *testing.T) {
		for rel, mode := range map[string]uint32{
			"modes/0600": 0o600, "modes/0755": 0o755, "modes/0644": 0o644,
			"modes/04755-setuid": 0o4755, "modes/02755-setgid-dir": 0o2755,
			"modes/01777-sticky-dir": 0o1777, "modes/0000-unreadable": 0,
		} {
			if rel == "modes/0000-unreadable" && !info.Unreadable {
				continue
			}
			if got := lstat(t, at(rel)).Mode & 0o7777; got != mode {
				t.Errorf("%s: mode %04o, want %04o", rel, got, mode)
			}
		}
	})
	t.Run("mtimes", func(t *testing.T) {
		base, _ := time.Parse(time.RFC3339Nano, TreeBaseTime)
		seen := map[time.Time]string{}
		for _, rel := range append([]string{"."}, info.Paths...) {
			st := lstat(t, at(rel))
			mt := time.Unix(st.Mtim.Unix())
			if mt.Before(base) || mt.Nanosecond() == 0 {
				t.Errorf("%q: mtime %v not set by MakeTestTree", rel, mt)
			}
			// Hardlinked names share one inode and so one mtime.
			if other, dup := seen[mt]; dup && lstat(t, at(other)).Ino != st.Ino {
				t.Errorf("%q and %q have the same mtime", rel, other)
			}
			seen[mt] = rel
		}
	})
	t.Run("xattrs", func(t *testing.T) {
		if !info.Xattrs {
			t.Skip("filesystem without user xattrs")
		}
		x, err := userXattrs(at("xattr/file"))
		if err != nil || x["user.hbackup"] != "value" || x["user.hbackup.binary"] != "\x00\x01\x02\xfe\xff" {
			t.Errorf("xattrs %q, %v", x, err)
		}
	})
	t.Run("special", func(t *testing.T) {
		if !info.Fifo || typeName(lstat(t, at("special/fifo")).Mode) != "fifo" {
			t.Error("no fifo")
		}
		if !IsRoot() {
			t.Skip("device nodes need root")
		}
		if !info.CharDevice {
			t.Skip("mknod not permitted here")
		}
		st := lstat(t, at("special/char-1-3"))
		if typeName(st.Mode) != "chardev" || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
			t.Errorf("char device %s %d:%d", typeName(st.Mode), unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
	})
	t.Run("owners", func(t *testing.T) {
		RequireRoot(t)
		if st := lstat(t, at("owner/uid1234-gid5678")); st.Uid != 1234 || st.Gid != 5678 {
			t.Errorf("owner %d:%d", st.Uid, st.Gid)
		}
		if st := lstat(t, at("owner/link-1234")); st.Uid != 1234 {
			t.Errorf("symlink owner %d", st.Uid)
		}
		if st := lstat(t, at("owner/nobody")); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("owner %d:%d", st.Uid, st.Gid)
		}
	})
	t.Run("paths list every entry", func(t *testing.T) {
		tree, err := scanTree(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for rel := range tree {
			if rel != "." {
				all = append(all, rel)
			}
		}
		sort.Strings(all)
		if !reflect.DeepEqual(all, info.Paths) {
			t.Errorf("Paths has %d entries, tree has %d", len(info.Paths), len(all))
		}
	})
}

func TestMakeTestTreeNoUnreadable(t *testing.T) {
	dir := t.TempDir()
	info := MakeTestTree(t, dir, TreeOptions{NoUnreadable: true})
	if info.Unreadable || info.Fifo {
		t.Errorf("info %+v", info)
	}
	for _, rel := range []string{"modes/0000-unreadable", "special"} {
		if _, err := os.Lstat(filepath.Join(dir, rel)); !os.IsNotExist(err) {
			t.Errorf("%s exists (%v)", rel, err)
		}
	}
}

func TestMakeTestTreeDeterministic(t *testing.T) {
	opt := CompareOptions{Owner: true, Xattrs: true, Sparse: true}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	MakeTestTree(t, a, TreeOptions{Seed: 5, Special: true, NoUnreadable: !IsRoot()})
	MakeTestTree(t, b, TreeOptions{Seed: 5, Special: true, NoUnreadable: !IsRoot()})
	MakeTestTree(t, c, TreeOptions{Seed: 6, Special: true, NoUnreadable: !IsRoot()})
	if d := Diff(a, b, opt); len(d) != 0 {
		t.Errorf("same seed, differences:\n%s", joinLines(d))
	}
	want := []string{"dedup/copy-1", "dedup/copy-2", "files/100KiB", "files/random-3MiB", "sparse/hole-then-data"}
	d := Diff(a, c, opt)
	if len(d) != len(want) {
		t.Fatalf("other seed: %d differences, want %d:\n%s", len(d), len(want), joinLines(d))
	}
	for i, rel := range want {
		if !bytes.HasPrefix([]byte(d[i]), []byte(displayRel(rel)+": content:")) {
			t.Errorf("difference %d = %q, want content of %s", i, d[i], rel)
		}
	}
}
