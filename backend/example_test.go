package backend_test

import (
	"context"
	"fmt"
	"io"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
)

// Save a file, then read it back whole and in part.
func Example() {
	ctx := context.Background()
	var be backend.Backend = mem.New()
	h := backend.Handle{Type: backend.SnapshotFile, Name: "0123abcd"}

	if err := be.Save(ctx, h, backend.NewByteReader([]byte("hello, repository"))); err != nil {
		fmt.Println("save:", err)
		return
	}
	data, err := backend.LoadAll(ctx, be, h)
	if err != nil {
		fmt.Println("load:", err)
		return
	}
	fmt.Printf("%s\n", data)

	// Ten bytes from offset 7.
	err = be.Load(ctx, h, 10, 7, func(rd io.Reader) error {
		part, err := io.ReadAll(rd)
		fmt.Printf("%s\n", part)
		return err
	})
	if err != nil {
		fmt.Println("load:", err)
	}
	// Output:
	// hello, repository
	// repository
}
