package repo

import (
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo/internal/pack"
)

// packer collects encrypted blobs of one type until the pack is full.
// Blobs are stored by their savers: a saver reserves a region under the
// repository's packer lock, writes it without the lock, and the pack is
// uploaded once it is closed and no writer is left.
//
// A pack lives either in memory (buf) or, for data packs on a backend
// that builds files in place (backend.FileBuilder), in a file of the
// backend (file), so the pack's bytes need not be held in memory.
type packer struct {
	tree    bool
	buf     []byte              // a pack in memory: the blobs so far, len(buf) == length
	file    backend.PendingFile // or a data pack built in place
	length  int                 // bytes of blobs reserved so far
	room    int                 // bytes the pack may take without moving: cap(buf), or the pack size for a file
	blobs   []pack.Blob
	hdr     int   // plaintext header bytes so far
	writers int   // reserved regions still being written
	closed  bool  // no more reservations; upload when writers reach 0
	err     error // a failed write; the upload fails with it

	// writeMu makes writes into file take turns: buffered writes to one
	// file serialise on the kernel's inode lock anyway, where a waiting
	// writer may spin; here it sleeps.
	writeMu sync.Mutex

	// For a pack built in place: which blobs are in the file, so that
	// its hash can start before it is closed (packhash.go). Under the
	// packer lock.
	stored     []bool // per blob
	storedNext int    // the first blob not stored
	storedEnd  int    // bytes 0 to storedEnd of the file are all stored

	prefix packPrefix // the pack's hash so far

	// blocks, for a pack built in place with direct writes, holds its
	// bytes until they are written and hashed (packblocks.go).
	blocks *packBlocks
}

func newMemoryPacker(tree bool, buf []byte) *packer {
	return &packer{tree: tree, buf: buf[:0], room: cap(buf)}
}

func newFilePacker(f backend.PendingFile, packSize int) *packer {
	return &packer{file: f, room: packSize}
}

// headerSize is the size the pack's header and trailer will take with
// one more entry.
func (p *packer) headerSize() int { return pack.Overhead + p.hdr + pack.CompressedEntrySize }

// fits reports whether n more bytes and their header entry fit without
// moving the buffer (which writers in flight forbid).
func (p *packer) fits(n int) bool { return p.length+n+p.headerSize() <= p.room }

// reserve appends a blob entry and returns where to store the blob: its
// offset, and for a memory pack the region of buf (taken here, under the
// packer lock, since buf's slice header changes with every reservation).
func (p *packer) reserve(id ID, sealedLen int, ulen uint32) blobSlot {
	off := p.length
	b := pack.Blob{Tree: p.tree, ID: id, Length: uint32(sealedLen), UncompressedLength: ulen, Offset: uint32(off)}
	p.length += sealedLen
	var region []byte
	if p.file == nil {
		p.buf = p.buf[:p.length]
		region = p.buf[off:p.length:p.length]
	}
	p.blobs = append(p.blobs, b)
	if p.file != nil {
		p.stored = append(p.stored, false)
	}
	p.hdr += b.EntrySize()
	p.writers++
	return blobSlot{index: len(p.blobs) - 1, off: off, region: region}
}

// blobSlot is where a reserved blob goes.
type blobSlot struct {
	index  int // in blobs
	off    int
	region []byte // a memory pack's bytes for the blob
}

// writeFailure returns the first failed write of p's pack, or nil.
func (p *packer) writeFailure() error {
	if p.err != nil {
		return p.err
	}
	return p.blocks.failure()
}

// done ends a writer's turn on a slot; the caller holds the packer lock.
// A failed store is recorded in p.err, which fails the pack's upload.
func (p *packer) done(s blobSlot, err error) {
	p.writers--
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return
	}
	if p.file == nil {
		return
	}
	p.stored[s.index] = true
	for p.storedNext < len(p.blobs) && p.stored[p.storedNext] {
		b := p.blobs[p.storedNext]
		p.storedEnd = int(b.Offset + b.Length)
		p.storedNext++
	}
}

// store writes a blob's stored bytes into its slot. It runs without the
// packer lock, concurrently with other stores.
func (p *packer) store(s blobSlot, blob storedBlob) error {
	if p.file == nil {
		blob.into(s.region)
		return nil
	}
	if p.blocks != nil {
		if blob.key == nil {
			p.blocks.put(blob.sealed, s.off)
			return nil
		}
		// Encrypted straight into the pack's memory blocks.
		r := p.blocks.region(s.off, blob.length())
		blob.key.SealInto(r.pieces, blob.plain)
		p.blocks.stored(r)
		return nil
	}
	data := blob.sealed
	switch {
	case blob.staged != nil:
		data = blob.key.SealInPlace(blob.staged)
	case blob.key != nil:
		buf := blob.stages.get(blob.length())
		defer blob.stages.put(buf)
		data = blob.key.Seal(buf[:0], blob.plain)
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	_, err := p.file.WriteAt(data, int64(s.off))
	return err
}

// grow gives a memory pack room for n more bytes; only when no writer is
// active, since it moves the buffer.
func (p *packer) grow(n, limit int) {
	want := max(2*cap(p.buf), p.length+n+p.headerSize())
	want = min(want, max(limit, p.length+n+p.headerSize()))
	nb := make([]byte, p.length, want)
	copy(nb, p.buf)
	p.buf, p.room = nb, want
}

// full reports whether the pack reached the target size or its header
// could not take another entry.
func (p *packer) full(target int) bool {
	return p.length >= target || p.headerSize() > pack.MaxHeaderSize
}

// storedBlob produces the bytes a pack stores for one blob: bytes that
// are stored as they are, or plaintext to encrypt.
type storedBlob struct {
	sealed []byte // stored bytes (prune and copy move blobs unchanged)

	plain  []byte      // or plaintext to encrypt with key
	key    *crypto.Key // nil with sealed
	stages *stagePool  // where to encrypt to for a pack built in place
	// staged, when set, is room for the IV followed by plain in a stage
	// buffer with room for the MAC: a pack built in place encrypts it
	// there (crypto.SealInPlace) instead of copying it.
	staged []byte
}

func (s storedBlob) length() int {
	if s.key == nil {
		return len(s.sealed)
	}
	return len(s.plain) + crypto.Extension
}

// into writes the stored bytes into region, which has their length.
func (s storedBlob) into(region []byte) {
	if s.key == nil {
		copy(region, s.sealed)
		return
	}
	s.key.Seal(region[:0], s.plain)
}

// packerSet holds two open packers per blob type. Each blob goes to one
// chosen at random, so the order of blobs inside packs does not reveal
// the order of chunks in files (restic 0.18's chunking-attack mitigation).
type packerSet struct {
	open [2]*packer
}

// withRoom returns the index of an open packer with room for n more bytes,
// or -1.
func (s *packerSet) withRoom(n int) int {
	for i, p := range s.open {
		if p != nil && p.fits(n) {
			return i
		}
	}
	return -1
}
