package uring_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hbackup/hbackup/internal/uring"
)

// Write a file and sync it through a ring, falling back to the plain
// calls where the kernel offers none.
func Example() {
	f, err := os.Create(filepath.Join(os.TempDir(), "uring-example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()

	data := []byte("written without holding a P\n")
	r, err := uring.Open(8)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		_, err = f.WriteAt(data, 0)
		if err == nil {
			err = f.Sync()
		}
	case err == nil:
		defer r.Close()
		_, err = r.WriteAt(int(f.Fd()), data, 0)
		if err == nil {
			err = r.Fsync(int(f.Fd()))
		}
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	back, _ := os.ReadFile(f.Name())
	fmt.Print(string(back))
	// Output: written without holding a P
}
