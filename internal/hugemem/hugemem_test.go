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

// Buffers from 1 MiB on are mapped in whole huge pages: the capacity is
// rounded up, the length is what was asked for, and Free unmaps it all.
func TestCapRoundsToHugePages(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{4096, 4096},
		{1<<20 - 1, 1<<20 - 1},
		{1 << 20, HugePageSize},
		{3 << 20, 4 << 20},
		{16 << 20, 16 << 20},
		{8<<20 + 4096, 10 << 20},
	} {
		want := tc.want
		if !roundsToHugePages {
			want = tc.n
		}
		if got := Cap(tc.n); got != want {
			t.Errorf("Cap(%d) = %d, want %d", tc.n, got, want)
		}
		b := Alloc(tc.n)
		if len(b) != tc.n || cap(b) != want {
			t.Errorf("Alloc(%d): len %d cap %d, want cap %d", tc.n, len(b), cap(b), want)
		}
		b[len(b)-1] = 1
		Free(b[:0])
	}
}
