package repo

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
)

// TestBlobTableMatchesMap checks the compact table against a Go map over
// random inserts, duplicates and lookups, across many growth steps.
func TestBlobTableMatchesMap(t *testing.T) {
	t.Run("heap", func(t *testing.T) { testBlobTableMatchesMap(t, &blobTable{}, 20000) })
	// Past offHeapMin the slots move outside the Go heap, and each growth
	// frees the old mapping: a use after that would crash or misread.
	t.Run("off-heap", func(t *testing.T) {
		tab := &blobTable{mem: new(offHeap)}
		testBlobTableMatchesMap(t, tab, 4*offHeapMin/entrySize)
		if tab.mem.buf == nil || len(tab.slots)*entrySize != len(tab.mem.buf) {
			t.Errorf("slots (%d) not in the off-heap buffer (%d bytes)", len(tab.slots), len(tab.mem.buf))
		}
		tab.mem.free()
	})
}

func testBlobTableMatchesMap(t *testing.T, tab *blobTable, inserts int) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := map[ID]location{}
	var ids []ID
	for i := 0; i < inserts; i++ {
		var id ID
		if len(ids) > 0 && rng.IntN(10) == 0 {
			id = ids[rng.IntN(len(ids))] // a duplicate insert
		} else {
			for j := range id {
				id[j] = byte(rng.Uint32())
			}
			if i%100 == 0 {
				id[0], id[1] = 0, 0 // clustered prefixes still work
			}
			ids = append(ids, id)
		}
		loc := location{pack: uint32(rng.IntN(1000) + 1), offset: rng.Uint32(), length: rng.Uint32()}
		_, existed := ref[id]
		if added := tab.put(id, loc); added == existed {
			t.Fatalf("insert %d: put reported added=%v, existed=%v", i, added, existed)
		}
		if !existed {
			ref[id] = loc
		}
	}
	if tab.count != len(ref) {
		t.Fatalf("count %d, want %d", tab.count, len(ref))
	}
	for id, want := range ref {
		if got, ok := tab.get(id); !ok || got != want {
			t.Fatalf("get %x: %v %v, want %v", id[:4], got, ok, want)
		}
	}
	var missing ID
	missing[5] = 1
	if _, ok := tab.get(missing); ok {
		t.Fatal("found an ID never inserted")
	}
	n := 0
	tab.each(func(id ID, loc location) {
		n++
		if ref[id] != loc {
			t.Fatalf("each: wrong location for %x", id[:4])
		}
	})
	if n != len(ref) {
		t.Fatalf("each visited %d, want %d", n, len(ref))
	}
}

// TestBlobTableSequentialIDs: IDs that differ only in a counter (not
// uniform hashes) must still spread over the table.
func TestBlobTableSequentialIDs(t *testing.T) {
	var tab blobTable
	for i := 0; i < 2000; i++ {
		var id ID
		id[0], id[1], id[2] = byte(i), byte(i>>8), byte(i>>16)
		if !tab.put(id, location{pack: 1}) {
			t.Fatalf("id %d reported as known", i)
		}
	}
	if tab.count != 2000 {
		t.Fatalf("count %d", tab.count)
	}
	// No entry may sit far from its home slot.
	n := len(tab.slots)
	for i, e := range tab.slots {
		if e.loc.pack == 0 {
			continue
		}
		if d := (i - slot(e.id, n) + n) % n; d > 64 {
			t.Fatalf("entry %d slots away from its home: the slot function does not spread these IDs", d)
		}
	}
}

// TestLoadIndexSizesTablesOnce: LoadIndex sizes the tables from the first
// index file it decodes for all of them, so they never grow while loading
// (growing holds the old and the new table at once).
func TestLoadIndexSizesTablesOnce(t *testing.T) {
	ctx := t.Context()
	be := mem.New()
	r, err := Init(ctx, be, "secret", InitOptions{Version: 2, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// Files of different sizes, as a repository's history leaves them.
	n := 0
	for _, blobs := range []int{30000, 30000, 12000, 700, 3} {
		var packs []IndexPack
		for len(packs)*100 < blobs {
			var pack IndexPack
			pack.ID[0], pack.ID[1] = byte(len(packs)), byte(n>>16)
			pack.ID[2] = byte(blobs)
			for range min(100, blobs-len(packs)*100) {
				id := Hash([]byte(fmt.Sprint(n)))
				typ := DataBlob
				if n%10 == 0 {
					typ = TreeBlob
				}
				pack.Blobs = append(pack.Blobs, PackedBlob{BlobHandle: BlobHandle{ID: id, Type: typ},
					PackID: pack.ID, Offset: uint32(n), Length: 1000 + uint32(n%500), UncompressedLength: 3000})
				n++
			}
			packs = append(packs, pack)
		}
		if _, err := r.SaveIndexFile(ctx, packs); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r, err = Open(ctx, be, "secret", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	idx := r.Index()
	for _, c := range []struct {
		name string
		tab  *blobTable
	}{{"data", &idx.data}, {"tree", &idx.tree}} {
		// Sized once: at most the estimate's margin (plus rounding) above
		// the smallest table that holds them all.
		least := c.tab.count * maxLoadDen / maxLoadNum
		if got := len(c.tab.slots); got < least || float64(got) > float64(least)*(indexSizeMargin+0.02)+2 {
			t.Errorf("%s: %d slots for %d blobs; want %d to %.0f", c.name, got, c.tab.count, least, float64(least)*(indexSizeMargin+0.02)+2)
		}
	}
	if got := idx.Count(DataBlob) + idx.Count(TreeBlob); got != n {
		t.Errorf("indexed %d blobs, want %d", got, n)
	}
}
