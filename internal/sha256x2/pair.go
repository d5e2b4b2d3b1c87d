package sha256x2

import (
	"crypto/sha256"
	"encoding/binary"
)

// Pair hashes two lanes of messages, one message per lane at a time, so
// that a caller with a stream of messages of different lengths (the
// blobs of a pack, the chunks of a file) keeps both lanes busy: when one
// lane's message is done, the caller starts the next one in that lane
// while the other lane's longer message is still being hashed.
//
// The zero Pair is ready to use. A message must not change while its
// lane hashes it.
type Pair struct {
	lanes [2]lane
}

type lane struct {
	busy  bool
	done  bool // hashed, sum not yet returned by Next
	s     state
	msg   []byte // what is left of the message to hash
	total int    // the message's length
	sum   [Size]byte
}

// Start begins hashing msg in lane i (0 or 1), which must not be busy.
func (p *Pair) Start(i int, msg []byte) {
	if p.lanes[i].busy {
		panic("sha256x2: Start on a busy lane")
	}
	p.lanes[i] = lane{busy: true, s: initial, msg: msg, total: len(msg)}
}

// Busy reports whether lane i has a message whose digest Next has not
// returned yet.
func (p *Pair) Busy(i int) bool { return p.lanes[i].busy }

// Next hashes until a lane's message is done and returns that lane and
// the message's digest; the lane is then free for the next message. When
// both lanes finish at once, lane 0 is returned first and lane 1 by the
// next call. Next panics when no lane is busy.
func (p *Pair) Next() (int, [Size]byte) {
	a, b := &p.lanes[0], &p.lanes[1]
	if !a.busy && !b.busy {
		panic("sha256x2: Next with no message")
	}
	if !a.done && !b.done {
		p.hash()
	}
	for i := range p.lanes {
		if l := &p.lanes[i]; l.done {
			l.busy, l.done, l.msg = false, false, nil
			return i, l.sum
		}
	}
	panic("sha256x2: no lane finished") // hash always finishes one
}

// hash runs the busy lanes until at least one is done: both together for
// as many blocks as both have, then a lone lane to its end; the padded
// last blocks of lanes that end together are hashed together too.
func (p *Pair) hash() {
	a, b := &p.lanes[0], &p.lanes[1]
	if !useSHA {
		for _, l := range []*lane{a, b} {
			if l.busy {
				l.sum, l.done = sha256.Sum256(l.msg), true
				return
			}
		}
	}
	if a.busy && b.busy {
		if n := min(len(a.msg), len(b.msg)) / BlockSize; n > 0 {
			blocks2(&a.s, &b.s, &a.msg[0], &b.msg[0], n)
			a.msg, b.msg = a.msg[n*BlockSize:], b.msg[n*BlockSize:]
		}
	} else {
		l := a
		if !a.busy {
			l = b
		}
		if n := len(l.msg) / BlockSize; n > 0 {
			blocks1(&l.s, &l.msg[0], n)
			l.msg = l.msg[n*BlockSize:]
		}
	}
	// Every busy lane with less than a block left ends now.
	var ending []*lane
	var bufs [2][2 * BlockSize]byte
	var last [2][]byte
	for i := range p.lanes {
		if l := &p.lanes[i]; l.busy && len(l.msg) < BlockSize {
			last[len(ending)] = pad(l.msg, l.total, &bufs[len(ending)])
			ending = append(ending, l)
		}
	}
	if len(ending) == 2 && len(last[0]) == len(last[1]) {
		blocks2(&ending[0].s, &ending[1].s, &last[0][0], &last[1][0], len(last[0])/BlockSize)
	} else {
		for i, l := range ending {
			blocks1(&l.s, &last[i][0], len(last[i])/BlockSize)
		}
	}
	for _, l := range ending {
		l.sum, l.done = l.s.digest(), true
	}
}

// pad returns the last block or two of a message of total bytes, whose
// unhashed end is rest (shorter than a block), padded in buf.
func pad(rest []byte, total int, buf *[2 * BlockSize]byte) []byte {
	copy(buf[:], rest)
	buf[len(rest)] = 0x80
	size := BlockSize
	if len(rest) >= BlockSize-8 {
		size = 2 * BlockSize
	}
	binary.BigEndian.PutUint64(buf[size-8:], uint64(total)<<3)
	return buf[:size]
}
