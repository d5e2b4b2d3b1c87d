package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/local"
)

// Create a repository directory, save a pack file and see where it went.
func Example() {
	tmp, err := os.MkdirTemp("", "hbackup-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	ctx := context.Background()
	be, err := local.New(filepath.Join(tmp, "repo"), local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = be.Close() }()
	if err := be.Create(ctx); err != nil {
		fmt.Println(err)
		return
	}

	h := backend.Handle{Type: backend.PackFile, Name: "5eedc0de"}
	if err := be.Save(ctx, h, backend.NewByteReader([]byte("pack content"))); err != nil {
		fmt.Println(err)
		return
	}
	fi, err := os.Stat(filepath.Join(be.Location(), "data", "5e", "5eedc0de"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fi.Size(), fi.Mode())

	data, err := backend.LoadAll(ctx, be, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", data)
	// Output:
	// 12 -r--------
	// pack content
}

// Build a file in place: write its parts in any order, then name it.
func ExampleBackend_CreateFile() {
	tmp, err := os.MkdirTemp("", "hbackup-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	ctx := context.Background()
	be, err := local.New(filepath.Join(tmp, "repo"), local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = be.Close() }()
	if err := be.Create(ctx); err != nil {
		fmt.Println(err)
		return
	}

	f, err := be.CreateFile(ctx, backend.PackFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = f.WriteAt([]byte("world"), 6)
	_, _ = f.WriteAt([]byte("hello "), 0)
	h := backend.Handle{Type: backend.PackFile, Name: "c0ffee"}
	if err := f.Commit(ctx, h); err != nil {
		fmt.Println(err)
		return
	}
	data, err := backend.LoadAll(ctx, be, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", data)
	// Output:
	// hello world
}
