package mem_test

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
)

// A mem backend behaves like a real one: files can be listed, and a
// removed file is reported as missing.
func Example() {
	ctx := context.Background()
	be := mem.New()
	for _, name := range []string{"bb", "aa"} {
		h := backend.Handle{Type: backend.IndexFile, Name: name}
		if err := be.Save(ctx, h, backend.NewByteReader([]byte("index "+name))); err != nil {
			fmt.Println(err)
			return
		}
	}

	var names []string
	_ = be.List(ctx, backend.IndexFile, func(fi backend.FileInfo) error {
		names = append(names, fmt.Sprintf("%s (%d bytes)", fi.Name, fi.Size))
		return nil
	})
	sort.Strings(names) // List has no order
	fmt.Println(names)

	h := backend.Handle{Type: backend.IndexFile, Name: "aa"}
	_ = be.Remove(ctx, h)
	_, err := be.Stat(ctx, h)
	fmt.Println(errors.Is(err, backend.ErrNotExist))
	// Output:
	// [aa (8 bytes) bb (8 bytes)]
	// true
}
