package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/sha256x2"
	"github.com/hbackup/hbackup/repo/internal/pack"
)

// LoadBlob returns the plaintext of a blob, appended to buf[:0] when it
// fits. Every stored copy is tried until one passes verification.
func (r *Repository) LoadBlob(ctx context.Context, t BlobType, id ID, buf []byte) ([]byte, error) {
	h := BlobHandle{ID: id, Type: t}
	copies := r.idx.Lookup(h)
	if len(copies) == 0 {
		return nil, fmt.Errorf("%v: %w", h, ErrBlobNotFound)
	}
	var errs []error
	for _, pb := range copies {
		sealed := make([]byte, pb.Length)
		load := r.be.Load
		if pc, ok := r.gate.Backend.(PackCache); ok && t == TreeBlob {
			load = pc.LoadCached
		}
		err := load(ctx, backend.Handle{Type: backend.PackFile, Name: pb.PackID.String()}, int(pb.Length), int64(pb.Offset),
			func(rd io.Reader) error {
				_, err := io.ReadFull(rd, sealed)
				return err
			})
		if err != nil {
			errs = append(errs, fmt.Errorf("load %v from pack %v: %w", h, pb.PackID.Str(), err))
			continue
		}
		plain, err := r.DecodeBlob(pb, sealed, buf)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return plain, nil
	}
	return nil, errors.Join(errs...)
}

// DecodeBlob decrypts, decompresses and verifies one stored blob. The
// plaintext may be written into buf's array when it is large enough.
func (r *Repository) DecodeBlob(pb PackedBlob, sealed, buf []byte) ([]byte, error) {
	d := BlobDecoder{r: r, plain: buf}
	return d.Decode(pb, sealed)
}

// BlobDecoder decodes blobs as DecodeBlob does, reusing its buffers, so
// reading a whole pack allocates nothing per blob: each result is only
// valid until the next Decode. It is not safe for concurrent use.
type BlobDecoder struct {
	r       *Repository
	sealed  []byte // the stored bytes of the blob being read (SealedBuffer)
	scratch []byte // the decrypted bytes of a compressed blob
	plain   []byte
}

// NewBlobDecoder returns a decoder from the repository's pool; give it
// back with Release once its results are no longer used, so its buffers
// serve the next pack.
func (r *Repository) NewBlobDecoder() *BlobDecoder {
	if d, ok := r.decoders.Get().(*BlobDecoder); ok {
		return d
	}
	return &BlobDecoder{r: r}
}

// Release returns d to its repository's pool.
func (d *BlobDecoder) Release() { d.r.decoders.Put(d) }

// SealedBuffer returns the decoder's buffer for stored bytes, n long.
func (d *BlobDecoder) SealedBuffer(n int) []byte {
	if cap(d.sealed) < n {
		d.sealed = make([]byte, n)
	}
	d.sealed = d.sealed[:n]
	return d.sealed
}

// Decode decrypts, decompresses and verifies one stored blob.
func (d *BlobDecoder) Decode(pb PackedBlob, sealed []byte) ([]byte, error) {
	out, err := d.open(pb, sealed)
	if err != nil {
		return nil, err
	}
	return d.r.verifyBlob(pb, out)
}

// open is Decode without the check of the plaintext against the blob ID.
func (d *BlobDecoder) open(pb PackedBlob, sealed []byte) ([]byte, error) {
	if pb.UncompressedLength == 0 {
		out, err := d.r.key.Open(d.plain[:0], sealed)
		if err != nil {
			return nil, blobIntegrityError(pb, "%v", err)
		}
		d.plain = out[:0]
		return out, nil
	}
	decrypted, err := d.r.key.Open(d.scratch[:0], sealed)
	if err != nil {
		return nil, blobIntegrityError(pb, "%v", err)
	}
	d.scratch = decrypted[:0]
	if cap(d.plain) < int(pb.UncompressedLength) {
		d.plain = make([]byte, 0, pb.UncompressedLength)
	}
	out, err := d.r.inflateBlob(pb, decrypted, d.plain[:0])
	if out != nil {
		d.plain = out[:0]
	}
	return out, err
}

// openInPlace is open for stored bytes the caller no longer needs: they
// are decrypted in place (see openBlobInPlace), so the scratch buffer
// stays unused and an uncompressed blob needs no plain buffer.
func (d *BlobDecoder) openInPlace(pb PackedBlob, sealed []byte) ([]byte, error) {
	if pb.UncompressedLength != 0 && cap(d.plain) < int(pb.UncompressedLength) {
		d.plain = make([]byte, 0, pb.UncompressedLength)
	}
	out, err := d.r.openBlobInPlace(pb, sealed, d.plain)
	if pb.UncompressedLength != 0 && out != nil {
		d.plain = out[:0]
	}
	return out, err
}

// inflateBlob decompresses a compressed blob's decrypted bytes into dst
// and checks the length the index gives. The output is returned even
// when it has the wrong length, so that callers can keep its buffer.
func (r *Repository) inflateBlob(pb PackedBlob, decrypted, dst []byte) ([]byte, error) {
	out, err := r.dec.decode(decrypted, dst)
	if err != nil {
		return nil, blobIntegrityError(pb, "decompress: %v", err)
	}
	if len(out) != int(pb.UncompressedLength) {
		return out, blobIntegrityError(pb, "decompressed to %d bytes, index says %d", len(out), pb.UncompressedLength)
	}
	return out, nil
}

// verifyBlob checks that plain hashes to the blob's ID.
func (r *Repository) verifyBlob(pb PackedBlob, plain []byte) ([]byte, error) {
	if err := CheckBlobSum(pb, Hash(plain)); err != nil {
		return nil, err
	}
	return plain, nil
}

// blobIntegrityError names the damaged blob and its pack.
func blobIntegrityError(pb PackedBlob, format string, args ...any) error {
	return fmt.Errorf("%w: blob %v in pack %v: %s", ErrIntegrity, pb.BlobHandle, pb.PackID, fmt.Sprintf(format, args...))
}

// StreamPack reads the given blobs of one pack in a single request, in
// offset order, and calls fn with each blob's plaintext or the error that
// decoding it gave. Blobs are checked two at a time, so fn may see a
// blob before one stored ahead of it. An error returned by fn stops the
// stream. The plaintext slice is only valid during the call.
func (r *Repository) StreamPack(ctx context.Context, packID ID, blobs []PackedBlob, fn func(pb PackedBlob, plain []byte, err error) error) error {
	// The caller never sees the stored bytes, so each blob is decrypted
	// where it was read: a stream then holds two blob-sized buffers, not
	// three (copy's peak memory was mostly these).
	return r.streamPack(ctx, packID, blobs, true, func(pb PackedBlob, _, plain []byte, err error) error {
		return fn(pb, plain, err)
	})
}

// StreamPackSealed is StreamPack that also hands fn the blob's stored
// (encrypted) bytes, verified by decoding them, so that a blob can be
// copied into another pack as it is (see SaveSealedBlob). Both slices are
// only valid during the call.
func (r *Repository) StreamPackSealed(ctx context.Context, packID ID, blobs []PackedBlob, fn func(pb PackedBlob, sealed, plain []byte, err error) error) error {
	return r.streamPack(ctx, packID, blobs, false, fn)
}

// streamPack implements StreamPack and StreamPackSealed. With inPlace,
// blobs are decrypted where they were read and fn gets no sealed bytes.
func (r *Repository) streamPack(ctx context.Context, packID ID, blobs []PackedBlob, inPlace bool, fn func(pb PackedBlob, sealed, plain []byte, err error) error) error {
	if len(blobs) == 0 {
		return nil
	}
	blobs = append([]PackedBlob(nil), blobs...)
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].Offset < blobs[j].Offset })
	start := blobs[0].Offset
	end := uint64(0)
	for _, b := range blobs {
		end = max(end, uint64(b.Offset)+uint64(b.Length))
	}
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	return r.be.Load(ctx, h, int(end-uint64(start)), int64(start), func(rd io.Reader) error {
		br := bufio.NewReaderSize(rd, 256<<10)
		pos := uint64(start)
		// Blobs are checked against their IDs two at a time, each in a
		// lane of a sha256x2.Pair with its own decoder, since hashing two
		// messages costs little more than one. A lane whose blob is done
		// takes the next blob of the pack while the other one's longer
		// blob is still being hashed, so blobs may be delivered out of
		// offset order, and only two are held at once. The second lane
		// takes only blobs up to maxPairedBlob, so that its decoder's
		// buffers (from a pool of their own) stay small: a stream then
		// holds at most a few MiB more than with one lane.
		var decs [2]*BlobDecoder
		var lanes [2]openedBlob
		var pair sha256x2.Pair
		defer func() {
			if decs[0] != nil {
				decs[0].Release()
			}
			if decs[1] != nil {
				r.pairDecoders.Put(decs[1])
			}
		}()
		next := 0
		for {
			for i := range lanes {
				for !pair.Busy(i) && next < len(blobs) {
					b := blobs[next]
					if i == 1 && max(b.Length, b.UncompressedLength) > maxPairedBlob {
						break // for lane 0, once it is free
					}
					next++
					if decs[i] == nil {
						decs[i] = r.newLaneDecoder(i)
					}
					o, err := r.openNext(br, &pos, packID, b, decs[i], inPlace)
					if err != nil {
						return err // reading the pack failed
					}
					if o.err != nil {
						if err := fn(o.pb, o.sealed, nil, o.err); err != nil {
							return err
						}
						continue
					}
					lanes[i] = o
					pair.Start(i, o.plain)
				}
			}
			if !pair.Busy(0) && !pair.Busy(1) {
				return nil
			}
			i, sum := pair.Next()
			o := lanes[i]
			lanes[i] = openedBlob{}
			if sum != o.pb.ID {
				o.plain, o.err = nil, blobIntegrityError(o.pb, "content does not match its ID")
			}
			if err := fn(o.pb, o.sealed, o.plain, o.err); err != nil {
				return err
			}
		}
	})
}

// maxPairedBlob is the largest blob (stored or plaintext) that the
// second hash lane of a pack stream takes. Most chunks are 512 KiB to
// 2 MiB, so most blobs still pair up.
const maxPairedBlob = 2 << 20

// newLaneDecoder returns a decoder for hash lane i of a pack stream:
// lane 1's come from their own pool, since they only ever grow to
// maxPairedBlob.
func (r *Repository) newLaneDecoder(i int) *BlobDecoder {
	if i == 0 {
		return r.NewBlobDecoder()
	}
	if d, ok := r.pairDecoders.Get().(*BlobDecoder); ok {
		return d
	}
	return &BlobDecoder{r: r}
}

// openNext reads blob b from br, a pack's bytes from offset *pos on, and
// decrypts and decompresses it with dec. A blob that cannot be decoded is
// returned with its error; the error returned is reading the pack's.
func (r *Repository) openNext(br *bufio.Reader, pos *uint64, packID ID, b PackedBlob, dec *BlobDecoder, inPlace bool) (openedBlob, error) {
	if uint64(b.Offset) < *pos { // overlapping entries: skip ahead impossible
		return openedBlob{}, fmt.Errorf("%w: pack %v: overlapping blobs at offset %d", ErrIntegrity, packID, b.Offset)
	}
	if _, err := br.Discard(int(uint64(b.Offset) - *pos)); err != nil {
		return openedBlob{}, fmt.Errorf("read pack %v: %w", packID, err)
	}
	sealed := dec.SealedBuffer(int(b.Length))
	if _, err := io.ReadFull(br, sealed); err != nil {
		return openedBlob{}, fmt.Errorf("read pack %v: %w", packID, err)
	}
	*pos = uint64(b.Offset) + uint64(b.Length)
	o := openedBlob{pb: b}
	if inPlace {
		o.plain, o.err = dec.openInPlace(b, sealed)
	} else {
		o.sealed = sealed
		o.plain, o.err = dec.open(b, sealed)
	}
	return o, nil
}

// openedBlob is a blob decrypted and decompressed (or its error), not yet
// checked against its ID.
type openedBlob struct {
	pb            PackedBlob
	sealed, plain []byte
	err           error
}

// ReadPackHeader reads and decodes the header of a pack of the given size
// (0: ask the backend), returning its blobs with offsets.
func (r *Repository) ReadPackHeader(ctx context.Context, packID ID, size int64) ([]PackedBlob, error) {
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	if size <= 0 {
		fi, err := r.be.Stat(ctx, h)
		if err != nil {
			return nil, err
		}
		size = fi.Size
	}
	if size < pack.MinFileSize {
		return nil, fmt.Errorf("%w: pack %v: file of %d bytes is too small to be a pack", ErrIntegrity, packID, size)
	}
	tailLen := min(size, int64(pack.EagerReadSize))
	tail, err := loadRange(ctx, r.be, h, int(tailLen), size-tailLen)
	if err != nil {
		return nil, err
	}
	hdrLen, err := pack.HeaderLength(tail[len(tail)-4:], size)
	if err != nil {
		return nil, fmt.Errorf("%w: pack %v: %v", ErrIntegrity, packID, err)
	}
	var sealedHdr []byte
	if int64(hdrLen)+4 <= tailLen {
		sealedHdr = tail[len(tail)-4-int(hdrLen) : len(tail)-4]
	} else if sealedHdr, err = loadRange(ctx, r.be, h, int(hdrLen), size-4-int64(hdrLen)); err != nil {
		return nil, err
	}
	plain, err := r.key.Open(nil, sealedHdr)
	if err != nil {
		return nil, fmt.Errorf("%w: pack %v: header: %v", ErrIntegrity, packID, err)
	}
	entries, err := pack.Decode(plain, r.cfg.Version >= 2)
	if err != nil {
		return nil, fmt.Errorf("%w: pack %v: %v", ErrIntegrity, packID, err)
	}
	if got := pack.DataSize(entries) + uint64(hdrLen) + 4; got != uint64(size) {
		return nil, fmt.Errorf("%w: pack %v: header describes %d bytes, file has %d", ErrIntegrity, packID, got, size)
	}
	out := make([]PackedBlob, len(entries))
	for i, e := range entries {
		t := DataBlob
		if e.Tree {
			t = TreeBlob
		}
		out[i] = PackedBlob{BlobHandle: BlobHandle{ID: e.ID, Type: t}, PackID: packID,
			Offset: e.Offset, Length: e.Length, UncompressedLength: e.UncompressedLength}
	}
	return out, nil
}

func loadRange(ctx context.Context, be backend.Backend, h backend.Handle, length int, offset int64) ([]byte, error) {
	buf := make([]byte, length)
	err := be.Load(ctx, h, length, offset, func(rd io.Reader) error {
		_, err := io.ReadFull(rd, buf)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load %v: %w", h, err)
	}
	return buf, nil
}
