package hugemem

import (
	"runtime"
	"testing"
)

func TestAllocFree(t *testing.T) {
	b := Alloc(4 << 20)
	if len(b) != 4<<20 || cap(b) != 4<<20 {
		t.Fatalf("len %d cap %d, want 4 MiB", len(b), cap(b))
	}
	for i := 0; i < len(b); i += 4096 {
		if b[i] != 0 {
			t.Fatalf("byte %d is %d, want zero", i, b[i])
		}
		b[i] = byte(i)
	}
	Free(b[:0]) // a reslice from the start frees the whole buffer
	if Alloc(0) != nil {
		t.Error("Alloc(0) is not nil")
	}
}

// Free must leave memory it did not map alone, heap buffers included.
func TestFreeIgnoresHeapBuffers(t *testing.T) {
	h := make([]byte, 1<<20)
	h[0] = 7
	Free(h)
	Free(nil)
	runtime.GC()
	if h[0] != 7 {
		t.Fatal("heap buffer changed")
	}
}
