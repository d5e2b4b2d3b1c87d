package repo

import "github.com/hbackup/hbackup/internal/hugemem"

// stagePool holds the buffers blobs are encrypted into before they are
// written into a pack built in place, and that packs are read back into
// for hashing. They outlive any one blob: fresh memory costs a page
// fault per 4 KiB (on the benchmark VM ~3 ms per MiB), and buffers that
// grew with each larger blob, kept in a sync.Pool that garbage
// collections empty, tripled a first backup's page faults. So buffers
// come from hugemem in whole huge pages, and at most cap(free) idle ones
// are kept until Close.
type stagePool struct {
	free chan []byte
}

const stageRound = 2 << 20 // one huge page

func newStagePool(n int) *stagePool { return &stagePool{free: make(chan []byte, n)} }

// get returns a buffer of length n.
func (s *stagePool) get(n int) []byte {
	var b []byte
	select {
	case b = <-s.free:
	default:
	}
	if cap(b) < n {
		hugemem.Free(b)
		b = hugemem.Alloc((n + stageRound - 1) / stageRound * stageRound)
	}
	return b[:n]
}

// put gives a buffer from get back.
func (s *stagePool) put(b []byte) {
	select {
	case s.free <- b[:0]:
	default:
		hugemem.Free(b)
	}
}

// drain frees the idle buffers.
func (s *stagePool) drain() {
	for {
		select {
		case b := <-s.free:
			hugemem.Free(b)
		default:
			return
		}
	}
}
