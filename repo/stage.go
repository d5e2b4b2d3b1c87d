package repo

import (
	"sync"

	"github.com/hbackup/hbackup/internal/hugemem"
)

// stagePool holds the buffers blobs are encrypted into before they are
// written into a pack built in place, and that packs are read back into
// for hashing. They outlive any one blob: fresh memory costs a page
// fault per 4 KiB (on the benchmark VM ~3 ms per MiB), and buffers that
// grew with each larger blob, kept in a sync.Pool that garbage
// collections empty, tripled a first backup's page faults. So buffers
// come from hugemem in whole huge pages, and some idle ones are kept
// until Close: at most max of them and maxIdleBytes in all. A request
// takes the smallest idle buffer that fits, so the few large blobs (up
// to the chunker's 8 MiB) do not make every idle buffer large: keeping
// the largest, a copy of 20 snapshots held 26 MB of idle stages.
type stagePool struct {
	mu        sync.Mutex
	idle      [][]byte
	idleBytes int
	max       int
}

const (
	stageRound   = 2 << 20 // one huge page
	maxIdleBytes = 16 << 20
)

func newStagePool(n int) *stagePool { return &stagePool{max: n} }

// get returns a buffer of length n.
func (s *stagePool) get(n int) []byte {
	s.mu.Lock()
	best := -1
	for i, b := range s.idle {
		if cap(b) >= n && (best < 0 || cap(b) < cap(s.idle[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := s.idle[best]
		s.idle = append(s.idle[:best], s.idle[best+1:]...)
		s.idleBytes -= cap(b)
		s.mu.Unlock()
		return b[:n]
	}
	s.mu.Unlock()
	return hugemem.Alloc((n + stageRound - 1) / stageRound * stageRound)[:n]
}

// put gives a buffer from get back. When more would be idle than the
// bounds allow, the largest idle buffers are freed.
func (s *stagePool) put(b []byte) {
	var drop [][]byte
	s.mu.Lock()
	s.idle = append(s.idle, b[:0])
	s.idleBytes += cap(b)
	for len(s.idle) > s.max || s.idleBytes > maxIdleBytes {
		largest := 0
		for i, c := range s.idle {
			if cap(c) > cap(s.idle[largest]) {
				largest = i
			}
		}
		drop = append(drop, s.idle[largest])
		s.idleBytes -= cap(s.idle[largest])
		s.idle = append(s.idle[:largest], s.idle[largest+1:]...)
	}
	s.mu.Unlock()
	for _, d := range drop {
		hugemem.Free(d)
	}
}

// drain frees the idle buffers.
func (s *stagePool) drain() {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.idleBytes = nil, 0
	s.mu.Unlock()
	for _, b := range idle {
		hugemem.Free(b)
	}
}
