package uring

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's ABI, from include/uapi/linux/io_uring.h.
const (
	opFsync = 3  // IORING_OP_FSYNC
	opWrite = 23 // IORING_OP_WRITE (Linux 5.6)

	featSingleMmap = 1 << 0 // IORING_FEAT_SINGLE_MMAP (5.4)
	featNoDrop     = 1 << 1 // IORING_FEAT_NODROP (5.5)
	featRWCurPos   = 1 << 3 // IORING_FEAT_RW_CUR_POS (5.6): IORING_OP_WRITE exists

	setupClamp      = 1 << 4     // IORING_SETUP_CLAMP
	offSQEs         = 0x10000000 // IORING_OFF_SQES
	registerEventfd = 4          // IORING_REGISTER_EVENTFD
	registerProbe   = 8          // IORING_REGISTER_PROBE (5.6)
	opSupported     = 1          // IO_URING_OP_SUPPORTED

	sqeSize = 64
	cqeSize = 16
)

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  ringOffsets
	cqOff                                                                  ringOffsets
}

// ringOffsets is io_sqring_offsets (head, tail, ring_mask, ring_entries,
// flags, dropped, array) or io_cqring_offsets (head, tail, ring_mask,
// ring_entries, overflow, cqes, flags): both are 40 bytes.
type ringOffsets struct {
	head, tail, mask, entries, f4, f5, f6, resv uint32
	userAddr                                    uint64
}

type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	pad         uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// Ring is an io_uring with its completions read by one goroutine, which
// waits for them on an eventfd through the runtime's network poller.
type Ring struct {
	fd     int
	rings  []byte // the submission and completion rings, one mapping
	sqeMem []byte

	sqTail, sqMask *uint32
	sqArray        unsafe.Pointer
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           unsafe.Pointer
	events         *os.File // the eventfd the kernel signals completions on
	reaped         chan struct{}
	slots          chan uint64 // free request numbers: at most len(waiters) in flight
	waiters        []waiter    // by request number
	mu             sync.Mutex  // serializes submissions
	closed         bool        // under mu
	inflight       sync.WaitGroup
	submitFailed   error // under mu: the ring is unusable
}

type waiter struct {
	res chan int32
	buf []byte // keeps a write's buffer reachable until the kernel is done with it
}

// Open sets up a ring with room for entries requests in flight (rounded
// up to a power of two by the kernel).
func Open(entries int) (*Ring, error) {
	var p params
	p.flags = setupClamp
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		// ENOSYS: no io_uring; EPERM: forbidden (seccomp, io_uring_disabled).
		return nil, fmt.Errorf("uring: setup: %w (%w)", errors.ErrUnsupported, errno)
	}
	r := &Ring{fd: int(fd)}
	const need = featSingleMmap | featNoDrop | featRWCurPos
	if p.features&need != need {
		_ = unix.Close(r.fd)
		return nil, fmt.Errorf("uring: kernel older than 5.6: %w", errors.ErrUnsupported)
	}
	if err := r.probe(opWrite, opFsync); err != nil {
		_ = unix.Close(r.fd)
		return nil, err
	}
	if err := r.mapRings(&p); err != nil {
		r.unmap()
		return nil, err
	}
	if err := r.watchCompletions(); err != nil {
		r.unmap()
		return nil, err
	}
	r.slots = make(chan uint64, p.sqEntries)
	r.waiters = make([]waiter, p.sqEntries)
	for i := range r.waiters {
		r.waiters[i].res = make(chan int32, 1)
		r.slots <- uint64(i)
	}
	r.reaped = make(chan struct{})
	go r.reap()
	return r, nil
}

// probe checks that the kernel implements the operations ops: a
// sandbox (gVisor) may offer io_uring with only some of them.
func (r *Ring) probe(ops ...uint8) error {
	// struct io_uring_probe: last_op, ops_len, 14 bytes reserved, then
	// 8 bytes per operation: op, reserved, flags (u16), reserved (u32).
	const maxOps = 256
	var buf [16 + 8*maxOps]byte
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerProbe, uintptr(unsafe.Pointer(&buf[0])), maxOps, 0, 0)
	if errno != 0 {
		return fmt.Errorf("uring: probe: %w (%w)", errors.ErrUnsupported, errno)
	}
	n := int(buf[1])
	for _, op := range ops {
		at := 16 + 8*int(op)
		if int(op) >= n || buf[at+2]&opSupported == 0 {
			return fmt.Errorf("uring: operation %d not supported: %w", op, errors.ErrUnsupported)
		}
	}
	return nil
}

func (r *Ring) mapRings(p *params) error {
	size := max(p.sqOff.f6+p.sqEntries*4, p.cqOff.f5+p.cqEntries*cqeSize) // array, cqes
	rings, err := unix.Mmap(r.fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("uring: map rings: %w", err)
	}
	r.rings = rings
	sqes, err := unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*sqeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("uring: map submission entries: %w", err)
	}
	r.sqeMem = sqes
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&rings[off]) }
	r.sqTail, r.sqMask = (*uint32)(at(p.sqOff.tail)), (*uint32)(at(p.sqOff.mask))
	r.sqArray = at(p.sqOff.f6)
	r.cqHead, r.cqTail = (*uint32)(at(p.cqOff.head)), (*uint32)(at(p.cqOff.tail))
	r.cqMask = *(*uint32)(at(p.cqOff.mask))
	r.cqes = at(p.cqOff.f5)
	return nil
}

// watchCompletions registers a non-blocking eventfd, which os.NewFile
// puts on the network poller, so reap's reads park without holding a P.
func (r *Ring) watchCompletions() error {
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("uring: eventfd: %w", err)
	}
	r.events = os.NewFile(uintptr(efd), "io_uring completions")
	fd32 := int32(efd)
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerEventfd, uintptr(unsafe.Pointer(&fd32)), 1, 0, 0)
	if errno != 0 {
		return fmt.Errorf("uring: register eventfd: %w", errno)
	}
	return nil
}

func (r *Ring) unmap() {
	if r.events != nil {
		_ = r.events.Close()
	}
	if r.sqeMem != nil {
		_ = unix.Munmap(r.sqeMem)
	}
	if r.rings != nil {
		_ = unix.Munmap(r.rings)
	}
	_ = unix.Close(r.fd)
}

// reap hands each completion to the goroutine waiting for it, until the
// eventfd is closed.
func (r *Ring) reap() {
	defer close(r.reaped)
	var count [8]byte
	for {
		r.drain()
		if _, err := r.events.Read(count[:]); err != nil {
			r.drain()
			return
		}
	}
}

func (r *Ring) drain() {
	head := atomic.LoadUint32(r.cqHead)
	for {
		tail := atomic.LoadUint32(r.cqTail)
		if head == tail {
			return
		}
		for ; head != tail; head++ {
			c := *(*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*cqeSize))
			r.waiters[c.userData].res <- c.res
		}
		atomic.StoreUint32(r.cqHead, head) // the kernel may reuse the entries
	}
}

// do submits one request and waits for its result, a byte count or a
// negated errno. buf, if any, is what the request reads from.
func (r *Ring) do(e sqe, buf []byte) (int32, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	if err := r.submitFailed; err != nil {
		r.mu.Unlock()
		return 0, err
	}
	r.inflight.Add(1)
	r.mu.Unlock()
	defer r.inflight.Done()

	slot := <-r.slots
	w := &r.waiters[slot]
	w.buf = buf
	e.userData = slot
	if err := r.submit(&e); err != nil {
		// The kernel may still take the request: the slot, and with it
		// the buffer, stays taken for good.
		return 0, err
	}
	res := <-w.res
	w.buf = nil
	r.slots <- slot
	runtime.KeepAlive(buf)
	return res, nil
}

func (r *Ring) submit(e *sqe) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Every submission is consumed by its io_uring_enter before the lock
	// is released, so the tail's entry is free.
	tail := *r.sqTail
	idx := tail & *r.sqMask
	*(*sqe)(unsafe.Add(unsafe.Pointer(&r.sqeMem[0]), uintptr(idx)*sqeSize)) = *e
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	for {
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 0, 0, 0, 0)
		switch {
		case errno == 0 && n == 1:
			return nil
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN || errno == syscall.EBUSY:
			// Short of kernel memory or completion room: wait a little.
			time.Sleep(50 * time.Microsecond)
			continue
		}
		if errno == 0 {
			errno = syscall.EIO // n == 0: the kernel did not take it, which it must
		}
		r.submitFailed = fmt.Errorf("uring: submit: %w", errno)
		return r.submitFailed
	}
}

// WriteAt writes p to the file fd at offset off, as pwrite does, and
// returns once the kernel is done with p. The caller keeps fd open until
// then. For O_DIRECT files p, off and len(p) must meet the file's
// alignment.
func (r *Ring) WriteAt(fd int, p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		rest := p[n:]
		res, err := r.do(sqe{opcode: opWrite, fd: int32(fd), off: uint64(off) + uint64(n),
			addr: uint64(uintptr(unsafe.Pointer(&rest[0]))), len: uint32(min(len(rest), 1<<30))}, rest)
		switch {
		case err != nil:
			return n, err
		case res == -int32(syscall.EINTR) || res == -int32(syscall.EAGAIN):
			continue
		case res < 0:
			return n, syscall.Errno(-res)
		case res == 0:
			return n, io.ErrShortWrite
		}
		n += int(res)
	}
	return n, nil
}

// Fsync flushes the file fd (or directory) to stable storage, as fsync
// does.
func (r *Ring) Fsync(fd int) error {
	for {
		res, err := r.do(sqe{opcode: opFsync, fd: int32(fd)}, nil)
		switch {
		case err != nil:
			return err
		case res == -int32(syscall.EINTR):
			continue
		case res < 0:
			return syscall.Errno(-res)
		}
		return nil
	}
}

// Close waits for the requests in flight and releases the ring. Later
// calls fail with ErrClosed.
func (r *Ring) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	failed := r.submitFailed
	r.mu.Unlock()
	if failed != nil {
		// A request may still be in the kernel's hands: keep the memory.
		return failed
	}
	r.inflight.Wait()
	_ = r.events.Close() // ends reap
	<-r.reaped
	_ = unix.Munmap(r.sqeMem)
	_ = unix.Munmap(r.rings)
	return unix.Close(r.fd)
}
