package repo

import (
	"sync"
)

// location is where one copy of a blob is stored. pack indexes packIDs.
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
	blobs   map[BlobHandle]location
	// dups holds further copies of blobs stored in more than one pack.
	dups map[BlobHandle][]location
}

func newMasterIndex() *MasterIndex {
	return &MasterIndex{
		packNum: make(map[ID]uint32),
		blobs:   make(map[BlobHandle]location),
		dups:    make(map[BlobHandle][]location),
	}
}

// add records blobs of one pack. The caller holds no lock.
func (mi *MasterIndex) add(packID ID, blobs []PackedBlob) {
	mi.mu.Lock()
	defer mi.mu.Unlock()
	num, ok := mi.packNum[packID]
	if !ok {
		num = uint32(len(mi.packIDs))
		mi.packIDs = append(mi.packIDs, packID)
		mi.packNum[packID] = num
	}
	for _, b := range blobs {
		loc := location{pack: num, offset: b.Offset, length: b.Length, uncompressedLength: b.UncompressedLength}
		old, exists := mi.blobs[b.BlobHandle]
		switch {
		case !exists:
			mi.blobs[b.BlobHandle] = loc
		case old == loc:
			// the same pack listed in two index files
		default:
			if !containsLocation(mi.dups[b.BlobHandle], loc) {
				mi.dups[b.BlobHandle] = append(mi.dups[b.BlobHandle], loc)
			}
		}
	}
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
		BlobHandle: h, PackID: mi.packIDs[loc.pack],
		Offset: loc.offset, Length: loc.length, UncompressedLength: loc.uncompressedLength,
	}
}

// Has reports whether the blob is indexed.
func (mi *MasterIndex) Has(h BlobHandle) bool {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	_, ok := mi.blobs[h]
	return ok
}

// Lookup returns every stored copy of the blob; nil if unknown.
func (mi *MasterIndex) Lookup(h BlobHandle) []PackedBlob {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	loc, ok := mi.blobs[h]
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
	n := 0
	for h := range mi.blobs {
		if h.Type == t {
			n++
		}
	}
	return n
}

// Each calls fn for every stored copy of every blob, in no order. fn must
// not call back into the index.
func (mi *MasterIndex) Each(fn func(PackedBlob)) {
	mi.mu.RLock()
	defer mi.mu.RUnlock()
	for h, loc := range mi.blobs {
		fn(mi.packed(h, loc))
		for _, d := range mi.dups[h] {
			fn(mi.packed(h, d))
		}
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
