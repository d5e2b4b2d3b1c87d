package hugemem_test

import (
	"fmt"

	"github.com/hbackup/hbackup/internal/hugemem"
)

func Example() {
	buf := hugemem.Alloc(16 << 20) // a pack buffer, reused for the process's life
	defer hugemem.Free(buf)
	n := copy(buf, "pack data")
	fmt.Println(n, len(buf))
	// Output: 9 16777216
}
