package repo

import (
	"math/rand/v2"
	"testing"
)

// TestBlobTableMatchesMap checks the compact table against a Go map over
// random inserts, duplicates and lookups, across many growth steps.
func TestBlobTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tab blobTable
	ref := map[ID]location{}
	var ids []ID
	for i := 0; i < 20000; i++ {
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
