package repo

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo/internal/pack"
)

// packer collects encrypted blobs of one type until the pack is full.
type packer struct {
	buf   []byte
	blobs []pack.Blob
	hdr   int // plaintext header bytes so far
}

func (p *packer) add(sealed []byte, id ID, tree bool, ulen uint32) {
	b := pack.Blob{Tree: tree, ID: id, Length: uint32(len(sealed)), UncompressedLength: ulen, Offset: uint32(len(p.buf))}
	p.buf = append(p.buf, sealed...)
	p.blobs = append(p.blobs, b)
	p.hdr += b.EntrySize()
}

// full reports whether the pack reached the target size or its header
// could not take another entry.
func (p *packer) full(target int) bool {
	return len(p.buf) >= target || pack.Overhead+p.hdr+pack.CompressedEntrySize > pack.MaxHeaderSize
}

// packerSet holds two open packers per blob type. Each blob goes to one
// chosen at random, so the order of blobs inside packs does not reveal
// the order of chunks in files (restic 0.18's chunking-attack mitigation).
type packerSet struct {
	open [2]*packer
}

// encodeBlob compresses (when the repository and mode say so) and seals a
// blob, returning the sealed bytes and the uncompressed length to record
// (0 when stored uncompressed).
func (r *Repository) encodeBlob(t BlobType, data []byte) ([]byte, uint32) {
	if r.cfg.Version >= 2 && len(data) > 0 {
		enc := r.encMeta
		if t == DataBlob {
			enc = r.enc
		}
		if t == TreeBlob || r.opts.Compression != CompressionOff {
			compressed := enc.EncodeAll(data, make([]byte, 0, len(data)/2+64))
			return r.key.Seal(make([]byte, 0, len(compressed)+crypto.Extension), compressed), uint32(len(data))
		}
	}
	return r.key.Seal(make([]byte, 0, len(data)+crypto.Extension), data), 0
}

// SaveBlob stores a blob unless the repository already has it, and returns
// its ID and whether it was already known. The blob may sit in an open
// pack until Flush.
func (r *Repository) SaveBlob(ctx context.Context, t BlobType, data []byte) (ID, bool, error) {
	id := Hash(data)
	known, _, err := r.SaveBlobID(ctx, t, id, data)
	return id, known, err
}

// SaveBlobID is SaveBlob for a caller that already hashed the data. It
// also returns the blob's stored size (0 when known).
func (r *Repository) SaveBlobID(ctx context.Context, t BlobType, id ID, data []byte) (known bool, stored int, err error) {
	if t != DataBlob && t != TreeBlob {
		return false, 0, fmt.Errorf("invalid blob type %v", t)
	}
	if uint64(len(data)) > 1<<32-1-1024 {
		return false, 0, fmt.Errorf("blob of %d bytes is too large", len(data))
	}
	h := BlobHandle{ID: id, Type: t}
	r.packerMu.Lock()
	_, inFlight := r.pending[h]
	if inFlight || r.idx.Has(h) {
		r.packerMu.Unlock()
		return true, 0, nil
	}
	r.pending[h] = struct{}{}
	r.packerMu.Unlock()

	sealed, ulen := r.encodeBlob(t, data)

	r.packerMu.Lock()
	var toUpload *packer
	if len(sealed) >= r.opts.PackSize {
		toUpload = &packer{} // a blob this large gets a pack of its own
		toUpload.add(sealed, id, t == TreeBlob, ulen)
	} else {
		set := r.packers[t]
		if set == nil {
			set = &packerSet{}
			r.packers[t] = set
		}
		slot := rand.IntN(len(set.open))
		p := set.open[slot]
		if p == nil {
			p = &packer{buf: make([]byte, 0, r.opts.PackSize+r.opts.PackSize/8)}
			set.open[slot] = p
		}
		p.add(sealed, id, t == TreeBlob, ulen)
		if p.full(r.opts.PackSize) {
			toUpload = p
			set.open[slot] = nil
		}
	}
	r.packerMu.Unlock()

	if toUpload != nil {
		if err := r.uploadPack(ctx, toUpload); err != nil {
			return false, 0, err
		}
	}
	return false, len(sealed), nil
}

// uploadPack finishes a pack (header, length), stores it, and records its
// blobs in the index.
func (r *Repository) uploadPack(ctx context.Context, p *packer) error {
	hdr := make([]byte, 0, p.hdr)
	for _, b := range p.blobs {
		hdr = pack.AppendEntry(hdr, b)
	}
	data := r.key.Seal(p.buf, hdr)
	data = binary.LittleEndian.AppendUint32(data, uint32(len(hdr)+crypto.Extension))
	packID := Hash(data)

	select {
	case r.uploadSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	err := r.be.Save(ctx, h, backend.NewByteReader(data))
	<-r.uploadSlots
	if err != nil {
		return fmt.Errorf("save pack %v: %w", h, err)
	}

	blobs := make([]PackedBlob, len(p.blobs))
	for i, b := range p.blobs {
		t := DataBlob
		if b.Tree {
			t = TreeBlob
		}
		blobs[i] = PackedBlob{BlobHandle: BlobHandle{ID: b.ID, Type: t}, PackID: packID,
			Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength}
	}
	r.idx.add(packID, blobs)
	r.packerMu.Lock()
	for _, b := range blobs {
		delete(r.pending, b.BlobHandle)
	}
	saveNow := r.unsaved.add(packID, blobs)
	r.packerMu.Unlock()
	if saveNow {
		return r.SaveIndex(ctx)
	}
	return nil
}

// Flush uploads every open pack and writes index files for all packs not
// yet indexed. After Flush, everything saved so far is durable and visible
// to other readers.
func (r *Repository) Flush(ctx context.Context) error {
	r.packerMu.Lock()
	var todo []*packer
	for _, set := range r.packers {
		a, b := set.open[0], set.open[1]
		set.open = [2]*packer{}
		// Merge two half-empty packers so flushing does not leave two
		// small packs where one would do.
		if a != nil && b != nil && len(a.buf)+len(b.buf) < r.opts.PackSize {
			for _, blob := range b.blobs {
				a.add(b.buf[blob.Offset:blob.Offset+blob.Length], blob.ID, blob.Tree, blob.UncompressedLength)
			}
			b = nil
		}
		for _, p := range []*packer{a, b} {
			if p != nil && len(p.blobs) > 0 {
				todo = append(todo, p)
			}
		}
	}
	r.packerMu.Unlock()
	for _, p := range todo {
		if err := r.uploadPack(ctx, p); err != nil {
			return err
		}
	}
	return r.SaveIndex(ctx)
}

// pendingIndex collects packs uploaded but not yet written to an index
// file.
type pendingIndex struct {
	packs []pendingPack
	blobs int
	since time.Time
}

type pendingPack struct {
	id    ID
	blobs []PackedBlob
}

// indexMaxBlobs and indexMaxAge decide when an index file is written
// during a long backup, as restic does; a crash then loses little.
const (
	indexMaxBlobs = 50000
	indexMaxAge   = 5 * time.Minute
)

// add records a pack and reports whether an index file is due.
func (p *pendingIndex) add(id ID, blobs []PackedBlob) bool {
	if len(p.packs) == 0 {
		p.since = time.Now()
	}
	p.packs = append(p.packs, pendingPack{id: id, blobs: blobs})
	p.blobs += len(blobs)
	return p.blobs >= indexMaxBlobs || time.Since(p.since) >= indexMaxAge
}

func (p *pendingIndex) take() []pendingPack {
	out := p.packs
	*p = pendingIndex{}
	return out
}
