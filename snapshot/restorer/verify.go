package restorer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/hbackup/hbackup/repo"
)

// ErrContentMismatch is returned (wrapped) by verification when a restored
// file does not hold the content the snapshot describes.
var ErrContentMismatch = errors.New("restored content does not match the snapshot")

// verifyAll checks every completely written file, GOMAXPROCS at a time,
// since hashing costs more than reading.
func (rs *restorer) verifyAll(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan *fileJob)
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			var buf []byte // one per worker, grown to the largest blob
			for job := range jobs {
				var err error
				if buf, err = verifyFile(job.path, job.blobs, buf); err != nil {
					if err := rs.fileFailed(gctx, job, err); err != nil {
						return err
					}
					continue
				}
				rs.nVerified.Add(1)
			}
			return nil
		})
	}
feed:
	for _, job := range rs.files {
		if job.failed.Load() || job.pending.Load() != 0 {
			continue
		}
		select {
		case jobs <- job:
		case <-gctx.Done():
			break feed
		}
	}
	close(jobs)
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// verifyFile reads the file at path and checks that it consists of exactly
// the given blobs, in order. buf is reused and returned, possibly grown.
func verifyFile(path string, blobs []blobRef, buf []byte) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return buf, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	var off int64
	for _, b := range blobs {
		if cap(buf) < int(b.length) {
			buf = make([]byte, b.length)
		}
		p := buf[:b.length]
		if _, err := io.ReadFull(f, p); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: file ends before offset %d", ErrContentMismatch, off+int64(b.length))
			}
			return buf, fmt.Errorf("verify %s: %w", path, err)
		}
		if repo.Hash(p) != b.id {
			return buf, fmt.Errorf("verify %s: %d bytes at offset %d: %w (blob %s)", path, b.length, off, ErrContentMismatch, b.id.Str())
		}
		off += int64(b.length)
	}
	var one [1]byte
	switch n, err := f.Read(one[:]); {
	case n > 0:
		return buf, fmt.Errorf("verify %s: %w: file is longer than %d bytes", path, ErrContentMismatch, off)
	case err != nil && !errors.Is(err, io.EOF):
		return buf, fmt.Errorf("verify %s: %w", path, err)
	}
	return buf, nil
}
