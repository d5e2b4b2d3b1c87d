package testutil

import (
	"bytes"
	"sort"
	"strings"
	"testing"
	"time"
)

// TreeOptions selects what MakeTestTree creates.
type TreeOptions struct {
	Seed         int64 // varies the pseudo-random file contents
	Special      bool  // also create a fifo and, when root, device nodes
	NoUnreadable bool  // leave out the mode-0000 file, which only root can read
}

// TreeInfo reports what MakeTestTree created. Some cases depend on privileges
// or on the filesystem, so tests consult it instead of assuming.
type TreeInfo struct {
	Root        string
	Paths       []string // every entry below Root, slash-separated, sorted
	Xattrs      bool     // user xattrs were set (false when the fs lacks them)
	Fifo        bool     // special/fifo exists
	CharDevice  bool     // special/char-1-3 exists
	BlockDevice bool     // special/block-7-0 exists
	Chown       bool     // owner/* belong to uids 1234 and 65534 (needs root)
	Unreadable  bool     // modes/0000-unreadable exists
}

// TreeBaseTime is the mtime of the first entry MakeTestTree times; entry i
// gets TreeBaseTime + i·(1h+1ns), so every entry has its own nanosecond part.
const TreeBaseTime = "2021-03-04T05:06:07.123456789Z"

// MakeTestTree fills dir (created if needed) with one clearly named entry per
// case a backup must preserve: file sizes from 0 bytes to 3 MiB+, duplicate
// content, a sparse file, nested and empty directories, all kinds of
// symlinks, hardlink pairs and triples, awkward names, xattrs, special mode
// bits, foreign owners (root only), optionally a fifo and device nodes, and
// explicit nanosecond mtimes on everything, symlinks and directories too.
// It fails the test if an entry cannot be made, except for the cases that
// TreeInfo reports as optional.
func MakeTestTree(t testing.TB, dir string, opt TreeOptions) TreeInfo {
	t.Helper()
	b := &treeBuilder{t: t, root: dir, opt: opt, info: TreeInfo{Root: dir}}
	b.mkdirRoot()
	b.regularFiles()
	b.directories()
	b.symlinks()
	b.hardlinks()
	b.names()
	if opt.Special {
		b.special()
	}
	b.owners() // before modes: chown clears setuid and setgid bits
	b.modes()
	b.xattrs()
	b.setTimes() // last, so nothing created afterwards touches a dir mtime
	sort.Strings(b.info.Paths)
	return b.info
}

func (b *treeBuilder) regularFiles() {
	s := b.opt.Seed
	b.mkdir("files")
	b.file("files/empty", nil)
	b.file("files/one-byte", []byte("x"))
	b.randomFile("files/100KiB", 100<<10, s+1)
	// Larger than restic's 512 KiB minimum chunk several times over.
	b.randomFile("files/random-3MiB", 3<<20+12345, s+2)
	line := []byte("The quick brown fox jumps over the lazy dog. 0123456789\n")
	b.file("files/text-2MiB", bytes.Repeat(line, (2<<20)/len(line)+1)[:2<<20])

	b.mkdir("dedup")
	same := RandomBytes(s+3, 1<<20+300<<10)
	b.file("dedup/copy-1", same)
	b.file("dedup/copy-2", same)

	b.mkdir("sparse")
	b.sparseFile("sparse/hole-then-data", 1<<20, RandomBytes(s+4, 64<<10))
}

func (b *treeBuilder) directories() {
	b.mkdir("dirs")
	b.mkdir("dirs/a")
	b.mkdir("dirs/a/b")
	b.mkdir("dirs/a/b/c")
	b.file("dirs/a/b/c/deep.txt", []byte("deep\n"))
	b.file("dirs/a/sibling.txt", []byte("sibling\n"))
	b.mkdir("dirs/empty")
}

func (b *treeBuilder) symlinks() {
	b.mkdir("links")
	b.symlink("links/relative", "../files/one-byte")
	b.symlink("links/absolute", "/dev/null")
	b.symlink("links/dangling", "no/such/target")
	b.symlink("links/to-dir", "../dirs/a")
	b.symlink("links/non-utf8-target", "tgt\xff")
}

func (b *treeBuilder) hardlinks() {
	b.mkdir("hardlinks")
	b.file("hardlinks/pair-1", []byte("pair\n"))
	b.hardlink("hardlinks/pair-2", "hardlinks/pair-1")
	b.mkdir("hardlinks/sub")
	b.file("hardlinks/triple-1", []byte("triple\n"))
	b.hardlink("hardlinks/triple-2", "hardlinks/triple-1")
	b.hardlink("hardlinks/sub/triple-3", "hardlinks/triple-1")
}

// treeNameCases are the awkward file names placed in names/.
func treeNameCases() []string {
	return []string{
		`quote"mark`, `back\slash`, "new\nline", "tab\there", "bad\xffname",
		"<>&", "-leading-dash", " spaces  inside ", "ünï", "nbsp\u00a0space",
		strings.Repeat("L", 255), // NAME_MAX
	}
}

func (b *treeBuilder) names() {
	b.mkdir("names")
	for _, n := range treeNameCases() {
		b.file("names/"+n, []byte(n))
	}
}

func (b *treeBuilder) special() {
	b.mkdir("special")
	b.info.Fifo = b.fifo("special/fifo")
	if !IsRoot() {
		b.t.Logf("MakeTestTree: not root, no device nodes")
		return
	}
	b.info.CharDevice = b.device("special/char-1-3", 'c', 1, 3)
	b.info.BlockDevice = b.device("special/block-7-0", 'b', 7, 0)
}

func (b *treeBuilder) owners() {
	b.mkdir("owner")
	b.file("owner/uid1234-gid5678", []byte("owned by 1234:5678\n"))
	b.file("owner/nobody", []byte("owned by 65534:65534\n"))
	b.mkdir("owner/dir-1234")
	b.symlink("owner/link-1234", "uid1234-gid5678")
	if !IsRoot() {
		return
	}
	b.chown("owner/uid1234-gid5678", 1234, 5678)
	b.chown("owner/nobody", 65534, 65534)
	b.chown("owner/dir-1234", 1234, 5678)
	b.chown("owner/link-1234", 1234, 5678)
	b.info.Chown = true
}

func (b *treeBuilder) modes() {
	b.mkdir("modes")
	for _, c := range []struct {
		rel  string
		dir  bool
		mode uint32
	}{
		{"modes/0600", false, 0o600},
		{"modes/0755", false, 0o755},
		{"modes/0644", false, 0o644},
		{"modes/04755-setuid", false, 0o4755},
		{"modes/02755-setgid-dir", true, 0o2755},
		{"modes/01777-sticky-dir", true, 0o1777},
		{"modes/0000-unreadable", false, 0o000},
	} {
		if c.mode == 0 && b.opt.NoUnreadable {
			continue
		}
		if c.dir {
			b.mkdir(c.rel)
			b.file(c.rel+"/inside", []byte("inside\n"))
		} else {
			b.file(c.rel, []byte(c.rel+"\n"))
		}
		b.chmod(c.rel, c.mode)
	}
	b.info.Unreadable = !b.opt.NoUnreadable
}

func (b *treeBuilder) xattrs() {
	b.mkdir("xattr")
	b.file("xattr/file", []byte("has xattrs\n"))
	b.mkdir("xattr/dir")
	ok := b.setXattr("xattr/file", "user.hbackup", []byte("value")) &&
		b.setXattr("xattr/file", "user.hbackup.binary", []byte("\x00\x01\x02\xfe\xff")) &&
		b.setXattr("xattr/dir", "user.hbackup", []byte("dir value"))
	b.info.Xattrs = ok
}

// treeTime is the mtime given to the i-th timed entry (see TreeBaseTime).
func treeTime(i int) time.Time {
	base, err := time.Parse(time.RFC3339Nano, TreeBaseTime)
	if err != nil {
		panic(err) // constant input
	}
	return base.Add(time.Duration(i) * (time.Hour + time.Nanosecond))
}
