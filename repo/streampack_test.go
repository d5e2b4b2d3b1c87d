package repo_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/repo"
)

// TestStreamPackDecodesInPlace: StreamPack (which decrypts in place) and
// StreamPackSealed give the same plaintext for compressed and
// uncompressed blobs of one pack, and a damaged blob is reported as an
// integrity error for that blob alone, the others still decoded.
func TestStreamPackDecodesInPlace(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	r := initRepo(t, be, 2, repo.Options{})
	defer r.Close()
	blobs := [][]byte{
		bytes.Repeat([]byte("compressible line of text\n"), 4000),
		randomBytes(11, 300000), // stored uncompressed
		bytes.Repeat([]byte("another text, shorter\n"), 100),
		randomBytes(12, 5000),
	}
	byID := map[repo.ID][]byte{}
	for _, data := range blobs {
		id, _, err := r.SaveBlob(ctx, repo.DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		byID[id] = data
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var entries []repo.PackedBlob
	compressed := 0
	for id := range byID {
		pb := r.Index().Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})[0]
		if pb.UncompressedLength != 0 {
			compressed++
		}
		entries = append(entries, pb)
	}
	if compressed == 0 || compressed == len(entries) {
		t.Fatalf("%d of %d blobs compressed; the test needs both kinds", compressed, len(entries))
	}
	packID := entries[0].PackID
	for _, pb := range entries {
		if pb.PackID != packID {
			t.Fatal("blobs landed in more than one pack")
		}
	}

	stream := func(sealed bool) (map[repo.ID][]byte, map[repo.ID]error) {
		got, errs := map[repo.ID][]byte{}, map[repo.ID]error{}
		record := func(pb repo.PackedBlob, plain []byte, err error) error {
			if err != nil {
				errs[pb.ID] = err
			} else {
				got[pb.ID] = bytes.Clone(plain)
			}
			return nil
		}
		var err error
		if sealed {
			err = r.StreamPackSealed(ctx, packID, entries, func(pb repo.PackedBlob, _, plain []byte, err error) error {
				return record(pb, plain, err)
			})
		} else {
			err = r.StreamPack(ctx, packID, entries, record)
		}
		if err != nil {
			t.Fatal(err)
		}
		return got, errs
	}
	for _, sealed := range []bool{false, true} {
		got, errs := stream(sealed)
		if len(errs) != 0 || len(got) != len(byID) {
			t.Fatalf("sealed=%v: %d blobs, errors %v", sealed, len(got), errs)
		}
		for id, data := range byID {
			if !bytes.Equal(got[id], data) {
				t.Fatalf("sealed=%v: blob %v differs", sealed, id)
			}
		}
	}

	// Damage one compressed and one uncompressed blob in the pack file.
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	pack, err := backend.LoadAll(ctx, be, h)
	if err != nil {
		t.Fatal(err)
	}
	damaged := map[repo.ID]bool{}
	for _, want := range []bool{true, false} {
		for _, pb := range entries {
			if (pb.UncompressedLength != 0) == want {
				pack[pb.Offset+pb.Length/2] ^= 0x40
				damaged[pb.ID] = true
				break
			}
		}
	}
	if err := be.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := be.Save(ctx, h, backend.NewByteReader(pack)); err != nil {
		t.Fatal(err)
	}
	got, errs := stream(false)
	for id, data := range byID {
		if damaged[id] {
			if !errors.Is(errs[id], repo.ErrIntegrity) {
				t.Errorf("damaged blob %v: error %v, want ErrIntegrity", id, errs[id])
			}
			continue
		}
		if errs[id] != nil || !bytes.Equal(got[id], data) {
			t.Errorf("intact blob %v: error %v, equal %v", id, errs[id], bytes.Equal(got[id], data))
		}
	}
}

// TestStreamPackChecksIDs: StreamPack checks blobs against their IDs two
// at a time; a blob whose plaintext does not match its ID is reported
// alone, wherever it sits (first or second of a pair, the odd one out,
// or a blob too large to be paired), and its neighbours are still
// delivered intact.
func TestStreamPackChecksIDs(t *testing.T) {
	ctx := context.Background()
	r := initRepo(t, mem.New(), 2, repo.Options{})
	defer r.Close()
	var entries []repo.PackedBlob
	byID := map[repo.ID][]byte{}
	for i := range 5 {
		data := randomBytes(uint64(20+i), 1000+i*3000)
		if i == 3 {
			data = randomBytes(23, 3<<20) // too large for the second hash lane
		}
		if i%2 == 0 {
			data = bytes.Repeat([]byte{byte('a' + i)}, 20000+i)
		}
		id, _, err := r.SaveBlob(ctx, repo.DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		byID[id] = data
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for id := range byID {
		entries = append(entries, r.Index().Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})[0])
	}
	for _, n := range []int{4, 5} { // pairs only; pairs and one alone
		for wrong := range n {
			list := append([]repo.PackedBlob(nil), entries[:n]...)
			sortByOffset(list)
			list[wrong].ID = repo.Hash([]byte("not this blob"))
			var delivered int
			err := r.StreamPack(ctx, list[0].PackID, list, func(pb repo.PackedBlob, plain []byte, err error) error {
				delivered++
				if pb.ID == list[wrong].ID {
					if !errors.Is(err, repo.ErrIntegrity) || plain != nil {
						t.Errorf("%d blobs, blob %d has a wrong ID: error %v, %d bytes", n, wrong, err, len(plain))
					}
					return nil
				}
				if err != nil || !bytes.Equal(plain, byID[pb.ID]) {
					t.Errorf("%d blobs, blob %d wrong: intact blob %v: error %v", n, wrong, pb.ID.Str(), err)
				}
				return nil
			})
			if err != nil || delivered != n {
				t.Fatalf("%d blobs: %d delivered, error %v", n, delivered, err)
			}
		}
	}
}

func sortByOffset(list []repo.PackedBlob) {
	slices.SortFunc(list, func(a, b repo.PackedBlob) int { return cmp.Compare(a.Offset, b.Offset) })
}
