package chunk_test

import (
	"bytes"
	"testing"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/restic/chunker"
)

// BenchmarkChunkers splits the same 64 MiB of random data with this
// package and with github.com/restic/chunker, so one run shows the ratio.
func BenchmarkChunkers(b *testing.B) {
	data := testutil.RandomBytes(1, 64<<20)
	buf := make([]byte, chunk.MaxSize)
	rd := bytes.NewReader(nil)
	b.Run("hbackup", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		c := chunk.New(rd, fixturePol)
		for b.Loop() {
			rd.Reset(data)
			c.Reset(rd, fixturePol)
			for {
				if _, err := c.Next(buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("restic", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		c := chunker.New(rd, chunker.Pol(fixturePol))
		for b.Loop() {
			rd.Reset(data)
			c.Reset(rd, chunker.Pol(fixturePol))
			for {
				if _, err := c.Next(buf); err != nil {
					break
				}
			}
		}
	})
}
