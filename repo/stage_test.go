package repo

import "testing"

// TestStagePoolPicksSmallestFit checks that a small request reuses a
// small idle buffer rather than a large one, so large blobs do not make
// every stage large.
func TestStagePoolPicksSmallestFit(t *testing.T) {
	s := newStagePool(4)
	defer s.drain()
	big := s.get(9 << 20)
	small := s.get(1 << 20)
	if cap(big) != 10<<20 || cap(small) != stageRound {
		t.Fatalf("caps %d and %d, want whole huge pages 10 MiB and 2 MiB", cap(big), cap(small))
	}
	s.put(big)
	s.put(small)
	got := s.get(100)
	if cap(got) != stageRound {
		t.Fatalf("a 100-byte request took a buffer of %d bytes; the 2 MiB one fits", cap(got))
	}
	again := s.get(3 << 20)
	if cap(again) != 10<<20 {
		t.Fatalf("a 3 MiB request took %d bytes; only the idle 10 MiB buffer fits", cap(again))
	}
	if len(s.idle) != 0 || s.idleBytes != 0 {
		t.Fatalf("idle after taking both: %d buffers, %d bytes", len(s.idle), s.idleBytes)
	}
	s.put(got)
	s.put(again)
}

// TestStagePoolBoundsIdle checks both bounds on idle buffers: their number
// and their bytes, freeing the largest first.
func TestStagePoolBoundsIdle(t *testing.T) {
	s := newStagePool(3)
	defer s.drain()
	var bufs [][]byte
	for range 5 {
		bufs = append(bufs, s.get(1))
	}
	for _, b := range bufs {
		s.put(b)
	}
	if len(s.idle) != 3 || s.idleBytes != 3*stageRound {
		t.Fatalf("idle: %d buffers, %d bytes; want 3 of 2 MiB", len(s.idle), s.idleBytes)
	}

	small := s.get(1)
	large := s.get(maxIdleBytes - stageRound) // with the idle ones, over the byte bound
	s.put(small)
	s.put(large)
	if s.idleBytes > maxIdleBytes {
		t.Fatalf("%d idle bytes, bound %d", s.idleBytes, maxIdleBytes)
	}
	for _, b := range s.idle {
		if cap(b) != stageRound {
			t.Fatalf("kept a %d-byte buffer; the largest should go first", cap(b))
		}
	}
	if len(s.idle) != 3 {
		t.Fatalf("%d idle buffers, want the 3 small ones", len(s.idle))
	}
}
