// Package hugemem allocates large, long-lived buffers outside the Go heap,
// on transparent huge pages where the kernel offers them.
//
// Two reasons, both measured on the 2-CPU VM the benchmarks run on:
// faulting in fresh memory 4 KiB at a time cost about 3 ms per MiB (64 MiB
// took 200 ms; on 2 MiB pages 4 ms), and buffers on the Go heap count
// towards the garbage collector's heap goal, so 64 MiB of pack buffers let
// another 16 MiB of garbage pile up (GOGC=25) before a collection.
//
// Memory from Alloc must be given back with Free; it is never collected.
package hugemem

// Alloc returns a zeroed buffer of length n. It never fails: where mapping
// memory fails or is not supported, it falls back to the Go heap.
func Alloc(n int) []byte {
	if n <= 0 {
		return nil
	}
	if b, ok := mapHuge(n); ok {
		return b
	}
	return make([]byte, n)
}

// Free gives back a buffer from Alloc (any reslice of it that starts at
// its first byte). A buffer that came from the Go heap, or anything else
// not mapped by Alloc, is left to the garbage collector. b must not be
// used afterwards.
func Free(b []byte) {
	if cap(b) > 0 {
		unmap(b[:cap(b)])
	}
}
