package restorer

import (
	"os"

	"golang.org/x/sys/unix"
)

// outFile is a restored file open for writing, as a bare descriptor. An
// os.File costs four fcntl calls and an epoll_ctl per open on Linux (it
// tries to make every file pollable), more than the write itself for a
// small file; a restore opens one per file.
type outFile struct {
	fd   int
	path string
}

// createOut creates a file that must not exist yet and returns it open for
// writing. O_EXCL|O_NOFOLLOW: never write through a symlink planted at
// path. A size above zero is set now: with prealloc the file system
// reserves the space (fallocate also sets the size), otherwise unwritten
// regions stay holes.
func createOut(path string, size int64, prealloc bool) (*outFile, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	f := &outFile{fd: fd, path: path}
	if size <= 0 {
		return f, nil
	}
	// Best effort, as restic: fewer fragments, and errors such as
	// EOPNOTSUPP only lose that.
	if prealloc && unix.Fallocate(fd, 0, 0, size) == nil {
		return f, nil
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		_ = unix.Close(fd)
		return nil, &os.PathError{Op: "truncate", Path: path, Err: err}
	}
	return f, nil
}

// openOut opens an existing file for writing. No O_CREAT: the plan made
// it; O_NOFOLLOW: never follow a symlink that replaced it since.
func openOut(path string) (*outFile, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &outFile{fd: fd, path: path}, nil
}

// writeAt writes all of p at off.
func (f *outFile) writeAt(p []byte, off int64) error {
	for len(p) > 0 {
		n, err := unix.Pwrite(f.fd, p, off)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return &os.PathError{Op: "write", Path: f.path, Err: err}
		case n == 0:
			return &os.PathError{Op: "write", Path: f.path, Err: unix.EIO}
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

// close closes the descriptor. Its error matters: some file systems only
// report a failed write here.
func (f *outFile) close() error {
	if err := unix.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}
