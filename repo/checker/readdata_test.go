package checker_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
)

// bigBlobRepo is a repository whose pack holds blobs of megabytes,
// compressed and not, in an order that makes ReadPacks grow its read
// buffer and move partly read blobs within it.
type bigBlobRepo struct {
	be         *mem.Backend
	big        repo.ID // incompressible, larger than the read buffer starts
	compressed repo.ID
}

func newBigBlobRepo(t *testing.T) *bigBlobRepo {
	t.Helper()
	ctx := context.Background()
	br := &bigBlobRepo{be: mem.New()}
	r, err := repo.Init(ctx, br.be, password, repo.InitOptions{KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	save := func(data []byte) repo.ID {
		id, _, err := r.SaveBlob(ctx, repo.DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for i := range 3 {
		save(randomBytes(uint64(10+i), 1500<<10))
	}
	br.big = save(randomBytes(20, 6<<20))
	br.compressed = save(bytes.Repeat([]byte("compressible line of a log file\n"), 5<<20/32))
	save(randomBytes(30, 1<<20))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return br
}

// readPacks runs ReadPacks over every indexed pack and returns what it
// reported.
func (br *bigBlobRepo) readPacks(t *testing.T) []error {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Open(ctx, br.be, password, repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var errs []error
	collect := func(err error) { errs = append(errs, err) }
	c := checker.New(r)
	if err := c.LoadIndex(ctx, collect); err != nil {
		t.Fatal(err)
	}
	if err := c.Packs(ctx, collect); err != nil {
		t.Fatal(err)
	}
	if err := c.ReadPacks(ctx, c.IndexedPacks(), collect); err != nil {
		t.Fatal(err)
	}
	return errs
}

func (br *bigBlobRepo) locate(t *testing.T, id repo.ID) repo.PackedBlob {
	t.Helper()
	tr := &testRepo{be: br.be}
	return tr.locate(t, repo.BlobHandle{ID: id, Type: repo.DataBlob})
}

func TestReadPacksBigBlobs(t *testing.T) {
	br := newBigBlobRepo(t)
	if pb := br.locate(t, br.compressed); pb.UncompressedLength == 0 {
		t.Fatal("the compressible blob is stored uncompressed")
	}
	if errs := br.readPacks(t); len(errs) > 0 {
		t.Fatalf("intact repository: %v", errs)
	}
	for _, blob := range []struct {
		name string
		id   repo.ID
	}{{"big blob", br.big}, {"compressed blob", br.compressed}} {
		t.Run(blob.name, func(t *testing.T) {
			br := newBigBlobRepo(t)
			pb := br.locate(t, blob.id)
			tr := &testRepo{be: br.be}
			tr.flip(t, packHandle(pb.PackID), int64(pb.Offset+pb.Length/2))
			errs := br.readPacks(t)
			if !found[*checker.PackError](errs, repo.ErrIntegrity) || !found[*checker.PackError](errs, checker.ErrPackHash) {
				t.Fatalf("flipped byte in the %s: want ErrIntegrity and ErrPackHash, got %v", blob.name, errs)
			}
		})
	}
}

// TestReadPacksWrongUncompressedLength: an index entry whose
// uncompressed length disagrees with the blob is damage, though the pack
// itself is intact.
func TestReadPacksWrongUncompressedLength(t *testing.T) {
	br := newBigBlobRepo(t)
	tr := &testRepo{be: br.be}
	tr.rewriteIndex(t, func(f *repo.IndexFile) {
		for i := range f.Packs {
			for j, b := range f.Packs[i].Blobs {
				if b.ID == br.compressed {
					f.Packs[i].Blobs[j].UncompressedLength -= 1000
				}
			}
		}
	})
	errs := br.readPacks(t)
	if !found[*checker.PackError](errs, repo.ErrIntegrity) || !found[*checker.PackError](errs, checker.ErrPackHeader) {
		t.Fatalf("want ErrIntegrity for the blob and ErrPackHeader for the entry, got %v", errs)
	}
	if found[*checker.PackError](errs, checker.ErrPackHash) {
		t.Errorf("the pack is intact, yet ErrPackHash: %v", errs)
	}
}

// TestReadPacksGapInIndex: bytes of a pack that no index entry covers are
// still part of the pack hash, so damage there is found.
func TestReadPacksGapInIndex(t *testing.T) {
	br := newBigBlobRepo(t)
	pb := br.locate(t, br.big)
	tr := &testRepo{be: br.be}
	tr.rewriteIndex(t, func(f *repo.IndexFile) {
		for i := range f.Packs {
			f.Packs[i].Blobs = deleteBlob(f.Packs[i].Blobs, br.big)
		}
	})
	tr.flip(t, packHandle(pb.PackID), int64(pb.Offset+100))
	errs := br.readPacks(t)
	if !found[*checker.PackError](errs, checker.ErrPackHash) {
		t.Fatalf("damage in bytes no index entry covers: want ErrPackHash, got %v", errs)
	}
}

func deleteBlob(blobs []repo.PackedBlob, id repo.ID) []repo.PackedBlob {
	var out []repo.PackedBlob
	for _, b := range blobs {
		if b.ID != id {
			out = append(out, b)
		}
	}
	return out
}
