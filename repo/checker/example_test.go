package checker_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
)

// Check a repository, then delete a pack file and check again: the
// missing pack is an error, found with errors.As and errors.Is.
func Example() {
	ctx := context.Background()
	be := mem.New()
	r, err := repo.Init(ctx, be, "secret", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		panic(err)
	}
	if _, _, err := r.SaveBlob(ctx, repo.DataBlob, []byte("hello, restic")); err != nil {
		panic(err)
	}
	if err := r.Flush(ctx); err != nil {
		panic(err)
	}

	res, err := checker.Check(ctx, r, checker.Options{ReadData: true})
	if err != nil {
		panic(err)
	}
	// The blob is in no snapshot: a hint, not an error.
	fmt.Println(res.OK(), len(res.Hints), checker.IsHint(res.Hints[0]))

	var packs []string
	_ = be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		packs = append(packs, fi.Name)
		return nil
	})
	_ = be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: packs[0]})

	r2, err := repo.Open(ctx, be, "secret", repo.Options{})
	if err != nil {
		panic(err)
	}
	res, err = checker.Check(ctx, r2, checker.Options{})
	if err != nil {
		panic(err)
	}
	var pe *checker.PackError
	fmt.Println(res.OK(), errors.As(res.Errors[0], &pe) && pe.PackID.String() == packs[0],
		errors.Is(res.Errors[0], checker.ErrPackMissing))
	// Output:
	// true 1 true
	// false true true
}
