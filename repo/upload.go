package repo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/hugemem"
	"github.com/hbackup/hbackup/repo/internal/index"
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
	if r.spoolDir != "" && p.file == nil && !p.tree && r.isPackBuffer(p.buf) {
		if r.spoolPack(ctx, p) {
			return nil
		}
		// The spool is full: wait for a turn with the pack in memory.
		select {
		case r.turns <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.uploadInTurn(ctx, p)
		return nil
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
// blobs in the index. The caller holds an upload slot or turn.
func (r *Repository) uploadPack(ctx context.Context, p *packer) error {
	hdr := packHeader(p)
	var packID ID
	var err error
	if p.file != nil {
		packID, err = r.commitFilePack(ctx, p, hdr)
	} else {
		packID, err = r.saveMemoryPack(ctx, p, hdr)
	}
	if err != nil {
		return err
	}
	return r.recordPack(ctx, packID, p.blobs)
}

// packHeader is the plaintext header of a closed pack.
func packHeader(p *packer) []byte {
	hdr := make([]byte, 0, p.hdr)
	for _, b := range p.blobs {
		hdr = pack.AppendEntry(hdr, b)
	}
	return hdr
}

// recordPack adds an uploaded pack's blobs to the index, and writes an
// index file when enough packs wait for one.
func (r *Repository) recordPack(ctx context.Context, packID ID, entries []pack.Blob) error {
	blobs := make([]PackedBlob, len(entries))
	for i, b := range entries {
		t := DataBlob
		if b.Tree {
			t = TreeBlob
		}
		blobs[i] = PackedBlob{BlobHandle: BlobHandle{ID: b.ID, Type: t}, PackID: packID,
			Offset: b.Offset, Length: b.Length, UncompressedLength: b.UncompressedLength}
	}
	r.idx.add(packID, blobs)
	pp := pendingPack{id: packID, blobs: blobs}
	// Encoded now, while other work runs, rather than at the end of the
	// backup, when the index file is all that is left to do (20,000
	// blobs: 15-18 ms there).
	ip := encodePack(pp)
	if piece, ok := index.AppendPack(nil, &ip); ok {
		pp.json = piece
	}
	r.packerMu.Lock()
	for _, b := range blobs {
		delete(r.pending, b.BlobHandle)
	}
	saveNow := r.unsaved.add(pp)
	r.packerMu.Unlock()
	if saveNow {
		return r.saveIndex(ctx)
	}
	return nil
}

// sealedPackTailSize is the size of a pack's sealed header and length
// field for a plaintext header of n bytes.
func sealedPackTailSize(n int) int { return n + crypto.Extension + pack.HeaderLengthSize }

// sealPack appends the sealed header and its length to a memory pack's
// blobs (reserve kept room for them) and returns the whole pack. The
// packer's own slice is left as it was, so sealing again is harmless.
func (r *Repository) sealPack(buf, hdr []byte) []byte {
	data := r.key.Seal(buf, hdr)
	return binary.LittleEndian.AppendUint32(data, uint32(len(hdr)+crypto.Extension))
}

// savePack stores a finished pack under its ID.
func (r *Repository) savePack(ctx context.Context, packID ID, rd backend.RewindReader) error {
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	if err := r.be.Save(ctx, h, rd); err != nil {
		return fmt.Errorf("save pack %v: %w", h, err)
	}
	return nil
}

// saveMemoryPack seals the header into the pack's buffer and saves it.
func (r *Repository) saveMemoryPack(ctx context.Context, p *packer, hdr []byte) (ID, error) {
	if !p.tree {
		// Also after a failed upload: a saver may be waiting for it.
		defer r.releasePackBuffer(p.buf)
	}
	data := r.sealPack(p.buf, hdr)
	packID := Hash(data)
	if err := r.savePack(ctx, packID, backend.NewByteReader(data)); err != nil {
		return ID{}, err
	}
	if pc, ok := r.gate.Backend.(PackCache); ok && len(p.blobs) > 0 && p.blobs[0].Tree {
		h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
		pc.AddCached(ctx, h, data) // writes a copy before returning
	}
	return packID, nil
}

// commitFilePack appends the header to a pack built in place, hashes the
// file for its name and commits it. On error the file is removed.
func (r *Repository) commitFilePack(ctx context.Context, p *packer, hdr []byte) (id ID, err error) {
	defer r.untrackFile(p.file)
	defer func() {
		if err != nil {
			p.blocks.discard()
			_ = p.file.Abort()
		}
	}()
	// A failed block write is reported as such: reading the pack back
	// for its hash would only find what is missing (EOF).
	if werr := p.writeFailure(); werr != nil {
		return ID{}, fmt.Errorf("write pack: %w", werr)
	}
	tail := r.sealPack(make([]byte, 0, sealedPackTailSize(len(hdr))), hdr)
	if _, err := p.file.WriteAt(tail, int64(p.length)); err != nil {
		return ID{}, fmt.Errorf("write pack header: %w", err)
	}
	if id, err = r.filePackID(p, tail); err != nil {
		if werr := p.writeFailure(); werr != nil {
			return ID{}, fmt.Errorf("write pack: %w", werr)
		}
		return ID{}, err
	}
	if p.blocks != nil {
		if err := p.blocks.finish(p.length); err != nil {
			return ID{}, err
		}
	}
	h := backend.Handle{Type: backend.PackFile, Name: id.String()}
	if err := p.file.Commit(ctx, h); err != nil {
		return ID{}, fmt.Errorf("save pack %v: %w", h, err)
	}
	return id, nil
}

// Data packs are built in place on backends that can (see
// backend.FileBuilder), else in memory buffers. buildFiles records which:
// 0 not yet known, 1 in place, -1 in memory.

// tryDataPacker returns a new data packer if one can be had without I/O
// or waiting (a free memory buffer); else nil. The caller holds the
// packer lock.
func (r *Repository) tryDataPacker() *packer {
	if r.buildFiles.Load() >= 0 {
		return nil // creating a file is I/O: not under the lock
	}
	if buf := r.tryPackBuffer(); buf != nil {
		return r.newBufferPacker(buf)
	}
	return nil
}

// newBufferPacker makes a data packer in a pack buffer. The buffer may be
// longer than the pack size (see hugemem.Cap); the pack still closes at
// the pack size.
func (r *Repository) newBufferPacker(buf []byte) *packer {
	p := newMemoryPacker(false, buf)
	p.room = min(p.room, r.opts.PackSize)
	return p
}

// newDataPacker makes a data packer, in place if the backend can, else
// waiting for a memory buffer. It returns nil, and no error, when opened
// is closed before a buffer comes free. The caller holds no lock.
func (r *Repository) newDataPacker(ctx context.Context, opened <-chan struct{}) (*packer, error) {
	if r.buildFiles.Load() >= 0 {
		f, err := backend.CreateFile(ctx, r.be, backend.PackFile)
		switch {
		case err == nil:
			r.buildFiles.Store(1)
			p := newFilePacker(f, r.opts.PackSize)
			if w := f.Direct(); w != nil && !r.direct.refused.Load() {
				p.blocks = newPackBlocks(f, w, r.direct)
			}
			r.packerMu.Lock()
			r.liveFiles[f] = p
			r.packerMu.Unlock()
			return p, nil
		case errors.Is(err, errors.ErrUnsupported):
			r.buildFiles.Store(-1)
		default:
			return nil, fmt.Errorf("new pack: %w", err)
		}
	}
	buf, err := r.waitPackBuffer(ctx, opened)
	if buf == nil || err != nil {
		return nil, err
	}
	return r.newBufferPacker(buf), nil
}

// discardPacker gives back what an unused, empty data packer holds.
func (r *Repository) discardPacker(p *packer) {
	switch {
	case p == nil:
	case p.file != nil:
		p.blocks.discard() // its writes end before its file goes
		_ = p.file.Abort() // an empty temporary file; nothing to lose
		r.untrackFile(p.file)
	default:
		r.releasePackBuffer(p.buf)
	}
}

func (r *Repository) untrackFile(f backend.PendingFile) {
	r.packerMu.Lock()
	delete(r.liveFiles, f)
	r.packerMu.Unlock()
}

// abortFiles removes the files of packs never uploaded (a backup that
// failed or was abandoned before Flush).
func (r *Repository) abortFiles() {
	r.packerMu.Lock()
	files := r.liveFiles
	r.liveFiles = map[backend.PendingFile]*packer{}
	r.packerMu.Unlock()
	for f, p := range files {
		p.blocks.discard() // its writes end before its file goes
		_ = f.Abort()
	}
}

// Flush uploads every open pack and writes index files for all packs not
// yet indexed. After Flush, everything saved so far is durable and visible
// to other readers. No SaveBlob may run concurrently with Flush.
func (r *Repository) Flush(ctx context.Context) error {
	r.packerMu.Lock()
	var open [][2]*packer
	for _, set := range r.packers {
		open = append(open, set.open)
		set.open = [2]*packer{}
	}
	r.packerMu.Unlock()
	var todo []*packer
	for _, pair := range open {
		a, b := pair[0], pair[1]
		// Merge two half-empty packers so flushing does not leave two
		// small packs where one would do.
		if a != nil && b != nil && a.length+b.length+a.headerSize()+b.hdr < r.opts.PackSize {
			r.mergeClosed(a, b)
			b = nil
		}
		for _, p := range []*packer{a, b} {
			if p != nil && len(p.blobs) > 0 {
				p.closed = true
				todo = append(todo, p)
			}
		}
	}
	for _, p := range todo {
		if err := r.startUpload(ctx, p); err != nil {
			_ = r.Wait()
			return err
		}
	}
	return r.SaveIndex(ctx)
}

// mergeClosed merges b into a, two packers no longer open: the commit of
// another pack may still be hashing either as its partner (packhash.go),
// which their prefix locks wait out.
func (r *Repository) mergeClosed(a, b *packer) {
	a.prefix.mu.Lock()
	defer a.prefix.mu.Unlock()
	b.prefix.mu.Lock()
	defer b.prefix.mu.Unlock()
	r.packerMu.Lock()
	defer r.packerMu.Unlock()
	r.merge(a, b)
}

// merge moves b's blobs into a and gives back what b holds. No saver
// may be writing to either; the caller holds the packer lock.
func (r *Repository) merge(a, b *packer) {
	var stage []byte
	for _, blob := range b.blobs {
		sealed := b.buf
		if b.file != nil {
			stage = slices.Grow(stage[:0], int(blob.Length))[:blob.Length]
			var err error
			if b.blocks != nil {
				err = b.blocks.readAt(stage, int(blob.Offset))
			} else {
				_, err = b.file.ReadAt(stage, int64(blob.Offset))
			}
			if err != nil && a.err == nil {
				if werr := b.writeFailure(); werr != nil {
					// What could not be read back was never written:
					// the write's error says why (a full disk, say).
					err = werr
				}
				a.err = fmt.Errorf("move blob %v between packs: %w", blob.ID, err)
			}
			sealed = stage
		} else {
			sealed = sealed[blob.Offset : blob.Offset+blob.Length]
		}
		if a.file == nil && !a.fits(len(sealed)) {
			a.grow(len(sealed), r.opts.PackSize)
		}
		slot := a.reserve(blob.ID, len(sealed), blob.UncompressedLength)
		a.done(slot, a.store(slot, storedBlob{sealed: sealed}))
	}
	if b.file != nil {
		b.blocks.discard() // its writes end before its file goes
		_ = b.file.Abort()
		delete(r.liveFiles, b.file)
	} else if !b.tree {
		r.releasePackBuffer(b.buf)
	}
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
// back if all exist and are in use, or nil once opened is closed (nil
// never is). The caller holds no lock.
func (r *Repository) waitPackBuffer(ctx context.Context, opened <-chan struct{}) ([]byte, error) {
	if b := r.tryPackBuffer(); b != nil {
		return b, nil
	}
	select {
	case b := <-r.freePacks:
		return b[:0], nil
	case <-opened:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// isPackBuffer tells a data pack buffer (tryPackBuffer) from the buffers
// of tree packs and of large blobs' own packs, by its capacity.
func (r *Repository) isPackBuffer(b []byte) bool {
	return cap(b) == hugemem.Cap(r.opts.PackSize)
}

// releasePackBuffer gives a data pack's buffer back for reuse. The caller
// must not touch b afterwards.
func (r *Repository) releasePackBuffer(b []byte) {
	if !r.isPackBuffer(b) {
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
