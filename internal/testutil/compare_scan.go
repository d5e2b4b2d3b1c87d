package testutil

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// node is one Lstat'ed entry of a scanned tree.
type node struct {
	path   string // absolute
	st     unix.Stat_t
	target string            // symlink target
	xattrs map[string]string // user.* only, filled when requested
}

// scannedTree maps slash-separated relative paths ("." is the root) to nodes.
type scannedTree map[string]*node

// scanTree walks root without following symlinks.
func scanTree(root string, withXattrs bool) (scannedTree, error) {
	tree := scannedTree{}
	err := scanInto(tree, root, ".", withXattrs)
	return tree, err
}

func scanInto(tree scannedTree, abs, rel string, withXattrs bool) error {
	n := &node{path: abs}
	if err := unix.Lstat(abs, &n.st); err != nil {
		return fmt.Errorf("lstat %s: %w", abs, err)
	}
	tree[rel] = n
	if withXattrs {
		x, err := userXattrs(abs)
		if err != nil {
			return err
		}
		n.xattrs = x
	}
	switch n.st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := os.Readlink(abs)
		if err != nil {
			return fmt.Errorf("readlink: %w", err)
		}
		n.target = target
	case unix.S_IFDIR:
		f, err := os.Open(abs)
		if err != nil {
			return fmt.Errorf("open dir: %w", err)
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return fmt.Errorf("read dir %s: %w", abs, err)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := scanInto(tree, filepath.Join(abs, name), joinRel(rel, name), withXattrs); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinRel(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// parentRel returns the parent of a relative path; the root is its own parent.
func parentRel(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return "."
}

// userXattrs returns the user.* extended attributes of path (not following
// symlinks); a filesystem without xattr support has none.
func userXattrs(p string) (map[string]string, error) {
	size, err := unix.Llistxattr(p, nil)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listxattr %s: %w", p, err)
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(p, buf)
	if err != nil {
		return nil, fmt.Errorf("listxattr %s: %w", p, err)
	}
	attrs := map[string]string{}
	for _, name := range bytes.Split(buf[:size], []byte{0}) {
		if !bytes.HasPrefix(name, []byte("user.")) {
			continue
		}
		value, err := getXattr(p, string(name))
		if err != nil {
			return nil, err
		}
		attrs[string(name)] = string(value)
	}
	return attrs, nil
}

func getXattr(p, name string) ([]byte, error) {
	size, err := unix.Lgetxattr(p, name, nil)
	if err != nil {
		return nil, fmt.Errorf("getxattr %s %s: %w", p, name, err)
	}
	value := make([]byte, size)
	size, err = unix.Lgetxattr(p, name, value)
	if err != nil {
		return nil, fmt.Errorf("getxattr %s %s: %w", p, name, err)
	}
	return value[:size], nil
}

// hashFile streams a regular file through SHA-256.
func hashFile(p string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(p)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("reading %s: %w", p, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// typeName names the file type in a mode.
func typeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "chardev"
	case unix.S_IFBLK:
		return "blockdev"
	case unix.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("type %o", mode&unix.S_IFMT)
}

// displayRel quotes a relative path so control bytes and invalid UTF-8 show.
func displayRel(rel string) string {
	return fmt.Sprintf("%q", rel)
}
