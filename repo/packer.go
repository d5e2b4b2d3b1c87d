package repo

import (
	"github.com/hbackup/hbackup/repo/internal/pack"
)

// packer collects encrypted blobs of one type until the pack is full.
// Blobs are sealed straight into buf by their savers: a saver reserves a
// region under the repository's packer lock, writes it without the lock,
// and the pack is uploaded once it is closed and no writer is left.
type packer struct {
	tree    bool
	buf     []byte
	blobs   []pack.Blob
	hdr     int  // plaintext header bytes so far
	writers int  // reserved regions still being written
	closed  bool // no more reservations; upload when writers reach 0
}

// headerSize is the size the pack's header and trailer will take with
// one more entry.
func (p *packer) headerSize() int { return pack.Overhead + p.hdr + pack.CompressedEntrySize }

// fits reports whether n more bytes and their header entry fit the buffer
// without reallocating it (which writers in flight forbid).
func (p *packer) fits(n int) bool { return len(p.buf)+n+p.headerSize() <= cap(p.buf) }

// reserve appends a blob entry and returns the region of buf to seal it
// into. The caller holds the packer lock.
func (p *packer) reserve(id ID, sealedLen int, ulen uint32) []byte {
	off := len(p.buf)
	b := pack.Blob{Tree: p.tree, ID: id, Length: uint32(sealedLen), UncompressedLength: ulen, Offset: uint32(off)}
	p.buf = p.buf[:off+sealedLen]
	p.blobs = append(p.blobs, b)
	p.hdr += b.EntrySize()
	p.writers++
	return p.buf[off : off+sealedLen : off+sealedLen]
}

// grow gives the buffer room for n more bytes; only when no writer is
// active, since it moves the buffer.
func (p *packer) grow(n, limit int) {
	want := max(2*cap(p.buf), len(p.buf)+n+p.headerSize())
	want = min(want, max(limit, len(p.buf)+n+p.headerSize()))
	nb := make([]byte, len(p.buf), want)
	copy(nb, p.buf)
	p.buf = nb
}

// full reports whether the pack reached the target size or its header
// could not take another entry.
func (p *packer) full(target int) bool {
	return len(p.buf) >= target || p.headerSize() > pack.MaxHeaderSize
}

// packerSet holds two open packers per blob type. Each blob goes to one
// chosen at random, so the order of blobs inside packs does not reveal
// the order of chunks in files (restic 0.18's chunking-attack mitigation).
type packerSet struct {
	open [2]*packer
}
