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

// HugePageSize is the size of a transparent huge page on x86-64 and most
// arm64 kernels.
const HugePageSize = 2 << 20

// Alloc returns a zeroed buffer of length n and capacity Cap(n). It never
// fails: where mapping memory fails or is not supported, it falls back to
// the Go heap.
func Alloc(n int) []byte {
	if n <= 0 {
		return nil
	}
	if b, ok := mapHuge(n); ok {
		return b
	}
	return make([]byte, n, Cap(n))
}

// Cap is the capacity of the buffers Alloc(n) returns: from 1 MiB on, n
// rounded up to whole huge pages where huge pages are mapped (Linux),
// else n. The capacity is mapped but costs no memory until it is used.
//
// Why: Linux (6.7 on) starts an anonymous mapping whose length is a
// multiple of the huge page size on a huge page boundary, so all of it
// can be huge pages. Any other length starts anywhere, and its first and
// last partial huge pages are faulted in 4 KiB at a time, at ~17 us per
// fault on the benchmark VM: scrypt's 32 MiB + 2 KiB took 548 such
// faults, an 8 MiB + 4 KiB block slab 460. Buffers of 1-2 MiB (a
// blob table of 20,000 entries, an index file) become one huge page.
func Cap(n int) int {
	if !roundsToHugePages || n < 1<<20 {
		return n
	}
	return (n + HugePageSize - 1) / HugePageSize * HugePageSize
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
