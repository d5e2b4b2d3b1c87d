//go:build linux

package snapshot

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/hbackup/hbackup/repo"
)

// UserNames caches uid and gid to name lookups. The zero value is ready;
// it is safe for concurrent use. A nil *UserNames looks up without caching.
type UserNames struct {
	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
}

// User returns the name of uid, or "" if it has none.
func (u *UserNames) User(uid uint32) string {
	if u == nil {
		return lookupUser(uid)
	}
	return u.cached(&u.users, uid, lookupUser)
}

// Group returns the name of gid, or "" if it has none.
func (u *UserNames) Group(gid uint32) string {
	if u == nil {
		return lookupGroup(gid)
	}
	return u.cached(&u.groups, gid, lookupGroup)
}

func (u *UserNames) cached(m *map[uint32]string, id uint32, lookup func(uint32) string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if name, ok := (*m)[id]; ok {
		return name
	}
	// Unknown IDs are common (files from other systems): cache "" too.
	name := lookup(id)
	if *m == nil {
		*m = make(map[uint32]string)
	}
	(*m)[id] = name
	return name
}

func lookupUser(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return ""
	}
	return u.Username
}

func lookupGroup(gid uint32) string {
	g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10))
	if err != nil {
		return ""
	}
	return g.Name
}

// storedModeBits are the FileMode bits restic keeps.
const storedModeBits = os.ModePerm | os.ModeType | os.ModeSetuid | os.ModeSetgid | os.ModeSticky

// nodeTypeOf maps a FileMode to restic's node type.
func nodeTypeOf(m os.FileMode) NodeType {
	switch {
	case m.IsRegular():
		return NodeTypeFile
	case m&os.ModeDir != 0:
		return NodeTypeDir
	case m&os.ModeSymlink != 0:
		return NodeTypeSymlink
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice != 0:
		return NodeTypeCharDev
	case m&os.ModeDevice != 0:
		return NodeTypeDev
	case m&os.ModeNamedPipe != 0:
		return NodeTypeFifo
	case m&os.ModeSocket != 0:
		return NodeTypeSocket
	}
	return NodeTypeIrregular
}

// NodeFromFileInfo builds the node of the file at path from its lstat
// result, as restic's archiver does. The node's name is fi.Name(). For a
// file, Content is empty and Size 0: the archiver fills them once it has
// read the data. atime is set to mtime, as restic does without
// --with-atime, so trees deduplicate against restic's.
//
// If only the extended attributes cannot be read, the node is returned
// without them together with the error, so the caller can warn and go on.
func NodeFromFileInfo(path string, fi os.FileInfo, names *UserNames) (*Node, error) {
	return nodeFrom(path, fi, names, pathXattrs(path), nil)
}

// NodeFromFileInfoSince is NodeFromFileInfo for an item that prev, its
// node in an earlier snapshot, may still describe: when the type, inode
// and ctime (to the nanosecond) are prev's, prev's extended attributes
// are taken instead of read, since setting or removing one changes the
// ctime. That saves a listxattr call per unchanged item, as costly as
// its lstat. prev must have been made the way this package makes nodes:
// a snapshot written by a program that leaves some attributes out would
// pass that on. prev may be nil.
func NodeFromFileInfoSince(path string, fi os.FileInfo, names *UserNames, prev *Node) (*Node, error) {
	return nodeFrom(path, fi, names, pathXattrs(path), prev)
}

// NodeFromFile is NodeFromFileInfo for a file open as fd (fi is its
// fstat, path names it): the extended attributes are read through the
// descriptor, without resolving the path again.
func NodeFromFile(fd int, path string, fi os.FileInfo, names *UserNames) (*Node, error) {
	return nodeFrom(path, fi, names, xattrSource{
		list: func(b []byte) (int, error) { return unix.Flistxattr(fd, b) },
		get:  func(name string, b []byte) (int, error) { return unix.Fgetxattr(fd, name, b) },
	}, nil)
}

func nodeFrom(path string, fi os.FileInfo, names *UserNames, xs xattrSource, prev *Node) (*Node, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("%s: no stat data in %T", path, fi.Sys())
	}
	mode := fi.Mode() & storedModeBits
	mtime := time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))
	n := &Node{
		Name:       fi.Name(),
		Type:       nodeTypeOf(fi.Mode()),
		Mode:       mode,
		ModTime:    mtime,
		AccessTime: mtime,
		ChangeTime: time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)),
		UID:        st.Uid,
		GID:        st.Gid,
		User:       names.User(st.Uid),
		Group:      names.Group(st.Gid),
		Inode:      uint64(st.Ino),
		DeviceID:   uint64(st.Dev),
	}
	switch n.Type {
	case NodeTypeFile:
		n.Content = []repo.ID{}
		n.Links = uint64(st.Nlink)
	case NodeTypeSymlink:
		n.Links = uint64(st.Nlink)
		target, err := os.Readlink(path)
		if err != nil {
			return nil, fmt.Errorf("read symlink: %w", err)
		}
		n.LinkTarget = target
		if !utf8.ValidString(target) {
			n.LinkTargetRaw = []byte(target)
		}
	case NodeTypeDev, NodeTypeCharDev:
		n.Links = uint64(st.Nlink)
		n.Device = uint64(st.Rdev)
	}
	if prev != nil && prev.Type == n.Type && prev.Inode == n.Inode && prev.ChangeTime.Equal(n.ChangeTime) {
		n.ExtendedAttributes = prev.ExtendedAttributes
		return n, nil
	}
	xattrs, err := readXattrs(path, xs)
	n.ExtendedAttributes = xattrs
	return n, err
}

// ignoreXattrErr reports errors that just mean "no xattrs here".
func ignoreXattrErr(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENODATA)
}

// xattrSource lists and gets one file's extended attributes, with the
// calling convention of listxattr and getxattr.
type xattrSource struct {
	list func(buf []byte) (int, error)
	get  func(name string, buf []byte) (int, error)
}

// pathXattrs reads the attributes of path, not following a symlink.
func pathXattrs(path string) xattrSource {
	return xattrSource{
		list: func(b []byte) (int, error) { return unix.Llistxattr(path, b) },
		get:  func(name string, b []byte) (int, error) { return unix.Lgetxattr(path, name, b) },
	}
}

// readXattrs returns the extended attributes of the file at path from
// xs, in listxattr order.
func readXattrs(path string, xs xattrSource) ([]ExtendedAttribute, error) {
	list, err := xattrCall(xs.list)
	if err != nil {
		if ignoreXattrErr(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list xattrs of %s: %w", path, err)
	}
	var out []ExtendedAttribute
	for _, name := range strings.Split(string(list), "\x00") {
		if name == "" {
			continue
		}
		val, err := xattrCall(func(b []byte) (int, error) { return xs.get(name, b) })
		if errors.Is(err, unix.ENODATA) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("get xattr %q of %s: %w", name, path, err)
		}
		out = append(out, ExtendedAttribute{Name: name, Value: val})
	}
	return out, nil
}

// xattrCall runs a size-then-fetch xattr syscall, retrying if the value
// grew in between. The result is never nil, so an empty value encodes as
// "" as restic's does.
func xattrCall(call func([]byte) (int, error)) ([]byte, error) {
	for range 8 {
		size, err := call(nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size)
		if size == 0 {
			return buf, nil
		}
		n, err := call(buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, unix.ERANGE
}
