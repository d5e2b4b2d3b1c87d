package uring_test

import (
	"os"
	"path/filepath"
	"testing"
)

// The cost of a write through the ring against a plain pwrite of the
// same bytes into the page cache, by a goroutine that waits for it. The
// ring's point is not this number but that waiting holds no P; this
// shows what that costs per write. On the benchmark VM: pwrite 16 us,
// ring 77 us per 256 KiB (the kernel hands buffered writes to a worker
// thread, and the completion wakes two goroutines). So only writes that
// wait for the disk go through it: O_DIRECT pack blocks of 1-2 MiB,
// which take milliseconds, and fsyncs.
func BenchmarkWriteAt(b *testing.B) {
	const size = 256 << 10
	data := make([]byte, size)
	open := func(b *testing.B) *os.File {
		f, err := os.Create(filepath.Join(b.TempDir(), "f"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	b.Run("pwrite", func(b *testing.B) {
		f := open(b)
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			if _, err := f.WriteAt(data, int64(i%64)*size); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ring", func(b *testing.B) {
		r := openRing(b, 8)
		defer r.Close()
		f := open(b)
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			if _, err := r.WriteAt(int(f.Fd()), data, int64(i%64)*size); err != nil {
				b.Fatal(err)
			}
		}
	})
}
