package repo

import (
	"encoding/binary"
	"runtime"
	"testing"
)

// BenchmarkIndexMemory measures the heap the in-memory index takes per
// blob, for the synthetic index of 10 million blobs (run with
// -bench IndexMemory -benchtime 1x; it allocates about 1 GB).
func BenchmarkIndexMemory(b *testing.B) {
	const blobs = 10_000_000
	const perPack = 100
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		mi := newMasterIndex()
		batch := make([]PackedBlob, perPack)
		for p := 0; p < blobs/perPack; p++ {
			var packID ID
			binary.LittleEndian.PutUint64(packID[:], uint64(p)+1<<40)
			for i := range batch {
				var id ID
				binary.LittleEndian.PutUint64(id[:], uint64(p*perPack+i))
				batch[i] = PackedBlob{BlobHandle: BlobHandle{ID: id, Type: DataBlob}, PackID: packID,
					Offset: uint32(i) * 1000, Length: 1000, UncompressedLength: 2000}
			}
			mi.add(packID, batch)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/blobs, "bytes/blob")
		runtime.KeepAlive(mi)
	}
}

// BenchmarkIndexLookup measures Has on a populated index.
func BenchmarkIndexLookup(b *testing.B) {
	mi := newMasterIndex()
	var ids []ID
	for p := 0; p < 1000; p++ {
		var packID ID
		binary.LittleEndian.PutUint64(packID[:], uint64(p)+1<<40)
		batch := make([]PackedBlob, 100)
		for i := range batch {
			var id ID
			binary.LittleEndian.PutUint64(id[:], uint64(p*100+i))
			batch[i] = PackedBlob{BlobHandle: BlobHandle{ID: id, Type: DataBlob}, PackID: packID, Length: 100}
			ids = append(ids, id)
		}
		mi.add(packID, batch)
	}
	i := 0
	for b.Loop() {
		if !mi.Has(BlobHandle{ID: ids[i%len(ids)], Type: DataBlob}) {
			b.Fatal("missing")
		}
		i++
	}
}
