package local

import (
	"errors"
	"os"
	"syscall"
)

// openDirect opens name for writes past the page cache (O_DIRECT), or
// returns nil where the file system does not support it.
func openDirect(name string) *os.File {
	f, err := os.OpenFile(name, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}

// directRefused reports whether err means the file system does not take
// this O_DIRECT write at all (as opposed to an I/O error).
func directRefused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP)
}
