//go:build linux

package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RestoreMetadataOptions tunes RestoreMetadata. The zero value restores
// everything an unprivileged user can.
type RestoreMetadataOptions struct {
	// Owner restores uid and gid (needs root or CAP_CHOWN).
	Owner bool
}

// CreateAt creates the filesystem object of a symlink, fifo, block or
// character device (needs root) or directory node at path. A directory is
// made 0700 and an existing directory is fine; RestoreMetadata sets the
// real mode later. Files are written by the restorer, not here.
func (n *Node) CreateAt(path string) error {
	var err error
	switch n.Type {
	case NodeTypeDir:
		err = os.Mkdir(path, 0o700)
		if errors.Is(err, fs.ErrExist) {
			if fi, serr := os.Lstat(path); serr == nil && fi.IsDir() {
				return nil
			}
		}
	case NodeTypeSymlink:
		err = os.Symlink(n.Target(), path)
	case NodeTypeFifo:
		err = unix.Mkfifo(path, 0o600)
	case NodeTypeDev:
		err = unix.Mknod(path, unix.S_IFBLK|0o600, int(n.Device))
	case NodeTypeCharDev:
		err = unix.Mknod(path, unix.S_IFCHR|0o600, int(n.Device))
	default:
		return fmt.Errorf("create %s: cannot create a %q node", path, n.Type)
	}
	if err != nil {
		return fmt.Errorf("create %s %s: %w", n.Type, path, err)
	}
	return nil
}

// RestoreMetadata applies the node's metadata to path, in an order where no
// step undoes an earlier one: xattrs, owner (chown clears setuid/setgid),
// mode (not for symlinks, which have none), and times last, since the other
// steps change ctime and may change mtime. It goes on after a failed step
// and returns all errors joined. For a directory, call it after its
// content is written, or the mtime will not stick.
func (n *Node) RestoreMetadata(path string, opts RestoreMetadataOptions) error {
	var errs []error
	for _, a := range n.ExtendedAttributes {
		if err := unix.Lsetxattr(path, a.Name, a.Value, 0); err != nil {
			errs = append(errs, fmt.Errorf("set xattr %q on %s: %w", a.Name, path, err))
		}
	}
	if opts.Owner {
		if err := unix.Lchown(path, int(n.UID), int(n.GID)); err != nil {
			errs = append(errs, fmt.Errorf("chown %s: %w", path, err))
		}
	}
	if n.Type != NodeTypeSymlink {
		if err := unix.Chmod(path, posixMode(n.Mode)); err != nil {
			errs = append(errs, fmt.Errorf("chmod %s: %w", path, err))
		}
	}
	if err := setTimes(path, n.AccessTime, n.ModTime); err != nil {
		errs = append(errs, fmt.Errorf("set times of %s: %w", path, err))
	}
	return errors.Join(errs...)
}

// RestoreFileMetadata is RestoreMetadata for a regular file open as the
// descriptor fd (path only names it in errors). Working on the descriptor
// saves a path lookup per step, which adds up over many small files. Times
// are set last, so the file must not be written afterwards.
func (n *Node) RestoreFileMetadata(fd int, path string, opts RestoreMetadataOptions) error {
	var errs []error
	for _, a := range n.ExtendedAttributes {
		if err := unix.Fsetxattr(fd, a.Name, a.Value, 0); err != nil {
			errs = append(errs, fmt.Errorf("set xattr %q on %s: %w", a.Name, path, err))
		}
	}
	if opts.Owner {
		if err := unix.Fchown(fd, int(n.UID), int(n.GID)); err != nil {
			errs = append(errs, fmt.Errorf("chown %s: %w", path, err))
		}
	}
	if err := unix.Fchmod(fd, posixMode(n.Mode)); err != nil {
		errs = append(errs, fmt.Errorf("chmod %s: %w", path, err))
	}
	if err := setFileTimes(fd, n.AccessTime, n.ModTime); err != nil {
		errs = append(errs, fmt.Errorf("set times of %s: %w", path, err))
	}
	return errors.Join(errs...)
}

// posixMode converts Go's FileMode permission and special bits, which sit
// at Go's own positions (setuid is 1<<23), to chmod's bits.
func posixMode(m os.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		p |= unix.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		p |= unix.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		p |= unix.S_ISVTX
	}
	return p
}

// setTimes sets atime and mtime without following a symlink. A zero time
// is left as it is.
func setTimes(path string, atime, mtime time.Time) error {
	ts, err := timespecs(atime, mtime)
	if err != nil {
		return err
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, ts[:], unix.AT_SYMLINK_NOFOLLOW)
}

// setFileTimes is setTimes for an open descriptor: utimensat(2) with a
// NULL path works on fd itself (what futimens(3) does). x/sys/unix has no
// wrapper for that form; its Futimes goes through /proc/self/fd.
func setFileTimes(fd int, atime, mtime time.Time) error {
	ts, err := timespecs(atime, mtime)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// timespecs converts atime and mtime for utimensat(2); a zero time becomes
// UTIME_OMIT, which leaves that time as it is.
func timespecs(atime, mtime time.Time) ([2]unix.Timespec, error) {
	var ts [2]unix.Timespec
	for i, t := range []time.Time{atime, mtime} {
		if t.IsZero() {
			ts[i] = unix.Timespec{Nsec: unix.UTIME_OMIT}
			continue
		}
		v, err := unix.TimeToTimespec(t)
		if err != nil {
			return ts, err
		}
		ts[i] = v
	}
	return ts, nil
}
