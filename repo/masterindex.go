package repo

import (
	"runtime"
	"sync"
)

// location is where one copy of a blob is stored. pack is 1 + the index
// into packIDs, so that 0 can mark an empty table slot.
type location struct {
	pack               uint32
	offset             uint32
	length             uint32
	uncompressedLength uint32
}

// MasterIndex maps blobs to their packs, merged from all index files plus
// packs written in this session. It is safe for concurrent use.
type MasterIndex struct {
	mu      sync.RWMutex
	packIDs []ID
	packNum map[ID]uint32
	data    blobTable
	tree    blobTable
	// dups holds further copies of blobs stored in more than one pack
	// (rare: prune removes them).
	dups map[BlobHandle][]location
}

func newMasterIndex() *MasterIndex {
	mi := &MasterIndex{
		packNum: make(map[ID]uint32),
		dups:    make(map[BlobHandle][]location),
	}
	// Large tables live outside the Go heap (see blobTable); their memory
	// goes back once the index is garbage.
	for _, t := range []*blobTable{&mi.data, &mi.tree} {
		t.mem = new(offHeap)
		runtime.AddCleanup(mi, (*offHeap).free, t.mem)
	}
	return mi
}

func (mi *MasterIndex) table(t BlobType) *blobTable {
	if t == TreeBlob {
		return &mi.tree
	}
	return &mi.data
}

// add records blobs of one pack.
func (mi *MasterIndex) add(packID ID, blobs []PackedBlob) {
	mi.mu.Lock()
	defer mi.mu.Unlock()
	num, ok := mi.packNum[packID]
	if !ok {
		mi.packIDs = append(mi.packIDs, packID)
		num = uint32(len(mi.packIDs)) // 1-based
		mi.packNum[packID] = num
	}
	for _, b := range blobs {
		loc := location{pack: num, offset: b.Offset, length: b.Length, uncompressedLength: b.UncompressedLength}
		tab := mi.table(b.Type)
		if tab.put(b.ID, loc) {
			continue
		}
		old, _ := tab.get(b.ID)
		if old != loc && !containsLocation(mi.dups[b.BlobHandle], loc) {
			// The same pack listed in two index files is not a copy.
			mi.dups[b.BlobHandle] = append(mi.dups[b.BlobHandle], loc)
		}
	}
}

// reserve prepares room for n more blobs of each type.
func (mi *MasterIndex) reserve(data, tree int) {
	mi.mu.Lock()
	defer mi.mu.Unlock()
	mi.data.reserve(data)
	mi.tree.reserve(tree)
}

func containsLocation(list []location, loc location) bool {
	for _, l := range list {
		if l == loc {
			return true
		}
	}
	return false
}

func (mi *MasterIndex) packed(h BlobHandle, loc location) PackedBlob {
	return PackedBlob{
		BlobHandle: h, PackID: mi.packIDs[loc.pack-1],
		Offset: loc.offset, Length: loc.length, UncompressedLength: loc.uncompressedLength,
	}
}

// Has reports whether the blob is indexed.
func (mi *MasterIndex) Has(h BlobHandle) bool {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	_, ok := mi.table(h.Type).get(h.ID)
	return ok
}

// Lookup returns every stored copy of the blob; nil if unknown.
func (mi *MasterIndex) Lookup(h BlobHandle) []PackedBlob {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	loc, ok := mi.table(h.Type).get(h.ID)
	if !ok {
		return nil
	}
	out := []PackedBlob{mi.packed(h, loc)}
	for _, d := range mi.dups[h] {
		out = append(out, mi.packed(h, d))
	}
	return out
}

// Count returns the number of distinct blobs of type t.
func (mi *MasterIndex) Count(t BlobType) int {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	return mi.table(t).count
}

// Each calls fn for every stored copy of every blob, in no order. fn must
// not call back into the index.
func (mi *MasterIndex) Each(fn func(PackedBlob)) {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	for _, t := range []BlobType{DataBlob, TreeBlob} {
		mi.table(t).each(func(id ID, loc location) {
			h := BlobHandle{ID: id, Type: t}
			fn(mi.packed(h, loc))
			for _, d := range mi.dups[h] {
				fn(mi.packed(h, d))
			}
		})
	}
}

// Packs returns the set of packs the index references.
func (mi *MasterIndex) Packs() map[ID]struct{} {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	out := make(map[ID]struct{}, len(mi.packIDs))
	for _, id := range mi.packIDs {
		out[id] = struct{}{}
	}
	return out
}
