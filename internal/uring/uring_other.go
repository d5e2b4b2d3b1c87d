//go:build !linux

package uring

import (
	"errors"
	"fmt"
)

// Ring is not available on this system; Open always fails.
type Ring struct{}

// Open fails: io_uring is Linux's.
func Open(entries int) (*Ring, error) {
	return nil, fmt.Errorf("uring: %w on this system", errors.ErrUnsupported)
}

// WriteAt is never reached: Open fails.
func (r *Ring) WriteAt(fd int, p []byte, off int64) (int, error) { return 0, ErrClosed }

// Fsync is never reached: Open fails.
func (r *Ring) Fsync(fd int) error { return ErrClosed }

// Close does nothing.
func (r *Ring) Close() error { return nil }
