// Package uring writes and syncs files through a Linux io_uring, so a
// goroutine waiting for the disk parks like one waiting for the network
// instead of holding one of the Go scheduler's Ps in a blocking system
// call.
//
// Why: a pwrite or fsync that blocks keeps its P until the runtime's
// monitor thread takes it back, 20 us to 10 ms later. On the 2-CPU machine
// the benchmarks run on, a first backup with compression off spent 3.3 s
// in O_DIRECT pwrites and 1.9 s in fsyncs in a 3.9 s run, and its Ps sat
// in those calls for about 1.3 s (go tool trace) while other goroutines
// were ready to run. With the local backend's pack writes and syncs
// through a ring, that backup took a median of 3.31 s instead of 3.81 s
// (6 alternating runs), with compression auto 5.14 s instead of 5.39 s.
//
// A Ring is safe for concurrent use. Where the kernel has no io_uring (or
// forbids it: seccomp, kernel.io_uring_disabled), Open fails with an error
// wrapping errors.ErrUnsupported and the caller uses the plain calls.
package uring

import "errors"

// ErrClosed is returned for operations on a closed Ring.
var ErrClosed = errors.New("uring: ring closed")
