package repair_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/repair"
)

func names(t *testing.T, r *repo.Repository, ft backend.FileType) []repo.ID {
	t.Helper()
	var ids []repo.ID
	if err := r.List(context.Background(), ft, func(id repo.ID, _ int64) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// A missing pack is dropped, an unreadable index file replaced, and the
// packs that remain stay indexed; with ReadAllPacks every header is read.
func TestRebuildIndexMissingPackAndBadIndex(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	r, err := repo.Init(ctx, be, "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var blobs []repo.ID
	var packs []repo.ID
	for _, s := range []string{"first blob", "second blob"} {
		id, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, id)
		for _, p := range names(t, r, backend.PackFile) {
			if !slices.Contains(packs, p) {
				packs = append(packs, p)
			}
		}
	}
	if len(packs) != 2 {
		t.Fatalf("%d packs", len(packs))
	}
	if err := be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: packs[0].String()}); err != nil {
		t.Fatal(err)
	}
	garbage := []byte("not an index")
	bad := repo.Hash([]byte("other content"))
	if err := be.Save(ctx, backend.Handle{Type: backend.IndexFile, Name: bad.String()}, backend.NewByteReader(garbage)); err != nil {
		t.Fatal(err)
	}
	old := names(t, r, backend.IndexFile)

	res, err := repair.RebuildIndex(ctx, r, repair.IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Missing, packs[:1]) || !slices.Equal(res.InvalidIndexes, []repo.ID{bad}) ||
		len(res.Added) != 0 || len(res.ObsoleteIndexes) != len(old) {
		t.Fatalf("result %+v", res)
	}
	if got := names(t, r, backend.IndexFile); !slices.Equal(got, res.NewIndexes) {
		t.Fatalf("index files %v, want only %v", got, res.NewIndexes)
	}
	indexed := func() []bool {
		r2, err := repo.Open(ctx, be, "pw", repo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r2.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		var out []bool
		for _, b := range blobs {
			out = append(out, r2.Index().Has(repo.BlobHandle{ID: b, Type: repo.DataBlob}))
		}
		return out
	}
	if got := indexed(); !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("indexed %v", got)
	}

	res, err = repair.RebuildIndex(ctx, r, repair.IndexOptions{ReadAllPacks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing)+len(res.Added)+len(res.Invalid) != 0 || len(res.NewIndexes) != 1 {
		t.Fatalf("read-all result %+v", res)
	}
	if got := indexed(); !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("indexed after read-all %v", got)
	}
}

// PackSize computes the file size of packs with compressed (version 2)
// and uncompressed (version 1) entries, so RebuildIndex keeps their
// index entries.
func TestPackSizeMatchesFile(t *testing.T) {
	for _, v := range []uint{1, 2} {
		testPackSize(t, v)
	}
}

func testPackSize(t *testing.T, version uint) {
	ctx := context.Background()
	be := mem.New()
	r, err := repo.Init(ctx, be, "pw", repo.InitOptions{Version: version, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "bb", "ccc"} {
		if _, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sizes := map[repo.ID]int64{}
	_ = r.List(ctx, backend.PackFile, func(id repo.ID, size int64) error {
		sizes[id] = size
		return nil
	})
	for _, f := range names(t, r, backend.IndexFile) {
		idx, err := r.LoadIndexFile(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range idx.Packs {
			if got := repair.PackSize(p.Blobs); got != sizes[p.ID] {
				t.Errorf("version %d: PackSize %d, file has %d", version, got, sizes[p.ID])
			}
		}
	}
}
