package checker

import (
	"io"

	"github.com/hbackup/hbackup/internal/hugemem"
	"github.com/hbackup/hbackup/internal/sha256x2"
)

const (
	// streamRound is the unit stream buffers grow in: one huge page, so
	// that fresh memory costs one page fault per 2 MiB, not per 4 KiB.
	streamRound = 2 << 20
	// streamMinBuffer is a stream buffer's smallest size: room for
	// several typical blobs, so that leftovers are rarely moved.
	streamMinBuffer = 4 << 20
	// streamReadSize bounds one read.
	streamReadSize = 512 << 10
)

// packStream reads a pack from its first byte to its last through one
// buffer that it keeps across packs, hashes every byte of it, and hands
// out ranges of the pack as slices of that buffer, so that a blob is
// decoded where it was read.
//
// The bytes it hands out are hashed last: the caller may hash them
// together with a message of its own (hashTaken), since hashing two
// messages at once costs little more than one (see package sha256x2);
// check hashes each blob's sealed bytes beside its plaintext.
type packStream struct {
	rd      io.Reader
	digest  sha256x2.Digest // of the pack's bytes before pending
	pending []byte          // taken, not yet hashed
	buf     []byte          // from hugemem; buf[head:tail] is read but not yet taken
	head    int
	tail    int
}

// reset starts a new pack read from rd with a buffer of at least size
// bytes.
func (s *packStream) reset(rd io.Reader, size int) {
	s.rd, s.digest, s.pending = rd, sha256x2.Digest{}, nil
	s.head, s.tail = 0, 0
	if len(s.buf) < size {
		s.makeRoom(size)
	}
}

// take returns the next n bytes of the pack, not hashed yet: the caller
// hashes them with hashTaken before the next call, or the next call
// hashes them alone. They must not change until then, and stay valid
// until the next call.
func (s *packStream) take(n int) ([]byte, error) {
	s.hashPending()
	if err := s.fill(n); err != nil {
		return nil, err
	}
	b := s.buf[s.head : s.head+n]
	s.head += n
	s.pending = b
	return b, nil
}

// hashTaken hashes the bytes take returned last into the pack's digest
// and, in the same pass, p into d.
func (s *packStream) hashTaken(d *sha256x2.Digest, p []byte) {
	sha256x2.Write2(&s.digest, s.pending, d, p)
	s.pending = nil
}

func (s *packStream) hashPending() {
	if s.pending != nil {
		s.digest.Write(s.pending)
		s.pending = nil
	}
}

// skip passes over the next n bytes of the pack, hashing them.
func (s *packStream) skip(n int64) error {
	s.hashPending()
	for n > 0 {
		if s.head == s.tail {
			if err := s.fill(int(min(n, streamReadSize))); err != nil {
				return err
			}
		}
		step := int(min(n, int64(s.tail-s.head)))
		s.digest.Write(s.buf[s.head : s.head+step])
		s.head += step
		n -= int64(step)
	}
	return nil
}

// drain reads and hashes the rest of the pack.
func (s *packStream) drain() error {
	s.hashPending()
	s.digest.Write(s.buf[s.head:s.tail])
	for {
		s.head, s.tail = 0, 0
		if len(s.buf) == 0 {
			s.makeRoom(streamReadSize)
		}
		err := s.read()
		s.digest.Write(s.buf[:s.tail])
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// sum returns the SHA-256 of the pack's bytes read so far.
func (s *packStream) sum() [sha256x2.Size]byte {
	s.hashPending()
	return s.digest.Sum()
}

// fill makes sure at least n bytes are read but not taken. A pack that
// ends before is io.ErrUnexpectedEOF.
func (s *packStream) fill(n int) error {
	if s.head == s.tail {
		s.head, s.tail = 0, 0
	}
	if len(s.buf)-s.head < n {
		s.makeRoom(n)
	}
	for s.tail-s.head < n {
		if err := s.read(); err == io.EOF {
			if s.tail-s.head < n {
				return io.ErrUnexpectedEOF
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// read reads once into the free part of the buffer, which must have
// room. It returns io.EOF at the end of the pack.
func (s *packStream) read() error {
	end := min(len(s.buf), s.tail+streamReadSize)
	n, err := s.rd.Read(s.buf[s.tail:end])
	s.tail += n
	return err
}

// makeRoom moves the bytes read but not taken to the front of the
// buffer, first growing it if it cannot hold n bytes.
func (s *packStream) makeRoom(n int) {
	left := s.buf[s.head:s.tail]
	if len(s.buf) < n {
		grown := hugemem.Alloc(roundBuffer(max(n, streamMinBuffer)))
		copy(grown, left)
		hugemem.Free(s.buf)
		s.buf = grown
	} else {
		copy(s.buf, left)
	}
	s.head, s.tail = 0, len(left)
}

// free gives the buffer back; the stream can be used again afterwards.
func (s *packStream) free() {
	hugemem.Free(s.buf)
	*s = packStream{}
}
