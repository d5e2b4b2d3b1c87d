package restorer

import (
	"slices"
	"testing"

	"github.com/hbackup/hbackup/repo"
)

// TestPackOrder: packs go most expensive first, counting a file to write
// as fileCost bytes, and ties go by ID.
func TestPackOrder(t *testing.T) {
	job := func(lengths ...uint32) *packJob {
		pj := &packJob{}
		for _, l := range lengths {
			pj.blobs = append(pj.blobs, &blobJob{pb: repo.PackedBlob{Length: l}, uses: []blobUse{{}}})
		}
		return pj
	}
	big := job(4<<20, 4<<20)     // 8 MiB, two files: 8 MiB + 64 KiB
	small := make([]uint32, 400) // 400 files of 4 KiB: 1.6 MiB + 12.5 MiB
	for i := range small {
		small[i] = 4 << 10
	}
	packs := map[repo.ID]*packJob{
		{3}: job(1 << 20),
		{1}: big,
		{2}: job(small...),
		{5}: job(1 << 20), // ties with {3}: by ID
		{4}: job(),        // nothing to write
	}
	got := packOrder(packs)
	want := []repo.ID{{2}, {1}, {3}, {5}, {4}}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
