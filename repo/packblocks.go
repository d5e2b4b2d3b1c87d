package repo

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/hugemem"
)

// Packs built in place with direct writes.
//
// A data pack built in place on a file that takes writes past the page
// cache (backend.DirectWriter: O_DIRECT on a local disk) keeps its bytes
// in memory blocks (1 or 2 MiB, see below) while it fills. A block is written
// to the file as soon as every byte of it is stored, and given back once
// it is also hashed: the pack's hash (packhash.go) reads the blocks, not
// the file. The last, partial block goes through the page cache at the
// pack's commit, with the header.
//
// Why: on the benchmark VM a buffered write costs about 1 s of system
// time per GB (the copy into fresh page-cache pages), the most a first
// backup spent outside hashing and chunking, and the pack's hash read it
// all back. A direct write of the same bytes costs a tenth, and the copy
// into a block is an ordinary memcpy between buffers that stay mapped.
//
// Memory: a block lives from its first stored byte until it is hashed
// and written, so a pack holds about the stored bytes its hash has not
// reached (hashAhead bounds them) plus the blobs being stored.

// packBlockSize is the size of a pack's memory blocks and of its direct
// writes where data blobs are compressed: large enough for the disk to
// stream, small enough that few wait in memory.
const packBlockSize = 1 << 20

// uncompressedPackBlockSize is the block size where data blobs are stored
// as they are (compression off, or a version 1 repository). There data
// arrives fastest, and 2 MiB blocks (half the writes) made first backups
// at scale 1 faster: with each direct write blocking a thread and its P
// (medians of alternating runs 3.82 -> 3.50 s, 3.97 -> 3.61 s, 3.88 ->
// 3.68 s), and still with the local backend's io_uring, where a write
// parks its goroutine instead (3.42 -> 3.29 s, 6 runs each). The peak
// RSS is about 10 MiB higher and still well below restic's. With
// compression they gained nothing measurable but held 12-15 MiB more at
// the peak, and copy's peak went above restic's.
const uncompressedPackBlockSize = 2 << 20

// packBlock is one block of a pack: its bytes, how many of them are
// stored, and whether it reached the file.
type packBlock struct {
	buf     []byte // the pool's block size, aligned to backend.DirectAlign
	filled  int
	written bool
}

// directWrites is what the packs with blocks of one repository share.
type directWrites struct {
	pool blockPool
	// slots bounds the block writes in flight, and with them the blocks
	// waiting for the disk: on the benchmark VM a 1 MiB direct write
	// usually took about 8 ms, while both CPUs were busy, but some took
	// 60 ms. A block finding no slot waits for one (see stored).
	//
	// Before the local backend's writes went through an io_uring, a
	// block finding no slot was written through the page cache by the
	// saver that completed it, rather than have the saver wait: a
	// third of the blocks, and on ext4 each such write waited for the
	// file's direct writes in flight, holding a P. Waiting for a slot
	// instead made a first backup with compression off faster only with
	// the ring, where a waiting write parks its goroutine (scale 1,
	// alternating runs: median 3.81 -> 3.31 s; without the ring, or with
	// the ring and the old page-cache path, no change).
	slots chan struct{}
	wg    sync.WaitGroup // block writes in flight; Close waits for them
	// refused is set when the file system refuses a direct write: later
	// packs are then written through the page cache.
	refused atomic.Bool
	// Blocks written past the page cache and through it, for tests.
	directBlocks, cachedBlocks atomic.Int64
}

// maxDirectWrites is how many block writes may be in flight at once.
const maxDirectWrites = 8

// newDirectWrites returns the shared state of packs with blocks of
// blockSize bytes, a multiple of backend.DirectAlign that divides
// blockSlab.
func newDirectWrites(blockSize int) *directWrites {
	return &directWrites{pool: blockPool{size: blockSize}, slots: make(chan struct{}, maxDirectWrites)}
}

// packBlocks is the in-memory side of a pack built with direct writes.
type packBlocks struct {
	size   int // of each block
	file   backend.PendingFile
	w      backend.DirectWriter
	shared *directWrites
	writes sync.WaitGroup // this pack's block writes

	mu     sync.Mutex
	blocks []*packBlock // by index; nil before the first byte and after release
	hashed int          // bytes of the pack hashed so far
	err    error        // the first failed block write
}

func newPackBlocks(f backend.PendingFile, w backend.DirectWriter, shared *directWrites) *packBlocks {
	return &packBlocks{size: shared.pool.size, file: f, w: w, shared: shared}
}

// put stores data at offset off of the pack; concurrent stores must
// cover different bytes. Blocks it completes are written in the
// background.
func (pb *packBlocks) put(data []byte, off int) {
	r := pb.region(off, len(data))
	rest := data
	for _, piece := range r.pieces {
		rest = rest[copy(piece, rest):]
	}
	pb.stored(r)
}

// blockRegion is where n bytes at some offset of a pack go: a piece of
// each block they touch.
type blockRegion struct {
	first  int // index of the first block
	blocks []*packBlock
	pieces [][]byte
}

// region returns the pieces of memory where n bytes at offset off of the
// pack go, allocating their blocks. The caller fills them without a
// lock, then calls stored.
func (pb *packBlocks) region(off, n int) blockRegion {
	if n == 0 {
		return blockRegion{}
	}
	first, last := off/pb.size, (off+n-1)/pb.size
	r := blockRegion{first: first, blocks: make([]*packBlock, 0, last-first+1), pieces: make([][]byte, 0, last-first+1)}
	pb.mu.Lock()
	defer pb.mu.Unlock()
	for len(pb.blocks) <= last {
		pb.blocks = append(pb.blocks, nil)
	}
	for i := first; i <= last; i++ {
		if pb.blocks[i] == nil {
			pb.blocks[i] = &packBlock{buf: pb.shared.pool.get()}
		}
		start := i * pb.size
		from, to := max(off, start), min(off+n, start+pb.size)
		r.blocks = append(r.blocks, pb.blocks[i])
		r.pieces = append(r.pieces, pb.blocks[i].buf[from-start:to-start:to-start])
	}
	return r
}

// stored counts a filled region's bytes in, and starts the writes of the
// blocks it completes, each once a write slot is free: a saver that
// completes a block while the disk is behind waits here, which bounds
// the blocks in memory.
func (pb *packBlocks) stored(r blockRegion) {
	var full []int
	pb.mu.Lock()
	for k, b := range r.blocks {
		b.filled += len(r.pieces[k])
		if b.filled == pb.size {
			full = append(full, k)
		}
	}
	pb.writes.Add(len(full))
	pb.mu.Unlock()
	for _, k := range full {
		pb.shared.slots <- struct{}{}
		pb.shared.wg.Add(1)
		go func() {
			defer pb.shared.wg.Done()
			defer func() { <-pb.shared.slots }()
			pb.write(r.first+k, r.blocks[k])
		}()
	}
}

// write writes a full block to the file, past the page cache unless the
// file system refuses, and gives the block back if it is hashed.
func (pb *packBlocks) write(i int, b *packBlock) {
	defer pb.writes.Done()
	off := int64(i) * int64(pb.size)
	var err error
	direct := !pb.shared.refused.Load()
	if direct {
		err = pb.w.WriteDirect(b.buf, off)
		if errors.Is(err, errors.ErrUnsupported) {
			pb.shared.refused.Store(true)
			direct = false
		}
	}
	if !direct {
		_, err = pb.file.WriteAt(b.buf, off)
	}
	if direct {
		pb.shared.directBlocks.Add(1)
	} else {
		pb.shared.cachedBlocks.Add(1)
	}
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if err != nil && pb.err == nil {
		pb.err = fmt.Errorf("write pack block at %d: %w", off, err)
	}
	b.written = true
	if (i+1)*pb.size <= pb.hashed {
		pb.release(i)
	}
}

// release gives block i back to the pool; the caller holds mu.
func (pb *packBlocks) release(i int) {
	pb.shared.pool.put(pb.blocks[i].buf)
	pb.blocks[i] = nil
}

// piece returns the pack's stored bytes from offset from on, up to to or
// the end of from's block, or nil if that block is no longer in memory
// (it is in the file). The bytes must be stored: nothing changes them.
func (pb *packBlocks) piece(from, to int) []byte {
	i := from / pb.size
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if i >= len(pb.blocks) || pb.blocks[i] == nil {
		return nil
	}
	start := i * pb.size
	return pb.blocks[i].buf[from-start : min(to, start+pb.size)-start]
}

// hashedTo records that the pack's first n bytes are hashed, giving back
// the written blocks the hash is done with.
func (pb *packBlocks) hashedTo(n int) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	pb.hashed = n
	for i := range min(n/pb.size, len(pb.blocks)) {
		if b := pb.blocks[i]; b != nil && b.written {
			pb.release(i)
		}
	}
}

// readAt reads the pack's stored bytes at off into dst, from its blocks
// or, for blocks already given back, from the file.
func (pb *packBlocks) readAt(dst []byte, off int) error {
	for len(dst) > 0 {
		piece := pb.piece(off, off+len(dst))
		if piece == nil {
			n := min(len(dst), pb.size-off%pb.size)
			if _, err := pb.file.ReadAt(dst[:n], int64(off)); err != nil {
				return err
			}
			piece = dst[:n]
		} else {
			copy(dst, piece)
		}
		dst, off = dst[len(piece):], off+len(piece)
	}
	return nil
}

// finish completes the pack's file up to length: it waits for the block
// writes and writes the last, partial block through the page cache. The
// blocks are given back either way.
func (pb *packBlocks) finish(length int) error {
	pb.writes.Wait()
	pb.mu.Lock()
	err := pb.err
	if last := length / pb.size; err == nil && length%pb.size != 0 {
		start := last * pb.size
		if last >= len(pb.blocks) || pb.blocks[last] == nil || pb.blocks[last].filled != length-start {
			err = fmt.Errorf("pack block at %d: %d bytes missing", start, length-start)
		} else if _, werr := pb.file.WriteAt(pb.blocks[last].buf[:length-start], int64(start)); werr != nil {
			err = fmt.Errorf("write pack block at %d: %w", start, werr)
		}
	}
	pb.mu.Unlock()
	pb.discard()
	return err
}

// failure returns the first failed block write, or nil; a nil
// packBlocks has none.
func (pb *packBlocks) failure() error {
	if pb == nil {
		return nil
	}
	pb.mu.Lock()
	defer pb.mu.Unlock()
	return pb.err
}

// discard waits for the block writes and gives every block back; a nil
// packBlocks (a pack without blocks) has nothing to give.
func (pb *packBlocks) discard() {
	if pb == nil {
		return
	}
	pb.writes.Wait()
	pb.mu.Lock()
	defer pb.mu.Unlock()
	for i, b := range pb.blocks {
		if b != nil {
			pb.release(i)
		}
	}
}

// blockPool lends out pack blocks: aligned memory outside the Go heap
// (hugemem), allocated a slab at a time and kept until Close, so a block
// costs no page faults after its first use.
type blockPool struct {
	size  int // of each block
	mu    sync.Mutex
	free  [][]byte
	slabs [][]byte
	inUse int
	peak  int // the most blocks lent out at once, for tests
}

// blockSlab is how much memory the pool maps at once: four huge pages.
const blockSlab = 8 << 20

func (bp *blockPool) get() []byte {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if len(bp.free) == 0 {
		// Room to align: hugemem falls back to the Go heap where it
		// cannot map memory.
		slab := hugemem.Alloc(blockSlab + backend.DirectAlign)
		bp.slabs = append(bp.slabs, slab)
		skip := 0
		if rem := int(uintptr(unsafe.Pointer(&slab[0])) % backend.DirectAlign); rem != 0 {
			skip = backend.DirectAlign - rem
		}
		for off := skip; off+bp.size <= len(slab); off += bp.size {
			bp.free = append(bp.free, slab[off:off+bp.size:off+bp.size])
		}
	}
	b := bp.free[len(bp.free)-1]
	bp.free = bp.free[:len(bp.free)-1]
	bp.inUse++
	bp.peak = max(bp.peak, bp.inUse)
	return b
}

func (bp *blockPool) put(b []byte) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	bp.free = append(bp.free, b)
	bp.inUse--
}

// drain unmaps the pool's memory if no block is lent out; a block still
// in use (only after a misuse, such as Close during an upload) keeps all
// of it mapped.
func (bp *blockPool) drain() {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.inUse != 0 {
		return
	}
	for _, s := range bp.slabs {
		hugemem.Free(s)
	}
	bp.slabs, bp.free = nil, nil
}
