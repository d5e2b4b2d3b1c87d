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
	var stages *stagePool
	if t == DataBlob && r.buildFiles.Load() == 1 {
		// A data blob goes into a pack built in place: compress it
		// straight into a stage buffer and encrypt it there (see
		// storedBlob.staged), so no scratch buffer of its size is needed.
		stages = r.stages
	}
	plain, ulen, stage := r.plaintext(t, data, sc, stages)
	if stage != nil {
		defer r.stages.put(stage)
	}
	blob := storedBlob{plain: plain, key: r.key, stages: r.stages}
	if ulen != 0 && stage != nil && len(plain) > 0 && &plain[0] == &stage[crypto.IVSize] {
		blob.staged = stage[:crypto.IVSize+len(plain)]
	}
	if err := r.place(ctx, t, id, ulen, blob); err != nil {
		return false, 0, err
	}
	return false, blob.length(), nil
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
	return false, r.place(ctx, h.Type, h.ID, pb.UncompressedLength, storedBlob{sealed: sealed})
}

// place reserves room for a blob in a pack, stores it there, and starts
// the pack's upload once it is complete.
func (r *Repository) place(ctx context.Context, t BlobType, id ID, ulen uint32, blob storedBlob) error {
	sealedLen := blob.length()
	if sealedLen >= r.opts.PackSize {
		// A blob this large gets a pack of its own.
		p := newMemoryPacker(t == TreeBlob, make([]byte, 0, sealedLen+64))
		_ = p.store(p.reserve(id, sealedLen, ulen), blob) // cannot fail in memory
		p.writers, p.closed = 0, true
		return r.startUpload(ctx, p)
	}

	var spare *packer // a new data packer, made without the lock
	var p *packer
	var where blobSlot
	for {
		var closedFull *packer
		var opened <-chan struct{}
		p, where, closedFull, opened = r.reserve(t, id, sealedLen, ulen, &spare)
		if closedFull != nil {
			if err := r.startUpload(ctx, closedFull); err != nil {
				r.discardPacker(spare)
				return err // Close removes what p holds
			}
		}
		if p != nil {
			break
		}
		// spare stays nil when another saver opened a packer meanwhile:
		// reserve again, that pack may take the blob.
		var err error
		if spare, err = r.newDataPacker(ctx, opened); err != nil {
			return err
		}
	}
	r.discardPacker(spare) // another saver opened a packer meanwhile
	err := p.store(where, blob)

	r.packerMu.Lock()
	p.done(where, err)
	ready := p.closed && p.writers == 0
	ahead := p.file != nil && !p.closed && p.storedEnd-p.prefix.hinted >= r.hashAhead()
	r.packerMu.Unlock()
	if err != nil {
		// Like a failed upload, a failed write stops the repository.
		r.setUploadError(err)
	}
	if ahead {
		r.hashAheadWith(p)
	}
	if ready {
		// Also after a failed store: the upload removes the pack's file.
		if uerr := r.startUpload(ctx, p); err == nil {
			err = uerr
		}
	}
	return err
}

// reserve picks one of the type's two open packers at random and reserves
// room for a sealed blob in it, returning the packer and where the blob goes. It
// also returns a packer that had to be closed to make room and is ready
// for upload. A new data packer is taken from *spare, which first fills
// an empty slot. When *spare is nil and no packer can be made without
// waiting or I/O, a blob for a memory pack goes to the other open packer
// if it has room. Failing that (and always for a pack built in place,
// so that two stay open), reserve returns a nil packer and a channel
// closed when some data packer opens: the caller makes one without the
// lock (newDataPacker, which stops waiting for a buffer when the channel
// closes) and calls again.
func (r *Repository) reserve(t BlobType, id ID, sealedLen int, ulen uint32, spare **packer) (p *packer, where blobSlot, ready *packer, opened <-chan struct{}) {
	r.packerMu.Lock()
	defer r.packerMu.Unlock()
	set := r.packers[t]
	if set == nil {
		set = &packerSet{}
		r.packers[t] = set
	}
	if *spare != nil {
		// A packer made without the lock fills an empty slot first, so
		// the type has two open packers whatever slot is drawn.
		for i, q := range set.open {
			if q == nil {
				set.open[i], *spare = *spare, nil
				close(r.packerOpened)
				r.packerOpened = make(chan struct{})
				break
			}
		}
	}
	slot := rand.IntN(len(set.open))
	p = set.open[slot]
	if p != nil && !p.fits(sealedLen) {
		switch {
		case p.file == nil && p.writers == 0 && p.room < r.opts.PackSize && p.length+sealedLen+p.headerSize() <= r.opts.PackSize:
			p.grow(sealedLen, r.opts.PackSize) // a small tree pack growing
		default:
			// Close the pack before it overflows, so pack buffers never
			// move while blobs are stored into them.
			p.closed = true
			if p.writers == 0 {
				ready = p
			}
			set.open[slot] = nil
			p = nil
		}
	}
	if p == nil {
		switch {
		case t == TreeBlob:
			p = newMemoryPacker(true, make([]byte, 0, max(256<<10, 2*(sealedLen+pack.Overhead+pack.CompressedEntrySize))))
		case *spare != nil:
			p, *spare = *spare, nil
		default:
			p = r.tryDataPacker()
		}
		switch {
		case p != nil && t == DataBlob:
			close(r.packerOpened)
			r.packerOpened = make(chan struct{})
		case p == nil && t == DataBlob && r.buildFiles.Load() == 1:
			// A pack built in place costs I/O to make: the caller makes
			// it without the lock and comes back.
			return nil, blobSlot{}, ready, r.packerOpened
		case p == nil:
			// Memory buffers are all taken: the other packer takes the
			// blob if it has room.
			k := set.withRoom(sealedLen)
			if k < 0 {
				return nil, blobSlot{}, ready, r.packerOpened
			}
			slot, p = k, set.open[k]
		}
		set.open[slot] = p
	}
	where = p.reserve(id, sealedLen, ulen)
	if p.full(r.opts.PackSize) {
		p.closed = true
		set.open[slot] = nil
	}
	return p, where, ready, nil
}
