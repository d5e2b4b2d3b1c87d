package repo

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/hugemem"
	"github.com/hbackup/hbackup/repo/internal/pack"
)

// startUpload hands a finished pack to a background upload once one of
// the backend's connections is free; waiting for a slot is the
// back-pressure that bounds memory. An upload error is returned by a later
// SaveBlob, Flush or Wait.
func (r *Repository) startUpload(ctx context.Context, p *packer) error {
	if err := r.uploadError(); err != nil {
		return err
	}
	select {
	case r.uploadSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.uploads.Add(1)
	go func() {
		defer r.uploads.Done()
		err := r.uploadPack(ctx, p)
		<-r.uploadSlots
		if err != nil {
			r.setUploadError(err)
		}
	}()
	return nil
}

func (r *Repository) uploadError() error {
	r.uploadErrMu.Lock()
	defer r.uploadErrMu.Unlock()
	return r.uploadErr
}

func (r *Repository) setUploadError(err error) {
	r.uploadErrMu.Lock()
	defer r.uploadErrMu.Unlock()
	if r.uploadErr == nil {
		r.uploadErr = err
	}
}

// Wait blocks until every pack upload in flight has finished and returns
// the first upload error. Call it before giving up on a repository after
// an error, so no upload outlives the caller.
func (r *Repository) Wait() error {
	r.uploads.Wait()
	return r.uploadError()
}

// uploadPack finishes a pack (header, length), stores it, and records its
// blobs in the index. The caller holds an upload slot.
func (r *Repository) uploadPack(ctx context.Context, p *packer) error {
	hdr := make([]byte, 0, p.hdr)
	for _, b := range p.blobs {
		hdr = pack.AppendEntry(hdr, b)
	}
	if !p.tree {
		// Also after a failed upload: a saver may be waiting for it.
		defer r.releasePackBuffer(p.buf)
	}
	data := r.key.Seal(p.buf, hdr) // fits: reserve kept room for the header
	data = binary.LittleEndian.AppendUint32(data, uint32(len(hdr)+crypto.Extension))
	packID := Hash(data)

	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	if err := r.be.Save(ctx, h, backend.NewByteReader(data)); err != nil {
		return fmt.Errorf("save pack %v: %w", h, err)
	}
	if pc, ok := r.gate.Backend.(PackCache); ok && len(p.blobs) > 0 && p.blobs[0].Tree {
		pc.AddCached(ctx, h, data) // writes a copy before returning
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
		return r.saveIndex(ctx)
	}
	return nil
}

// Flush uploads every open pack and writes index files for all packs not
// yet indexed. After Flush, everything saved so far is durable and visible
// to other readers. No SaveBlob may run concurrently with Flush.
func (r *Repository) Flush(ctx context.Context) error {
	r.packerMu.Lock()
	var todo []*packer
	for _, set := range r.packers {
		a, b := set.open[0], set.open[1]
		set.open = [2]*packer{}
		// Merge two half-empty packers so flushing does not leave two
		// small packs where one would do.
		if a != nil && b != nil && len(a.buf)+len(b.buf)+a.headerSize()+b.hdr < r.opts.PackSize {
			for _, blob := range b.blobs {
				sealed := b.buf[blob.Offset : blob.Offset+blob.Length]
				if !a.fits(len(sealed)) {
					a.grow(len(sealed), r.opts.PackSize)
				}
				copy(a.reserve(blob.ID, len(sealed), blob.UncompressedLength), sealed)
				a.writers--
			}
			if !b.tree {
				r.releasePackBuffer(b.buf)
			}
			b = nil
		}
		for _, p := range []*packer{a, b} {
			if p != nil && len(p.blobs) > 0 {
				p.closed = true
				todo = append(todo, p)
			}
		}
	}
	r.packerMu.Unlock()
	for _, p := range todo {
		if err := r.startUpload(ctx, p); err != nil {
			_ = r.Wait()
			return err
		}
	}
	return r.SaveIndex(ctx)
}

// Data pack buffers come from a bounded pool: at most packBuffers exist
// at once (two open packers and one per useful upload, see
// uploadBuffers), each reused for
// pack after pack. A saver that needs a new packer when all are in use
// waits for an upload to finish, which is also the back-pressure that
// bounds memory. Letting buffers become garbage instead raised the peak
// RSS of a first backup by 20-40 MB, and a fresh 16 MiB buffer costs a
// page fault per 4 KiB on first use (1.5 s of system time per 1.5 GB when
// a memory limit returned them to the kernel). Tree packs are usually
// small, so they get buffers of their own that start small and grow.

// tryPackBuffer returns an empty data pack buffer: a free one, or a new
// one while fewer than the bound exist. It returns nil when the caller
// must wait (waitPackBuffer).
func (r *Repository) tryPackBuffer() []byte {
	select {
	case b := <-r.freePacks:
		return b[:0]
	default:
	}
	if r.packBuffers.Add(1) <= int64(cap(r.freePacks)) {
		// Outside the Go heap (see package hugemem): faster to fault
		// in, and the GC's heap goal does not grow with them.
		return hugemem.Alloc(r.opts.PackSize)[:0]
	}
	r.packBuffers.Add(-1)
	return nil
}

// waitPackBuffer returns a data pack buffer, waiting for one to be given
// back if all exist and are in use. The caller holds no lock.
func (r *Repository) waitPackBuffer(ctx context.Context) ([]byte, error) {
	if b := r.tryPackBuffer(); b != nil {
		return b, nil
	}
	select {
	case b := <-r.freePacks:
		return b[:0], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releasePackBuffer gives a data pack's buffer back for reuse. The caller
// must not touch b afterwards.
func (r *Repository) releasePackBuffer(b []byte) {
	if cap(b) != r.opts.PackSize {
		return // a large blob's own pack, or a tree pack
	}
	select {
	case r.freePacks <- b[:0]:
	default: // more buffers than the bound (cannot happen)
		r.packBuffers.Add(-1)
		hugemem.Free(b)
	}
}

// freePackBuffers gives the idle pack buffers back to the system. A
// buffer still held by an upload (none should be, see Close) is left
// alone and stays mapped.
func (r *Repository) freePackBuffers() {
	r.packBuffers.Add(-int64(drainPackBuffers(r.freePacks)))
}

func drainPackBuffers(free chan []byte) (n int) {
	for {
		select {
		case b := <-free:
			hugemem.Free(b)
			n++
		default:
			return n
		}
	}
}
