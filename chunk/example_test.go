package chunk_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/hbackup/hbackup/chunk"
)

// Split data into content-defined chunks with a repository's polynomial.
func Example() {
	pol := chunk.Polynomial(0x239fbb629babf1)
	data := bytes.Repeat([]byte{0}, 1200<<10) // zeros always match: cut at MinSize
	c := chunk.New(bytes.NewReader(data), pol)
	buf := make([]byte, chunk.MaxSize)
	for {
		b, err := c.Next(buf)
		if err == io.EOF {
			break
		}
		fmt.Println(len(b))
	}
	// Output:
	// 524288
	// 524288
	// 180224
}
