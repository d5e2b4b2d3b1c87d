package repo_test

import (
	"context"
	"fmt"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
)

// Create a repository, store a blob, and read it back through a second
// handle that knows only the password.
func Example() {
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
	if err := r.Flush(ctx); err != nil { // packs, then index files
		panic(err)
	}

	r2, err := repo.Open(ctx, be, "secret", repo.Options{})
	if err != nil {
		panic(err)
	}
	if err := r2.LoadIndex(ctx); err != nil {
		panic(err)
	}
	data, err := r2.LoadBlob(ctx, repo.DataBlob, id, nil)
	fmt.Println(string(data), err, r2.Config().Version)

	_, err = repo.Open(ctx, be, "wrong", repo.Options{})
	fmt.Println(err)
	// Output:
	// hello, restic <nil> 2
	// wrong password or no key found
}
