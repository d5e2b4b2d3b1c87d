package repo

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo/internal/pack"
)

// SaveBlob stores a blob unless the repository already has it, and returns
// its ID and whether it was already known. The blob may sit in an open
// pack until Flush. See SaveBlobID for the lifetime of ctx.
func (r *Repository) SaveBlob(ctx context.Context, t BlobType, data []byte) (ID, bool, error) {
	id := Hash(data)
	known, _, err := r.SaveBlobID(ctx, t, id, data)
	return id, known, err
}

// SaveBlobID is SaveBlob for a caller that already hashed the data. It
// also returns the blob's stored size (0 when known).
//
// When the blob completes a pack, the pack is uploaded in the background
// with ctx: ctx must stay live until Flush or Wait returns (do not pass
// the context of an errgroup whose Wait returns before Flush).
func (r *Repository) SaveBlobID(ctx context.Context, t BlobType, id ID, data []byte) (known bool, stored int, err error) {
	if t != DataBlob && t != TreeBlob {
		return false, 0, fmt.Errorf("invalid blob type %v", t)
	}
	if uint64(len(data)) > 1<<32-1-1024 {
		return false, 0, fmt.Errorf("blob of %d bytes is too large", len(data))
	}
	if err := r.uploadError(); err != nil {
		return false, 0, err
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

	sc, _ := r.scratchPool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer r.scratchPool.Put(sc)
	plain, ulen := r.plaintext(t, data, sc)
	sealedLen := len(plain) + crypto.Extension
	err = r.place(ctx, t, id, sealedLen, ulen, func(region []byte) { r.key.Seal(region[:0], plain) })
	if err != nil {
		return false, 0, err
	}
	return false, sealedLen, nil
}

// SaveSealedBlob stores a blob exactly as another pack of this repository
// stores it: sealed are its stored (encrypted, maybe compressed) bytes and
// pb says what they are. Prune copies still-used blobs this way, without
// compressing and encrypting them again; the caller must have verified
// them (StreamPackSealed does). The blob is skipped if already known.
func (r *Repository) SaveSealedBlob(ctx context.Context, pb PackedBlob, sealed []byte) (known bool, err error) {
	if len(sealed) != int(pb.Length) || len(sealed) < crypto.Extension {
		return false, fmt.Errorf("sealed blob %v: %d bytes, index says %d", pb.BlobHandle, len(sealed), pb.Length)
	}
	if err := r.uploadError(); err != nil {
		return false, err
	}
	h := pb.BlobHandle
	r.packerMu.Lock()
	_, inFlight := r.pending[h]
	if inFlight || r.idx.Has(h) {
		r.packerMu.Unlock()
		return true, nil
	}
	r.pending[h] = struct{}{}
	r.packerMu.Unlock()
	return false, r.place(ctx, h.Type, h.ID, len(sealed), pb.UncompressedLength, func(region []byte) { copy(region, sealed) })
}

// place reserves sealedLen bytes for a blob in a pack, lets fill write
// them, and starts the pack's upload once it is complete.
func (r *Repository) place(ctx context.Context, t BlobType, id ID, sealedLen int, ulen uint32, fill func(region []byte)) error {
	if sealedLen >= r.opts.PackSize {
		// A blob this large gets a pack of its own.
		p := &packer{tree: t == TreeBlob, buf: make([]byte, 0, sealedLen+64)}
		fill(p.reserve(id, sealedLen, ulen))
		p.writers, p.closed = 0, true
		return r.startUpload(ctx, p)
	}

	var spare []byte // a data pack buffer, waited for without the lock
	var p *packer
	var region []byte
	for {
		var closedFull *packer
		var needBuffer bool
		p, region, closedFull, needBuffer = r.reserve(t, id, sealedLen, ulen, spare)
		if closedFull != nil {
			if err := r.startUpload(ctx, closedFull); err != nil {
				return err
			}
		}
		if !needBuffer {
			break
		}
		var err error
		if spare, err = r.waitPackBuffer(ctx); err != nil {
			return err
		}
	}
	fill(region)

	r.packerMu.Lock()
	p.writers--
	ready := p.closed && p.writers == 0
	r.packerMu.Unlock()
	if ready {
		return r.startUpload(ctx, p)
	}
	return nil
}

// reserve picks one of the type's two open packers at random and reserves
// room for a sealed blob in it. It also returns a packer that had to be
// closed to make room and is ready for upload. When a new data packer is
// needed and spare is nil, it reserves nothing and reports needBuffer: the
// caller waits for a buffer without the lock and calls again. A spare left
// unused goes back to the pool.
func (r *Repository) reserve(t BlobType, id ID, sealedLen int, ulen uint32, spare []byte) (p *packer, region []byte, ready *packer, needBuffer bool) {
	r.packerMu.Lock()
	defer r.packerMu.Unlock()
	set := r.packers[t]
	if set == nil {
		set = &packerSet{}
		r.packers[t] = set
	}
	slot := rand.IntN(len(set.open))
	p = set.open[slot]
	if p != nil && !p.fits(sealedLen) {
		switch {
		case p.writers == 0 && cap(p.buf) < r.opts.PackSize && len(p.buf)+sealedLen+p.headerSize() <= r.opts.PackSize:
			p.grow(sealedLen, r.opts.PackSize) // a small tree pack growing
		default:
			// Close the pack before it overflows, so pack buffers never
			// move while blobs are sealed into them.
			p.closed = true
			if p.writers == 0 {
				ready = p
			}
			set.open[slot] = nil
			p = nil
		}
	}
	if p == nil {
		var buf []byte
		switch {
		case t == TreeBlob:
			buf = make([]byte, 0, max(256<<10, 2*(sealedLen+pack.Overhead+pack.CompressedEntrySize)))
		case spare != nil:
			buf, spare = spare, nil
		default:
			if buf = r.tryPackBuffer(); buf == nil {
				return nil, nil, ready, true
			}
		}
		p = &packer{tree: t == TreeBlob, buf: buf}
		set.open[slot] = p
	}
	if spare != nil {
		r.releasePackBuffer(spare)
	}
	region = p.reserve(id, sealedLen, ulen)
	if p.full(r.opts.PackSize) {
		p.closed = true
		set.open[slot] = nil
	}
	return p, region, ready, false
}
