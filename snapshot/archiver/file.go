package archiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/repo"
)

// saveFile chunks a regular file and stores its chunks, returning the
// content IDs and the number of bytes read.
func (a *archiver) saveFile(ctx context.Context, path string, fi os.FileInfo) ([]repo.ID, uint64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	// The file may have been replaced since lstat; only read what is
	// still the same regular file.
	cur, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !cur.Mode().IsRegular() || !os.SameFile(cur, fi) {
		return nil, 0, fmt.Errorf("%s changed while it was being backed up", path)
	}

	buf := make([]byte, chunk.MaxSize)
	ch := chunk.New(f, a.repo.Config().ChunkerPolynomial)
	content := []repo.ID{}
	var size uint64
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		data, err := ch.Next(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", path, err)
		}
		id := repo.Hash(data)
		known, packed, err := a.saveBlob(ctx, repo.DataBlob, id, data)
		if err != nil {
			return nil, 0, repositoryError{err}
		}
		if !known {
			a.progress.DataBlobs.Add(1)
			a.progress.DataAdded.Add(uint64(len(data)))
			a.progress.DataAddedPacked.Add(uint64(packed))
		}
		content = append(content, id)
		size += uint64(len(data))
		a.progress.Bytes.Add(uint64(len(data)))
	}
	return content, size, nil
}

// repositoryError marks a failure to write to the repository. Unlike a
// source file that cannot be read, it is never skipped: the backup stops.
type repositoryError struct{ err error }

func (e repositoryError) Error() string { return e.err.Error() }
func (e repositoryError) Unwrap() error { return e.err }
