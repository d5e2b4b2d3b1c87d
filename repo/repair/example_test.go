package repair_test

import (
	"context"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/repair"
)

// Lose every index file, then rebuild the index from the pack headers.
func ExampleRebuildIndex() {
	ctx := context.Background()
	be := mem.New()
	r, err := repo.Init(ctx, be, "secret", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		panic(err)
	}
	id, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte("hello, restic"))
	if err != nil {
		panic(err)
	}
	if err := r.Flush(ctx); err != nil {
		panic(err)
	}
	_ = r.List(ctx, backend.IndexFile, func(idx repo.ID, _ int64) error {
		return be.Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: idx.String()})
	})

	res, err := repair.RebuildIndex(ctx, r, repair.IndexOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("packs added:", len(res.Added), "index files written:", len(res.NewIndexes))

	r2, err := repo.Open(ctx, be, "secret", repo.Options{})
	if err != nil {
		panic(err)
	}
	if err := r2.LoadIndex(ctx); err != nil {
		panic(err)
	}
	fmt.Println("blob indexed:", r2.Index().Has(repo.BlobHandle{ID: id, Type: repo.DataBlob}))
	// Output:
	// packs added: 1 index files written: 1
	// blob indexed: true
}
