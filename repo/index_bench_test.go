package repo

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// BenchmarkIndexLookup1M measures Has on a master index of a million
// blobs with random (SHA-256) IDs, as real ones are, for blobs present and
// absent (a backup asks about every chunk, mostly new ones on a first
// backup). Run with -bench IndexLookup1M; building the index takes a few
// seconds outside the timer.
func BenchmarkIndexLookup1M(b *testing.B) {
	const blobs, perPack = 1_000_000, 100
	mi := newMasterIndex()
	ids := make([]ID, 0, blobs)
	batch := make([]PackedBlob, perPack)
	for p := range blobs / perPack {
		packID := benchID(uint64(p), 1)
		for i := range batch {
			id := benchID(uint64(p*perPack+i), 0)
			batch[i] = PackedBlob{BlobHandle: BlobHandle{ID: id, Type: DataBlob}, PackID: packID,
				Offset: uint32(i) * 1000, Length: 1000, UncompressedLength: 2000}
			ids = append(ids, id)
		}
		mi.add(packID, batch)
	}
	b.Run("hit", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if !mi.Has(BlobHandle{ID: ids[i%blobs], Type: DataBlob}) {
				b.Fatal("missing")
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	})
	b.Run("miss", func(b *testing.B) {
		misses := make([]ID, 4096)
		for i := range misses {
			misses[i] = benchID(uint64(i), 2)
		}
		i := 0
		for b.Loop() {
			if mi.Has(BlobHandle{ID: misses[i%len(misses)], Type: DataBlob}) {
				b.Fatal("found an absent blob")
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	})
}

// benchID is a random-looking ID, distinct for each (n, space).
func benchID(n, space uint64) ID {
	var in [16]byte
	binary.LittleEndian.PutUint64(in[:], n)
	binary.LittleEndian.PutUint64(in[8:], space)
	return sha256.Sum256(in[:])
}
