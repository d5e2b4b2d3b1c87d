package poly1305x4

// MAC computes a Poly1305 tag over data written in pieces, as x/crypto's
// poly1305.MAC does. Long pieces go through the vector kernel; a piece
// ending inside a 16-byte block leaves it buffered for the next.
type MAC struct {
	s    state
	buf  [16]byte
	nbuf int
}

// New returns a MAC for the one-time key.
func New(key *[32]byte) *MAC {
	return &MAC{s: newState(key)}
}

// Write adds p to the message. It never fails.
func (m *MAC) Write(p []byte) (int, error) {
	n := len(p)
	if m.nbuf > 0 {
		c := copy(m.buf[m.nbuf:], p)
		m.nbuf += c
		p = p[c:]
		if m.nbuf < len(m.buf) {
			return n, nil
		}
		m.s.blocks(m.buf[:])
		m.nbuf = 0
	}
	if k := best; k.kind != noKernel && len(p) >= vectorMin {
		v := len(p) / k.group() * k.group()
		m.s.vector(p[:v], k)
		p = p[v:]
	}
	full := len(p) / 16 * 16
	m.s.blocks(p[:full])
	m.nbuf = copy(m.buf[:], p[full:])
	return n, nil
}

// Sum writes the tag of everything written into out.
func (m *MAC) Sum(out *[16]byte) {
	s := m.s // Sum does not change the MAC, as with hash.Hash
	if m.nbuf > 0 {
		s.last(m.buf[:m.nbuf])
	}
	s.sum(out)
}
