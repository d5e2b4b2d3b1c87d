package uring_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
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
	benchWrites(b, make([]byte, 256<<10), 0)
}

// The same for 2 MiB O_DIRECT writes, which wait for the disk: here the
// ring costs nothing (benchmark VM: pwrite 1.50 ms, ring 1.43 ms each).
func BenchmarkDirectWriteAt(b *testing.B) {
	const size = 2 << 20
	raw := make([]byte, size+4096)
	skip := (4096 - int(uintptr(unsafe.Pointer(&raw[0]))%4096)) % 4096
	benchWrites(b, raw[skip:skip+size], syscall.O_DIRECT)
}

// benchWrites writes data over and over into the first 32 slots of its
// size in a new file opened with flag, by pwrite and through a ring.
func benchWrites(b *testing.B, data []byte, flag int) {
	open := func(b *testing.B) *os.File {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "f"), os.O_CREATE|os.O_RDWR|flag, 0o600)
		if err != nil {
			b.Skipf("cannot open a file with flags %#x here: %v", flag, err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	loop := func(b *testing.B, write func(off int64) (int, error)) {
		b.SetBytes(int64(len(data)))
		for i := 0; b.Loop(); i++ {
			if _, err := write(int64(i%32) * int64(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("pwrite", func(b *testing.B) {
		f := open(b)
		loop(b, func(off int64) (int, error) { return f.WriteAt(data, off) })
	})
	b.Run("ring", func(b *testing.B) {
		r := openRing(b, 8)
		defer r.Close()
		fd := int(open(b).Fd())
		loop(b, func(off int64) (int, error) { return r.WriteAt(fd, data, off) })
	})
}
