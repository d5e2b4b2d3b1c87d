package repo

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/hbackup/hbackup/internal/hugemem"
)

// blobTable is a compact hash table from blob ID to location for one blob
// type: 48 bytes per slot (no pointers, so the garbage collector never
// scans it), open addressing with linear probing. IDs are SHA-256
// hashes, so their first 8 bytes already make a uniform hash. Capacity
// grows by 1.5x, which keeps the average load near 3/4: about 64 bytes
// per blob, where a Go map of the same data takes about 95.
//
// A table with mem set keeps large slot arrays outside the Go heap. On the
// heap, a 600 MB table of 10 million blobs let as much garbage pile up
// before a collection (the heap goal is twice the live heap), and the old
// array of each growth stayed until then: peak RSS was twice the table.
type blobTable struct {
	slots []tableEntry
	count int
	mem   *offHeap // nil: slots always on the Go heap
}

// offHeap holds the memory of a table's slots when they live outside the
// Go heap, for freeing: when the table grows, and when the MasterIndex
// holding the table is collected.
type offHeap struct{ buf []byte }

func (m *offHeap) free() {
	hugemem.Free(m.buf)
	m.buf = nil
}

// offHeapMin is the smallest slot array kept outside the heap: a mapping
// per small table (tests, tiny repositories) would cost more than it saves.
const offHeapMin = 1 << 20

const entrySize = int(unsafe.Sizeof(tableEntry{}))

// tableEntry is one slot; pack 0 marks an empty slot (pack numbers start
// at 1).
type tableEntry struct {
	id  ID
	loc location
}

const maxLoadNum, maxLoadDen = 7, 8 // grow above 7/8 full

// slot maps an ID to a start position in [0, n) without division. IDs
// are SHA-256 hashes, but the bytes are mixed anyway, so that IDs which
// are not uniform (tests, damaged index files) cannot pile up in one slot.
func slot(id ID, n int) int {
	h := binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[24:])
	h *= 0x9e3779b97f4a7c15
	h ^= h >> 29
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// get returns the location of id.
func (t *blobTable) get(id ID) (location, bool) {
	n := len(t.slots)
	if n == 0 {
		return location{}, false
	}
	for i := slot(id, n); ; i++ {
		if i == n {
			i = 0
		}
		e := &t.slots[i]
		if e.loc.pack == 0 {
			return location{}, false
		}
		if e.id == id {
			return e.loc, true
		}
	}
}

// put stores id's location if id is new and reports whether it was.
func (t *blobTable) put(id ID, loc location) bool {
	if (t.count+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		t.grow(max(16, len(t.slots)+len(t.slots)/2))
	}
	n := len(t.slots)
	for i := slot(id, n); ; i++ {
		if i == n {
			i = 0
		}
		e := &t.slots[i]
		if e.loc.pack == 0 {
			e.id, e.loc = id, loc
			t.count++
			return true
		}
		if e.id == id {
			return false
		}
	}
}

// reserve makes room for n more entries at once, so bulk loading does not
// grow the table several times.
func (t *blobTable) reserve(n int) {
	want := (t.count + n) * maxLoadDen / maxLoadNum
	if want > len(t.slots) {
		t.grow(want + 1)
	}
}

func (t *blobTable) grow(size int) {
	old := t.slots
	var oldBuf, buf []byte
	if t.mem != nil && size*entrySize >= offHeapMin {
		// Zeroed, like make: pack 0 marks every slot empty.
		buf = hugemem.Alloc(size * entrySize)
		t.slots = unsafe.Slice((*tableEntry)(unsafe.Pointer(unsafe.SliceData(buf))), size)
	} else {
		t.slots = make([]tableEntry, size)
	}
	t.count = 0
	for i := range old {
		if old[i].loc.pack != 0 {
			t.put(old[i].id, old[i].loc)
		}
	}
	if t.mem != nil {
		oldBuf, t.mem.buf = t.mem.buf, buf
		hugemem.Free(oldBuf) // old is not used again
	}
}

// each calls fn for every entry.
func (t *blobTable) each(fn func(ID, location)) {
	for i := range t.slots {
		if t.slots[i].loc.pack != 0 {
			fn(t.slots[i].id, t.slots[i].loc)
		}
	}
}
