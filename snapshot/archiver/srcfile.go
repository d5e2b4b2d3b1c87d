package archiver

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// srcFile is a source file open for reading, as a bare descriptor. An
// os.File costs four fcntl calls and an epoll_ctl per open on Linux (it
// tries to make every file pollable): for a small file, more system calls
// than reading it. A backup opens one per new or changed file.
type srcFile struct {
	fd   int
	path string
}

// openSource opens the regular file at path, which lstat described as fi,
// for reading. O_NOFOLLOW, and the descriptor must still be that same
// regular file: it may have been replaced since lstat.
func openSource(path string, fi os.FileInfo) (*srcFile, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := &srcFile{fd: fd, path: path}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || !sameInode(&st, fi) {
		f.Close()
		return nil, fmt.Errorf("%s changed while it was being backed up", path)
	}
	return f, nil
}

// sameInode reports whether st and fi describe the same file.
func sameInode(st *unix.Stat_t, fi os.FileInfo) bool {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	return ok && uint64(sys.Dev) == uint64(st.Dev) && uint64(sys.Ino) == uint64(st.Ino)
}

// Read implements io.Reader.
func (f *srcFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(f.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.path, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Close closes the descriptor; a file only read has nothing to report.
func (f *srcFile) Close() { _ = unix.Close(f.fd) }
