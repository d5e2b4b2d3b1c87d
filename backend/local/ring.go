package local

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/hbackup/hbackup/internal/uring"
)

// ringEntries bounds the ring's requests in flight: the repository's
// direct block writes (8 at most) and the pack syncs (8, see packSyncs),
// each with its directory's sync, fit with room to spare.
const ringEntries = 32

// diskRing sends pack writes and fsyncs through an io_uring, so the
// goroutines waiting for the disk leave the CPUs to the ones chunking
// and hashing (see package uring). Where the kernel offers no io_uring
// the plain system calls do the same job.
type diskRing struct {
	off    bool // never open a ring (tests of the plain path)
	mu     sync.Mutex
	opened bool
	ring   ring // nil: none
}

// ring is what diskRing uses of a *uring.Ring; tests put in others.
type ring interface {
	WriteAt(fd int, p []byte, off int64) (int, error)
	Fsync(fd int) error
	Close() error
}

// get returns the ring, opening it on first use, or nil.
func (d *diskRing) get() ring {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.opened && !d.off {
		d.opened = true
		if r, err := uring.Open(ringEntries); err == nil {
			d.ring = r
		}
	}
	return d.ring
}

// writeAt is f.WriteAt of all of p.
func (d *diskRing) writeAt(f *os.File, p []byte, off int64) error {
	r := d.get()
	if r == nil {
		_, err := f.WriteAt(p, off)
		return err
	}
	err := d.onFD(f, "write", func(fd int) error {
		_, err := r.WriteAt(fd, p, off)
		return err
	})
	if refusedByRing(err) {
		// Let the plain call judge: the caller may fall back on its
		// EINVAL (no O_DIRECT here), which the ring must not fake.
		_, err = f.WriteAt(p, off)
	}
	return err
}

// sync is f.Sync.
func (d *diskRing) sync(f *os.File) error {
	r := d.get()
	if r == nil {
		return f.Sync()
	}
	err := d.onFD(f, "sync", r.Fsync)
	if refusedByRing(err) {
		// Callers skip syncs the file system refuses (EINVAL); a ring
		// that does not do fsync must not make a file look like that.
		err = f.Sync()
	}
	return err
}

// refusedByRing reports whether err may mean the ring, rather than the
// file, cannot do the operation.
func refusedByRing(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP)
}

// onFD runs op on f's descriptor, which stays open meanwhile, and
// names f in its error as os.File's methods do.
func (d *diskRing) onFD(f *os.File, name string, op func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = op(int(fd)) }); err != nil {
		return &fs.PathError{Op: name, Path: f.Name(), Err: err}
	}
	if opErr != nil {
		return &fs.PathError{Op: name, Path: f.Name(), Err: opErr}
	}
	return nil
}

// close releases the ring, if one is open, once the requests in flight
// are done. A later call opens a new one.
func (d *diskRing) close() error {
	d.mu.Lock()
	r := d.ring
	d.ring, d.opened = nil, false
	d.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.Close()
}
