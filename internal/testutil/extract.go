package testutil

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ExtractTarGz unpacks the gzip-compressed tar archive at archivePath into
// destDir (created if needed). It restores directories, regular files,
// symlinks, hardlinks, fifos, device nodes (root only), permission bits
// including setuid/setgid/sticky, nanosecond mtimes, and PAX xattrs, but
// not ownership. Entries that would land outside destDir, directly or
// through a symlink, fail the test.
func ExtractTarGz(t testing.TB, archivePath, destDir string) {
	t.Helper()
	if err := extractTarGz(archivePath, destDir); err != nil {
		t.Fatalf("extracting %s: %v", archivePath, err)
	}
}

// dirMeta is applied after extraction, so read-only directories can still
// be filled and creating entries does not disturb their mtimes.
type dirMeta struct {
	path         string
	depth        int
	mode         uint32
	atime, mtime time.Time
}

type extractor struct {
	dest string
	dirs []dirMeta
}

func extractTarGz(archivePath, destDir string) error {
	dest, err := filepath.Abs(destDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	f, err := os.Open(archivePath)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer zr.Close()
	x := &extractor{dest: dest}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := x.entry(hdr, tr); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
	return x.finishDirs()
}

// cleanArchivePath turns an archive name into a clean relative path ("" for
// the archive root) and rejects absolute names and ".." escapes.
func cleanArchivePath(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path %q", name)
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q escapes the destination", name)
	}
	if c == "." {
		return "", nil
	}
	return c, nil
}

// resolve maps an archive name to a path under dest whose parents are real
// directories (created if missing), never symlinks.
func (x *extractor) resolve(name string) (string, error) {
	rel, err := cleanArchivePath(name)
	if err != nil || rel == "" {
		return x.dest, err
	}
	cur := x.dest
	parts := strings.Split(rel, "/")
	for i, p := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, p)
		var st unix.Stat_t
		err := unix.Lstat(cur, &st)
		switch {
		case errors.Is(err, unix.ENOENT):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case st.Mode&unix.S_IFMT != unix.S_IFDIR:
			return "", fmt.Errorf("parent %q is a %s, not a directory", strings.Join(parts[:i+1], "/"), typeName(st.Mode))
		}
	}
	return filepath.Join(cur, parts[len(parts)-1]), nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	target, err := x.resolve(hdr.Name)
	if err != nil {
		return err
	}
	mode := uint32(hdr.Mode) & 0o7777
	if hdr.Typeflag == tar.TypeDir {
		return x.dir(hdr, target, mode)
	}
	if target == x.dest {
		return errors.New("non-directory entry for the archive root")
	}
	// A later entry replaces an earlier non-directory of the same name; it
	// must never write through a symlink left there.
	if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		err = writeRegular(target, r, mode)
	case tar.TypeSymlink:
		err = os.Symlink(hdr.Linkname, target)
	case tar.TypeLink:
		return x.hardlink(hdr.Linkname, target) // shares the inode's metadata
	case tar.TypeFifo:
		err = mknod(target, unix.S_IFIFO, mode, 0)
	case tar.TypeChar:
		err = mknod(target, unix.S_IFCHR, mode, unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	case tar.TypeBlock:
		err = mknod(target, unix.S_IFBLK, mode, unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	default:
		return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
	}
	if err != nil {
		return err
	}
	if err := setPAXXattrs(target, hdr); err != nil {
		return err
	}
	return setTimes(target, hdr.AccessTime, hdr.ModTime)
}

func (x *extractor) dir(hdr *tar.Header, target string, mode uint32) error {
	var st unix.Stat_t
	if err := unix.Lstat(target, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Mkdir(target, 0o700); err != nil {
			return err
		}
	}
	if err := setPAXXattrs(target, hdr); err != nil {
		return err
	}
	x.dirs = append(x.dirs, dirMeta{
		path: target, depth: strings.Count(target, "/"),
		mode: mode, atime: hdr.AccessTime, mtime: hdr.ModTime,
	})
	return nil
}

func (x *extractor) hardlink(linkname, target string) error {
	src, err := x.resolve(linkname)
	if err != nil {
		return fmt.Errorf("hardlink source: %w", err)
	}
	if src == x.dest {
		return fmt.Errorf("hardlink to the archive root")
	}
	return os.Link(src, target)
}

// finishDirs sets directory modes and times, deepest first.
func (x *extractor) finishDirs() error {
	sort.SliceStable(x.dirs, func(i, j int) bool { return x.dirs[i].depth > x.dirs[j].depth })
	for _, d := range x.dirs {
		if err := unix.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", d.path, err)
		}
		if err := setTimes(d.path, d.atime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

func writeRegular(target string, r io.Reader, mode uint32) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return unix.Chmod(target, mode) // explicit, so umask and setuid behave
}

func mknod(target string, kind, mode uint32, dev uint64) error {
	if err := unix.Mknod(target, kind|mode, int(dev)); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	return unix.Chmod(target, mode)
}

// setPAXXattrs restores extended attributes stored as SCHILY.xattr records.
func setPAXXattrs(target string, hdr *tar.Header) error {
	const prefix = "SCHILY.xattr."
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			if err := unix.Lsetxattr(target, name, []byte(v), 0); err != nil {
				return fmt.Errorf("setxattr %s: %w", name, err)
			}
		}
	}
	return nil
}

// setTimes sets atime (mtime when the archive has none) and mtime without
// following symlinks.
func setTimes(target string, atime, mtime time.Time) error {
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", target, err)
	}
	return nil
}
