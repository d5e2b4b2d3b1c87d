package archiver

import (
	"sync"

	"github.com/hbackup/hbackup/internal/hugemem"
)

// chunkRing lends the buffers that carry chunks from the file readers to
// the savers (a reader reuses its own chunk buffer for the next chunk).
// They are cut from one ring of size bytes, allocated on first use and
// reused for the whole backup: no chunk costs an allocation. Fresh memory
// is expensive (a page fault per 4 KiB on first touch), and per-chunk
// buffers of varying sizes kept the garbage collector and the scavenger
// busy. The ring lives outside the Go heap (package hugemem): on the heap
// it ate into the room the memory limit leaves for garbage.
//
// A reader never waits for room: when there is none, it stores the chunk
// itself. So the ring only needs room for the chunks that keep the other
// savers busy, and bounds the memory in flight whatever the data.
//
// Space is lent in ring order and comes back in lending order: a buffer
// returned early is reused once those lent before it are back. Savers
// finish chunks in about the order they got them, so little is held up.
type chunkRing struct {
	size int

	mu   sync.Mutex
	ring []byte
	lent []*ringBuf // oldest first
}

// A ringBuf is one lent stretch of the ring.
type ringBuf struct {
	off, n int
	done   bool
	data   []byte
}

func newChunkRing(size int) *chunkRing { return &chunkRing{size: size} }

// get lends n bytes, or returns nil if there is no room for them now.
func (r *chunkRing) get(n int) *ringBuf {
	r.mu.Lock()
	defer r.mu.Unlock()
	off, ok := r.room(n)
	if !ok {
		return nil
	}
	if r.ring == nil {
		r.ring = hugemem.Alloc(r.size)
	}
	b := &ringBuf{off: off, n: n, data: r.ring[off : off+n : off+n]}
	r.lent = append(r.lent, b)
	return b
}

// room finds n free contiguous bytes after the newest lent stretch,
// wrapping to the ring's start if they do not fit before its end. r.mu is
// held.
func (r *chunkRing) room(n int) (off int, ok bool) {
	if len(r.lent) == 0 {
		return 0, n <= r.size
	}
	head := r.lent[0].off
	last := r.lent[len(r.lent)-1]
	tail := last.off + last.n
	if last.off >= head { // lent space is [head, tail)
		if r.size-tail >= n {
			return tail, true
		}
		return 0, head >= n
	}
	return tail, head-tail >= n // wrapped: lent space is [head, size) and [0, tail)
}

// put gives back a buffer from get.
func (r *chunkRing) put(b *ringBuf) {
	r.mu.Lock()
	b.done, b.data = true, nil
	i := 0
	for i < len(r.lent) && r.lent[i].done {
		r.lent[i] = nil
		i++
	}
	r.lent = append(r.lent[:0], r.lent[i:]...)
	r.mu.Unlock()
}

// free gives the ring's memory back. Nothing may be lent.
func (r *chunkRing) free() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lent) > 0 {
		panic("archiver: chunk ring freed while lent")
	}
	hugemem.Free(r.ring)
	r.ring = nil
}

// inUse returns the bytes between the oldest lent stretch and the end of
// the newest, counting any unused end of the ring skipped in between: the
// memory held for chunks in flight. For tests.
func (r *chunkRing) inUse() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lent) == 0 {
		return 0
	}
	head := r.lent[0].off
	last := r.lent[len(r.lent)-1]
	tail := last.off + last.n
	if last.off >= head {
		return tail - head
	}
	return r.size - head + tail
}
