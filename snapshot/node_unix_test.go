//go:build linux

package snapshot

import (
	"encoding/json"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hbackup/hbackup/repo"
)

func lstatNode(t *testing.T, path string, names *UserNames) (*Node, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NodeFromFileInfo(path, fi, names)
	if err != nil {
		t.Fatalf("NodeFromFileInfo(%s): %v", path, err)
	}
	return n, fi.Sys().(*syscall.Stat_t)
}

// canXattr reports whether dir's filesystem takes user.* xattrs.
func canXattr(t *testing.T, dir string) bool {
	p := filepath.Join(dir, "xattr-probe")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	return unix.Setxattr(p, "user.probe", []byte("x"), 0) == nil
}

func TestNodeFromFileInfo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("content"), 0o640); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 2, 2, 2, 2, 2, 123456789, time.UTC)
	if err := os.Chtimes(file, time.Now(), mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(file, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("tgt\xff", filepath.Join(dir, "badlink")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sub, 0o755|os.ModeSetgid|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	var names UserNames
	me := strconv.Itoa(os.Getuid())
	wantUser := ""
	if u, err := user.LookupId(me); err == nil {
		wantUser = u.Username
	}

	n, st := lstatNode(t, file, &names)
	if n.Name != "file" || n.Type != NodeTypeFile || n.Mode != 0o640 {
		t.Errorf("file: %v", n)
	}
	if !n.ModTime.Equal(mtime) || !n.AccessTime.Equal(mtime) {
		t.Errorf("times: mtime %v atime %v, want %v for both", n.ModTime, n.AccessTime, mtime)
	}
	if !n.ChangeTime.Equal(time.Unix(st.Ctim.Unix())) {
		t.Errorf("ctime %v", n.ChangeTime)
	}
	if n.UID != uint32(os.Getuid()) || n.GID != uint32(os.Getgid()) || n.User != wantUser {
		t.Errorf("owner %d:%d %q, want user %q", n.UID, n.GID, n.User, wantUser)
	}
	if n.Inode != uint64(st.Ino) || n.DeviceID != uint64(st.Dev) || n.Links != 2 || n.Size != 0 {
		t.Errorf("inode %d dev %d links %d size %d", n.Inode, n.DeviceID, n.Links, n.Size)
	}
	if n.Content == nil || len(n.Content) != 0 || n.Subtree != nil || n.LinkTarget != "" || n.Device != 0 {
		t.Errorf("file fields: %+v", n)
	}
	// An unread (empty) file encodes like restic's empty file.
	if js := mustJSON(t, n); !strings.HasSuffix(js, `"links":2,"content":[]}`) || strings.Contains(js, `"size"`) {
		t.Errorf("file JSON %s", js)
	}

	h, _ := lstatNode(t, filepath.Join(dir, "hard"), &names)
	if h.Inode != n.Inode || h.DeviceID != n.DeviceID || h.Links != 2 || h.Name != "hard" {
		t.Errorf("hardlink: %+v", h)
	}

	l, _ := lstatNode(t, filepath.Join(dir, "badlink"), &names)
	if l.Type != NodeTypeSymlink || l.Mode != os.ModeSymlink|0o777 || l.Links != 1 || l.Content != nil {
		t.Errorf("symlink: %+v", l)
	}
	if l.LinkTarget != "tgt\xff" || string(l.LinkTargetRaw) != "tgt\xff" {
		t.Errorf("symlink target %q raw %q", l.LinkTarget, l.LinkTargetRaw)
	}
	if js := mustJSON(t, l); !strings.Contains(js, `"links":1,"linktarget":"tgt\ufffd","linktarget_raw":"dGd0/w==","content":null}`) {
		t.Errorf("symlink JSON %s", js)
	}

	f, _ := lstatNode(t, filepath.Join(dir, "fifo"), &names)
	if f.Type != NodeTypeFifo || f.Mode != os.ModeNamedPipe|0o644 || f.Links != 0 || f.Content != nil {
		t.Errorf("fifo: %+v", f)
	}
	if js := mustJSON(t, f); !strings.Contains(js, `"mode":33554852,`) {
		t.Errorf("fifo JSON %s", js)
	}

	d, _ := lstatNode(t, sub, &names)
	if d.Type != NodeTypeDir || d.Mode != os.ModeDir|os.ModeSetgid|os.ModeSticky|0o755 || d.Links != 0 || d.Content != nil {
		t.Errorf("dir: %+v", d)
	}
	if js := mustJSON(t, d); !strings.Contains(js, `"mode":2152727021,`) || !strings.HasSuffix(js, `"content":null}`) {
		t.Errorf("dir JSON %s", js)
	}
}

func TestNodeFromFileInfoDevice(t *testing.T) {
	n, st := lstatNode(t, "/dev/null", nil)
	if n.Type != NodeTypeCharDev || n.Mode&(os.ModeDevice|os.ModeCharDevice) != os.ModeDevice|os.ModeCharDevice {
		t.Fatalf("/dev/null: %+v", n)
	}
	if n.Device != uint64(st.Rdev) || n.Device == 0 || n.Links != uint64(st.Nlink) {
		t.Fatalf("/dev/null device %d links %d", n.Device, n.Links)
	}
}

func TestXattrRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if !canXattr(t, dir) {
		t.Skip("the temp directory's filesystem does not support user xattrs")
	}
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("v", 3000)
	want := []ExtendedAttribute{{"user.b", []byte("1")}, {"user.a", []byte{}}, {"user.big", []byte(big)}}
	for _, a := range want {
		if err := unix.Setxattr(src, a.Name, a.Value, 0); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := lstatNode(t, src, nil)
	got := map[string]string{}
	for _, a := range n.ExtendedAttributes {
		if a.Value == nil {
			t.Errorf("xattr %s has a nil value", a.Name)
		}
		got[a.Name] = string(a.Value)
	}
	if len(got) != 3 || got["user.b"] != "1" || got["user.a"] != "" || got["user.big"] != big {
		t.Fatalf("xattrs %v", got)
	}
	if js := mustJSON(t, n); !strings.Contains(js, `{"name":"user.a","value":""}`) {
		t.Errorf("empty xattr JSON %s", js)
	}
	// The order is listxattr's.
	list := make([]byte, 1024)
	sz, err := unix.Llistxattr(src, list)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, a := range n.ExtendedAttributes {
		order = append(order, a.Name)
	}
	if strings.Join(order, "\x00")+"\x00" != string(list[:sz]) {
		t.Errorf("order %q, listxattr %q", order, list[:sz])
	}

	// Read through a descriptor: the same node.
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	byFD, err := NodeFromFile(int(f.Fd()), src, fi, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, byFD) != mustJSON(t, n) {
		t.Errorf("NodeFromFile %s, NodeFromFileInfo %s", mustJSON(t, byFD), mustJSON(t, n))
	}

	dst := filepath.Join(dir, "dst")
	if err := os.WriteFile(dst, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.RestoreMetadata(dst, RestoreMetadataOptions{}); err != nil {
		t.Fatal(err)
	}
	m, _ := lstatNode(t, dst, nil)
	if mustJSON(t, m.ExtendedAttributes) != mustJSON(t, n.ExtendedAttributes) {
		t.Fatalf("restored xattrs %s, want %s", mustJSON(t, m.ExtendedAttributes), mustJSON(t, n.ExtendedAttributes))
	}
}

// Restore every kind of node from a source tree into a target and compare
// what NodeFromFileInfo reads back.
func TestCreateAtRestoreMetadata(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	xattrs := canXattr(t, src)
	if !xattrs {
		t.Log("no user xattr support on the temp filesystem: skipping the xattr part")
	}
	mtime := time.Date(2019, 3, 4, 5, 6, 7, 987654321, time.UTC)
	mk := func(name string, create func(string) error, mode os.FileMode) string {
		p := filepath.Join(src, name)
		if err := create(p); err != nil {
			t.Fatal(err)
		}
		if mode != 0 {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
		if xattrs && (name == "dir" || name == "file") { // user.* is only for files and dirs
			if err := unix.Setxattr(p, "user.k", []byte(name), 0); err != nil {
				t.Fatal(err)
			}
		}
		ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mk("dir", func(p string) error { return os.Mkdir(p, 0o700) }, os.ModeSetgid|os.ModeSticky|0o750)
	mk("fifo", func(p string) error { return unix.Mkfifo(p, 0o600) }, 0o640)
	mk("link", func(p string) error { return os.Symlink("../t\xffx", p) }, 0)
	mk("file", func(p string) error { return os.WriteFile(p, []byte("x"), 0o600) }, os.ModeSetuid|0o755)

	asRoot := os.Geteuid() == 0
	for _, name := range []string{"dir", "fifo", "link", "file"} {
		t.Run(name, func(t *testing.T) {
			want, _ := lstatNode(t, filepath.Join(src, name), nil)
			if asRoot {
				want.UID, want.GID = 12345, 23456
			}
			p := filepath.Join(dst, name)
			if name == "file" {
				if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := want.CreateAt(p); err != nil {
				t.Fatal(err)
			}
			if err := want.RestoreMetadata(p, RestoreMetadataOptions{Owner: asRoot}); err != nil {
				t.Fatal(err)
			}
			// atime is restored from the node (= mtime as restic stores
			// it). Check it first: reading a symlink updates its atime.
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				t.Fatal(err)
			}
			if at := time.Unix(st.Atim.Unix()); !at.Equal(want.AccessTime) {
				t.Errorf("atime %v, want %v", at, want.AccessTime)
			}
			got, _ := lstatNode(t, p, nil)
			if got.Type != want.Type || got.Mode != want.Mode {
				t.Errorf("type/mode %s %v, want %s %v", got.Type, got.Mode, want.Type, want.Mode)
			}
			if !got.ModTime.Equal(mtime) || got.ModTime.Nanosecond() != 987654321 {
				t.Errorf("mtime %v, want %v", got.ModTime, mtime)
			}
			if got.Target() != want.Target() {
				t.Errorf("target %q, want %q", got.Target(), want.Target())
			}
			if got.UID != want.UID || got.GID != want.GID {
				t.Errorf("owner %d:%d, want %d:%d", got.UID, got.GID, want.UID, want.GID)
			}
			if mustJSON(t, got.ExtendedAttributes) != mustJSON(t, want.ExtendedAttributes) {
				t.Errorf("xattrs %s, want %s", mustJSON(t, got.ExtendedAttributes), mustJSON(t, want.ExtendedAttributes))
			}
		})
	}
}

func TestCreateAtDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	want, _ := lstatNode(t, "/dev/null", nil)
	p := filepath.Join(t.TempDir(), "null")
	if err := want.CreateAt(p); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("mknod not permitted here: %v", err)
		}
		t.Fatal(err)
	}
	if err := want.RestoreMetadata(p, RestoreMetadataOptions{Owner: true}); err != nil {
		t.Fatal(err)
	}
	got, _ := lstatNode(t, p, nil)
	if got.Type != NodeTypeCharDev || got.Device != want.Device || got.Mode != want.Mode {
		t.Fatalf("device %+v, want %+v", got, want)
	}
	blk := &Node{Type: NodeTypeDev, Device: 7 << 8, Mode: os.ModeDevice | 0o600}
	bp := filepath.Join(t.TempDir(), "blk")
	if err := blk.CreateAt(bp); err != nil {
		t.Fatal(err)
	}
	if got, _ := lstatNode(t, bp, nil); got.Type != NodeTypeDev || got.Device != 7<<8 {
		t.Fatalf("block device %+v", got)
	}
}

func TestCreateAtErrors(t *testing.T) {
	dir := t.TempDir()
	d := &Node{Type: NodeTypeDir}
	if err := d.CreateAt(dir); err != nil {
		t.Fatalf("existing dir: %v", err)
	}
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAt(f); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("dir over a file: %v", err)
	}
	if err := (&Node{Type: NodeTypeFile}).CreateAt(filepath.Join(dir, "g")); err == nil {
		t.Error("CreateAt made a file")
	}
	if err := (&Node{Type: NodeTypeSymlink, LinkTarget: "x"}).CreateAt(f); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("symlink over a file: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	n := &Node{Type: NodeTypeFile, Mode: 0o644, ModTime: time.Now(), AccessTime: time.Now(),
		ExtendedAttributes: []ExtendedAttribute{{"user.x", []byte("y")}}}
	err := n.RestoreMetadata(missing, RestoreMetadataOptions{Owner: true})
	if err == nil || !strings.Contains(err.Error(), "chmod "+missing) || !strings.Contains(err.Error(), "set times of "+missing) {
		t.Errorf("RestoreMetadata on a missing path: %v", err)
	}
}

func TestPosixMode(t *testing.T) {
	for mode, want := range map[os.FileMode]uint32{
		0o644:                              0o644,
		os.ModeDir | 0o755:                 0o755,
		os.ModeSetuid | 0o755:              0o4755,
		os.ModeSetgid | os.ModeDir | 0o750: 0o2750,
		os.ModeSticky | os.ModeDir | 0o777: 0o1777,
		os.ModeSetuid | os.ModeSetgid | os.ModeSticky | 0o700: 0o7700,
	} {
		if got := posixMode(mode); got != want {
			t.Errorf("posixMode(%v) = %o, want %o", mode, got, want)
		}
	}
}

func TestUserNames(t *testing.T) {
	var names UserNames
	const unknown = 3999999999
	if got := names.User(unknown); got != "" {
		t.Errorf("unknown uid gave %q", got)
	}
	if got := names.Group(unknown); got != "" {
		t.Errorf("unknown gid gave %q", got)
	}
	if _, ok := names.users[unknown]; !ok {
		t.Error("unknown uid not cached")
	}
	if u, err := user.LookupId("0"); err == nil {
		if got := names.User(0); got != u.Username {
			t.Errorf("uid 0: %q, want %q", got, u.Username)
		}
		var nilNames *UserNames
		if got := nilNames.User(0); got != u.Username {
			t.Errorf("nil UserNames: %q", got)
		}
	}
}

// A node read from the filesystem survives a JSON round trip.
func TestNodeFromFileInfoJSONRoundTrip(t *testing.T) {
	n, _ := lstatNode(t, t.TempDir(), nil)
	n.Subtree = idPtr(repo.Hash([]byte("{\"nodes\":[]}\n")))
	data, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	var back Node
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	assertNodesEqual(t, n, &back)
}

// TestNodeFromFileInfoSince: an item whose type, inode and ctime are its
// earlier node's keeps that node's extended attributes without reading
// them (a marker attribute the file does not have shows it); a changed
// ctime, inode or type reads them again.
func TestNodeFromFileInfoSince(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("content"), 0o640); err != nil {
		t.Fatal(err)
	}
	xattrs := canXattr(t, dir)
	if xattrs {
		if err := unix.Setxattr(file, "user.real", []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := lstatNode(t, file, nil)
	marker := []ExtendedAttribute{{"user.marker", []byte("kept")}}
	since := func(prev Node) *Node {
		t.Helper()
		prev.ExtendedAttributes = marker
		fi, err := os.Lstat(file)
		if err != nil {
			t.Fatal(err)
		}
		n, err := NodeFromFileInfoSince(file, fi, nil, &prev)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	isMarker := func(n *Node) bool {
		return len(n.ExtendedAttributes) == 1 && n.ExtendedAttributes[0].Name == "user.marker"
	}
	if n := since(*before); !isMarker(n) {
		t.Errorf("unchanged: xattrs %v, want the earlier node's", n.ExtendedAttributes)
	}
	otherInode, otherType := *before, *before
	otherInode.Inode++
	otherType.Type = NodeTypeDir
	for name, prev := range map[string]Node{"other inode": otherInode, "other type": otherType} {
		if n := since(prev); isMarker(n) {
			t.Errorf("%s: kept the earlier node's xattrs", name)
		}
	}
	// Changing an attribute changes the ctime; so does chmod, where the
	// file system takes no user attributes.
	time.Sleep(10 * time.Millisecond) // a coarse ctime clock must tick
	if xattrs {
		if err := unix.Setxattr(file, "user.new", []byte("2"), 0); err != nil {
			t.Fatal(err)
		}
	} else if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	n := since(*before)
	if isMarker(n) {
		t.Fatal("ctime changed: kept the earlier node's xattrs")
	}
	if xattrs && len(n.ExtendedAttributes) != 2 {
		t.Errorf("ctime changed: xattrs %v, want user.real and user.new", n.ExtendedAttributes)
	}
}
