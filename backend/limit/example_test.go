package limit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/limit"
	"github.com/hbackup/hbackup/backend/mem"
)

// Limit a backend to 2 requests at once and uploads to 256 KiB/s, as
// `-o rest.connections=2 --limit-upload 256` does.
func Example() {
	be := limit.New(mem.New(), limit.Options{Connections: 2, UploadKiB: 256})
	fmt.Println("connections:", be.Properties().Connections)

	ctx := context.Background()
	start := time.Now()
	data := make([]byte, 128<<10) // 128 KiB: about half a second
	h := backend.Handle{Type: backend.PackFile, Name: "cafe"}
	if err := be.Save(ctx, h, backend.NewByteReader(data)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("throttled:", time.Since(start) >= 300*time.Millisecond)
	// Output:
	// connections: 2
	// throttled: true
}
