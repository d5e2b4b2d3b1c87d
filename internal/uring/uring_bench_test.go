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

// The same for 2 MiB O_DIRECT writes, which wait for the disk: here the
// ring costs nothing (benchmark VM: pwrite 1.50 ms, ring 1.43 ms each).
func BenchmarkDirectWriteAt(b *testing.B) {
	const size = 2 << 20
	raw := make([]byte, size+4096)
	skip := (4096 - int(uintptr(unsafe.Pointer(&raw[0]))%4096)) % 4096
	data := raw[skip : skip+size]
	open := func(b *testing.B) *os.File {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "f"), os.O_CREATE|os.O_RDWR|syscall.O_DIRECT, 0o600)
		if err != nil {
			b.Skipf("no O_DIRECT here: %v", err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	b.Run("pwrite", func(b *testing.B) {
		f := open(b)
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			if _, err := f.WriteAt(data, int64(i%32)*size); err != nil {
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
			if _, err := r.WriteAt(int(f.Fd()), data, int64(i%32)*size); err != nil {
				b.Fatal(err)
			}
		}
	})
}
