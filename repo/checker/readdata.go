package checker

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hbackup/hbackup/backend"
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
	blobs := make(map[repo.ID][]repo.PackedBlob, len(packs))
	c.r.Index().Each(func(pb repo.PackedBlob) {
		if _, ok := packs[pb.PackID]; ok {
			blobs[pb.PackID] = append(blobs[pb.PackID], pb)
		}
	})
	ids := make([]repo.ID, 0, len(packs))
	for id := range packs {
		ids = append(ids, id)
	}
	sortIDs(ids)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.connections())
	for _, id := range ids {
		g.Go(func() error {
			errs := c.checkPack(gctx, id, blobs[id])
			if err := gctx.Err(); err != nil {
				return err
			}
			if len(errs) > 0 {
				report(&PackError{PackID: id, Errors: errs})
			}
			return nil
		})
	}
	return g.Wait()
}

// checkPack reads one pack from start to end, hashing it and decoding
// each indexed blob on the way, then compares its header with the index.
func (c *Checker) checkPack(ctx context.Context, id repo.ID, blobs []repo.PackedBlob) []error {
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
	slices.SortFunc(blobs, func(a, b repo.PackedBlob) int { return int(a.Offset) - int(b.Offset) })

	var blobErrs []error
	var sum repo.ID
	err := c.r.Backend().Load(ctx, h, 0, 0, func(rd io.Reader) error {
		blobErrs = nil // Load may call again on retry
		hash := sha256.New()
		br := bufio.NewReaderSize(io.TeeReader(rd, hash), 256<<10)
		var err error
		if blobErrs, err = c.readBlobs(br, size, blobs); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, br); err != nil {
			return err
		}
		hash.Sum(sum[:0])
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

// readBlobs decodes each blob from br, which is positioned at the start
// of a pack of the given size. Damaged blobs are returned as problems; the
// error is a failed read.
func (c *Checker) readBlobs(br *bufio.Reader, size int64, blobs []repo.PackedBlob) ([]error, error) {
	var problems []error
	var pos int64
	dec := c.r.NewBlobDecoder()
	defer dec.Release()
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
		if _, err := br.Discard(int(off - pos)); err != nil {
			return nil, err
		}
		sealed := dec.SealedBuffer(int(b.Length))
		if _, err := io.ReadFull(br, sealed); err != nil {
			return nil, err
		}
		pos = end
		if _, err := dec.Decode(b, sealed); err != nil {
			problems = append(problems, err) // names the blob and the pack
		}
	}
	return problems, nil
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
	var errs []error
	inIndex := make(map[repo.PackedBlob]bool, len(indexed))
	for _, pb := range indexed {
		inIndex[pb] = true
	}
	inHeader := make(map[repo.PackedBlob]bool, len(hdr))
	for _, pb := range hdr {
		inHeader[pb] = true
		if !inIndex[pb] {
			errs = append(errs, fmt.Errorf("%w: blob %v is not contained in index or position is incorrect", ErrPackHeader, pb.ID))
		}
	}
	for _, pb := range indexed {
		if !inHeader[pb] {
			errs = append(errs, fmt.Errorf("%w: index entry for blob %v (offset %d, length %d) is not in the pack header", ErrPackHeader, pb.BlobHandle, pb.Offset, pb.Length))
		}
	}
	return errs
}
