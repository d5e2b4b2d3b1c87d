package checker

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/hugemem"
	"github.com/hbackup/hbackup/internal/sha256x2"
	"github.com/hbackup/hbackup/repo"
	"golang.org/x/sync/errgroup"
)

// ReadPacks reads the given packs completely, as many at once as the
// backend allows connections, and reports a PackError for each pack
// that fails: it cannot be downloaded (ErrPackRead, ErrPackMissing), its
// SHA-256 is not its name (ErrPackHash), a blob does not decrypt,
// decompress or hash to its ID (repo.ErrIntegrity), or its header
// disagrees with the index (ErrPackHeader). packs is usually
// IndexedPacks or a Subset of it.
func (c *Checker) ReadPacks(ctx context.Context, packs map[repo.ID]int64, report func(error)) error {
	if c.packs == nil {
		return errors.New("checker: ReadPacks before LoadIndex")
	}
	report = serial(report)
	blobs := blobsByPack(c.r.Index(), packs)
	ids := largestFirst(packs)
	sealedSize, plainSize := c.bufferSizes(packs, blobs)
	readers := make(chan *packReader, c.connections())
	for range cap(readers) {
		readers <- &packReader{c: c, sealedSize: sealedSize, plainSize: plainSize}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cap(readers))
	for _, id := range ids {
		g.Go(func() error {
			pr := <-readers // one is free: no more goroutines than readers
			defer func() { readers <- pr }()
			errs := pr.checkPack(gctx, id, blobs[id])
			if err := gctx.Err(); err != nil {
				return err
			}
			if len(errs) > 0 {
				report(&PackError{PackID: id, Errors: errs})
			}
			return nil
		})
	}
	err := g.Wait()
	for range cap(readers) {
		(<-readers).free()
	}
	return err
}

// blobsByPack returns the index entries of each of the packs, in one
// array sized by counting first: growing a slice per pack made garbage
// several times the size of the index.
func blobsByPack(idx *repo.MasterIndex, packs map[repo.ID]int64) map[repo.ID][]repo.PackedBlob {
	counts := make(map[repo.ID]int, len(packs))
	total := 0
	idx.Each(func(pb repo.PackedBlob) {
		if _, ok := packs[pb.PackID]; ok {
			counts[pb.PackID]++
			total++
		}
	})
	all := make([]repo.PackedBlob, 0, total)
	blobs := make(map[repo.ID][]repo.PackedBlob, len(counts))
	for id, n := range counts {
		blobs[id] = all[len(all) : len(all) : len(all)+n]
		all = all[:len(all)+n]
	}
	idx.Each(func(pb repo.PackedBlob) {
		if l, ok := blobs[pb.PackID]; ok {
			blobs[pb.PackID] = append(l, pb)
		}
	})
	return blobs
}

// largestFirst returns the packs' IDs, largest pack first (then by ID):
// small packs last keep the workers busy until about the same time.
func largestFirst(packs map[repo.ID]int64) []repo.ID {
	ids := slices.Collect(maps.Keys(packs))
	slices.SortFunc(ids, func(a, b repo.ID) int {
		return cmp.Or(cmp.Compare(packs[b], packs[a]), bytes.Compare(a[:], b[:]))
	})
	return ids
}

// packReader is what one ReadPacks worker keeps from pack to pack, so
// that reading a pack allocates no fresh memory: the buffer the pack is
// read into, the buffer compressed blobs are decrypted into, and the
// buffer for plaintexts.
type packReader struct {
	c       *Checker
	stream  packStream
	scratch []byte // from hugemem
	plain   []byte // from hugemem

	sealedSize, plainSize int // the buffer sizes to start with
}

// free gives the buffers back.
func (p *packReader) free() {
	p.stream.free()
	hugemem.Free(p.scratch)
	hugemem.Free(p.plain)
	p.scratch, p.plain = nil, nil
}

// checkPack reads one pack from start to end, hashing it and decoding
// each indexed blob on the way, then compares its header with the index.
func (p *packReader) checkPack(ctx context.Context, id repo.ID, blobs []repo.PackedBlob) []error {
	c := p.c
	h := backend.Handle{Type: backend.PackFile, Name: id.String()}
	size, ok := c.backendSizes[id]
	if !ok {
		fi, err := c.r.Backend().Stat(ctx, h)
		if errors.Is(err, backend.ErrNotExist) {
			return []error{fmt.Errorf("%w: %w", ErrPackRead, ErrPackMissing)}
		}
		if err != nil {
			return []error{fmt.Errorf("%w: %v", ErrPackRead, err)}
		}
		size = fi.Size
	}
	slices.SortFunc(blobs, func(a, b repo.PackedBlob) int { return cmp.Compare(a.Offset, b.Offset) })

	var blobErrs []error
	var sum repo.ID
	err := c.r.Backend().Load(ctx, h, 0, 0, func(rd io.Reader) error {
		blobErrs = nil // Load may call again on retry
		p.stream.reset(rd, p.sealedSize)
		var err error
		if blobErrs, err = p.readBlobs(size, blobs); err != nil {
			return err
		}
		if err := p.stream.drain(); err != nil {
			return err
		}
		sum = p.stream.sum()
		return nil
	})
	if err != nil {
		if errors.Is(err, backend.ErrNotExist) {
			return []error{fmt.Errorf("%w: %w", ErrPackRead, ErrPackMissing)}
		}
		if ctx.Err() != nil {
			return nil
		}
		return []error{fmt.Errorf("%w: %v", ErrPackRead, err)}
	}
	errs := blobErrs
	if sum != id {
		// Header and index positions say nothing more once the bytes are
		// known to be wrong.
		return append(errs, fmt.Errorf("%w: got %v", ErrPackHash, sum))
	}
	return append(errs, c.compareHeader(ctx, id, size, blobs)...)
}

// readBlobs decodes each blob from the pack stream, which is at the
// start of a pack of the given size. Damaged blobs are returned as
// problems; the error is a failed read.
func (p *packReader) readBlobs(size int64, blobs []repo.PackedBlob) ([]error, error) {
	var problems []error
	var pos int64
	for i, b := range blobs {
		off, end := int64(b.Offset), int64(b.Offset)+int64(b.Length)
		if end > size {
			// Blobs are sorted by offset: all the rest are cut off too.
			problems = append(problems, fmt.Errorf("%w: %d of %d indexed blobs lie past the end of the %d-byte file, from blob %v at offset %d on",
				ErrPackSize, len(blobs)-i, len(blobs), size, b.BlobHandle, off))
			break
		}
		if off < pos {
			problems = append(problems, fmt.Errorf("%w: blob %v at offset %d overlaps the previous blob", ErrPackHeader, b.BlobHandle, off))
			continue
		}
		if err := p.stream.skip(off - pos); err != nil {
			return nil, err
		}
		sealed, err := p.stream.take(int(b.Length))
		if err != nil {
			return nil, err
		}
		pos = end
		// Not decrypted in place: the stream hashes the stored bytes
		// beside the plaintext, in one pass.
		plain, err := p.c.r.OpenBlob(b, sealed, p.scratchFor(b), p.plainFor(b))
		if err != nil {
			problems = append(problems, err) // names the blob and the pack
			continue
		}
		var d sha256x2.Digest
		p.stream.hashTaken(&d, plain)
		if err := repo.CheckBlobSum(b, d.Sum()); err != nil {
			problems = append(problems, err)
		}
	}
	return problems, nil
}

// plainFor returns the buffer for b's plaintext, grown to hold it (an
// uncompressed blob is decrypted into it).
func (p *packReader) plainFor(b repo.PackedBlob) []byte {
	p.plain = grownBuffer(p.plain, int(max(b.UncompressedLength, b.Length)), p.plainSize)
	return p.plain[:0]
}

// scratchFor returns the buffer to decrypt b into before decompressing
// it: none for an uncompressed blob.
func (p *packReader) scratchFor(b repo.PackedBlob) []byte {
	if b.UncompressedLength == 0 {
		return nil
	}
	p.scratch = grownBuffer(p.scratch, int(b.Length), p.sealedSize)
	return p.scratch[:0]
}

// grownBuffer returns buf if it holds n bytes, else a buffer from
// hugemem for at least n and start bytes in its place.
func grownBuffer(buf []byte, n, start int) []byte {
	if cap(buf) >= n {
		return buf
	}
	hugemem.Free(buf)
	return hugemem.Alloc(roundBuffer(max(n, start)))
}

// maxStartBuffer bounds the buffer sizes taken from the index, which may
// be damaged; a larger blob still gets a buffer when it is read.
const maxStartBuffer = 64 << 20

// bufferSizes returns the largest stored and plaintext blob lengths among
// the blobs that lie within their pack, for the readers' buffers:
// grown blob by blob instead, each smaller size would be fresh memory
// paid for in vain.
func (c *Checker) bufferSizes(packs map[repo.ID]int64, blobs map[repo.ID][]repo.PackedBlob) (sealed, plain int) {
	for id, l := range blobs {
		size := packs[id]
		if s, ok := c.backendSizes[id]; ok {
			size = min(size, s)
		}
		for _, b := range l {
			if int64(b.Offset)+int64(b.Length) <= size {
				sealed = max(sealed, int(b.Length))
				plain = max(plain, int(max(b.UncompressedLength, b.Length)))
			}
		}
	}
	return min(sealed, maxStartBuffer), min(plain, maxStartBuffer)
}

// roundBuffer rounds a buffer size up to whole huge pages.
func roundBuffer(n int) int {
	return (n + streamRound - 1) / streamRound * streamRound
}

// compareHeader reads the pack header and requires each entry to equal an
// index entry for this pack exactly (type, offset, length, uncompressed
// length), and each index entry to be in the header.
func (c *Checker) compareHeader(ctx context.Context, id repo.ID, size int64, indexed []repo.PackedBlob) []error {
	hdr, err := c.r.ReadPackHeader(ctx, id, size)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return []error{fmt.Errorf("%w: %v", ErrPackHeader, err)}
	}
	// Sorting and binary search: maps cost more than the check. Sorted
	// by every field, indexed keeps its offset order.
	slices.SortFunc(indexed, comparePacked)
	slices.SortFunc(hdr, comparePacked)
	var errs []error
	for _, pb := range hdr {
		if !containsPacked(indexed, pb) {
			errs = append(errs, fmt.Errorf("%w: blob %v is not contained in index or position is incorrect", ErrPackHeader, pb.ID))
		}
	}
	for _, pb := range indexed {
		if !containsPacked(hdr, pb) {
			errs = append(errs, fmt.Errorf("%w: index entry for blob %v (offset %d, length %d) is not in the pack header", ErrPackHeader, pb.BlobHandle, pb.Offset, pb.Length))
		}
	}
	return errs
}

// comparePacked orders index entries by every field, offset first.
func comparePacked(a, b repo.PackedBlob) int {
	return cmp.Or(
		cmp.Compare(a.Offset, b.Offset),
		cmp.Compare(a.Length, b.Length),
		cmp.Compare(a.UncompressedLength, b.UncompressedLength),
		cmp.Compare(a.Type, b.Type),
		bytes.Compare(a.ID[:], b.ID[:]),
		bytes.Compare(a.PackID[:], b.PackID[:]),
	)
}

// containsPacked reports whether sorted, ordered by comparePacked, holds pb.
func containsPacked(sorted []repo.PackedBlob, pb repo.PackedBlob) bool {
	_, ok := slices.BinarySearchFunc(sorted, pb, comparePacked)
	return ok
}
