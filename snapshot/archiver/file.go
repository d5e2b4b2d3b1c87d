package archiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/internal/sha256x2"
	"github.com/hbackup/hbackup/repo"
)

// fileBuffers are reused across files: allocating (and zeroing) a
// MaxSize chunk buffer per file dominated the cost of small files. The
// MaxSize buffers are only allocated for the first file that needs the
// chunker, so a backup of small files holds MinSize per worker, not
// MaxSize.
type fileBuffers struct {
	small   []byte    // MinSize: all of a file shorter than MinSize
	chunks  [2][]byte // MaxSize each, one per hash lane, or nil until a larger file came along
	chunker *chunk.Chunker
}

type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) get() *fileBuffers {
	if b, ok := p.pool.Get().(*fileBuffers); ok {
		return b
	}
	return &fileBuffers{small: make([]byte, chunk.MinSize)}
}

func (p *bufferPool) put(b *fileBuffers) { p.pool.Put(b) }

// readSmall reads a file that lstat found size bytes long into buf (which
// is longer), as io.ReadFull does, except that it stops with io.EOF once
// it has read size bytes, without asking for more: for a file shorter
// than buf that final read, answered with end of file, was one of the
// seven system calls a new small file costs. Bytes appended since lstat
// are then left to the next backup, as are those appended after the
// read; the node's size is the bytes read either way. A file that grew
// past buf fills it, and the caller reads the rest.
func readSmall(f io.Reader, buf []byte, size int) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err == nil && n == size {
			return n, io.EOF
		}
		if err != nil {
			if errors.Is(err, io.EOF) && n > 0 {
				return n, io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	return n, nil
}

// saveFile chunks a regular file and stores its chunks, returning the
// content IDs and the number of bytes read.
func (a *archiver) saveFile(ctx context.Context, path string, fi os.FileInfo) ([]repo.ID, uint64, error) {
	f, err := openSource(path, fi)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return a.saveOpened(ctx, f, path, fi)
}

// saveOpened is saveFile of the file f, open for reading.
func (a *archiver) saveOpened(ctx context.Context, f *srcFile, path string, fi os.FileInfo) ([]repo.ID, uint64, error) {
	a.reading.Add(1)
	defer a.reading.Add(-1)
	bufs := a.buffers.get()
	defer a.buffers.put(bufs)

	// Content shorter than the minimum chunk size is always one chunk, so
	// small files skip the chunker. A file that grew past the minimum
	// since lstat falls through to the chunker with what was read.
	var src io.Reader = f
	if fi.Size() < chunk.MinSize {
		n, err := readSmall(f, bufs.small, int(fi.Size()))
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if n == 0 {
				return []repo.ID{}, 0, nil
			}
			id, err := a.saveChunk(ctx, bufs.small[:n])
			if err != nil {
				return nil, 0, err
			}
			return []repo.ID{id}, uint64(n), nil
		case err != nil:
			return nil, 0, fmt.Errorf("read %s: %w", path, err)
		}
		prefix := append([]byte(nil), bufs.small[:n]...)
		src = io.MultiReader(bytes.NewReader(prefix), f)
	}

	if bufs.chunks[0] == nil {
		bufs.chunks = [2][]byte{make([]byte, chunk.MaxSize), make([]byte, chunk.MaxSize)}
	}
	pol := a.repo.Config().ChunkerPolynomial
	if bufs.chunker == nil {
		bufs.chunker = chunk.New(src, pol)
	} else {
		bufs.chunker.Reset(src, pol)
	}
	var saves fileSaves
	content, size, err := a.chunkFile(ctx, path, bufs, fi.Size(), &saves)
	// The node is complete, and the buffers are back, only once every
	// chunk handed to the savers is stored. A failed save (the repository
	// failing, or cancellation) wins over a read error: the backup must
	// stop, not skip the file.
	if serr := saves.wait(); serr != nil && !errors.As(err, new(repositoryError)) {
		err = serr
	}
	if err != nil {
		return nil, 0, err
	}
	return content, size, nil
}

// chunkFile reads the chunker's chunks and hashes them, building the
// content list in order. Chunks handed to the savers are stored in the
// background, tracked in saves.
//
// Two chunks are hashed at once, one per lane of a sha256x2.Pair (two
// hashes cost little more than one): each lane has a chunk buffer, and a
// lane whose chunk is hashed and stored takes the next chunk while the
// other lane's longer chunk is still being hashed.
func (a *archiver) chunkFile(ctx context.Context, path string, bufs *fileBuffers, fileSize int64, saves *fileSaves) ([]repo.ID, uint64, error) {
	content := []repo.ID{}
	var size uint64 // bytes read by the chunker so far
	var pair sha256x2.Pair
	type laneChunk struct {
		data  []byte
		index int    // in content
		end   uint64 // the chunk's end in the file
	}
	var lanes [2]laneChunk
	eof := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if err := saves.failed(); err != nil {
			return nil, 0, err
		}
		for i := range lanes {
			if pair.Busy(i) || eof {
				continue
			}
			data, err := bufs.chunker.Next(bufs.chunks[i])
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return nil, 0, fmt.Errorf("read %s: %w", path, err)
			}
			size += uint64(len(data))
			content = append(content, repo.ID{})
			lanes[i] = laneChunk{data: data, index: len(content) - 1, end: size}
			pair.Start(i, data)
		}
		if !pair.Busy(0) && !pair.Busy(1) {
			return content, size, nil
		}
		i, sum := pair.Next()
		c := lanes[i]
		id := repo.ID(sum)
		content[c.index] = id
		var err error
		switch {
		case a.cheapStore(id):
			err = a.storeChunk(ctx, id, c.data)
		case a.handOver(c.end, fileSize):
			err = a.savers.submit(ctx, saves, id, c.data)
		default:
			err = a.savers.store(ctx, id, c.data)
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// handOver tells whether to hand a chunk to the savers rather than store
// it on the reader: only while fewer files are being read than stores may
// run (otherwise every slot has a reader storing its own chunks, and the
// copy would buy nothing), and not for a file's last chunk as far as
// lstat knew (the reader would only wait for the savers).
func (a *archiver) handOver(read uint64, fileSize int64) bool {
	return int(a.reading.Load()) < a.savers.size() && read < uint64(fileSize)
}

// saveChunk hashes and stores one chunk of file content on the calling
// goroutine, in one of the savers' slots unless that is cheap.
func (a *archiver) saveChunk(ctx context.Context, data []byte) (repo.ID, error) {
	id := repo.Hash(data)
	if a.cheapStore(id) {
		return id, a.storeChunk(ctx, id, data)
	}
	return id, a.savers.store(ctx, id, data)
}

// cheapStore tells whether storing a chunk costs next to nothing: in a
// dry run, or when the blob is already in the index.
func (a *archiver) cheapStore(id repo.ID) bool {
	return a.opts.DryRun || a.repo.Index().Has(repo.BlobHandle{ID: id, Type: repo.DataBlob})
}

// storeChunk stores one chunk of file content with its ID. It is safe
// for concurrent use; errors are repositoryErrors.
func (a *archiver) storeChunk(ctx context.Context, id repo.ID, data []byte) error {
	known, packed, err := a.saveBlob(ctx, repo.DataBlob, id, data)
	if err != nil {
		return repositoryError{err}
	}
	if !known {
		a.progress.DataBlobs.Add(1)
		a.progress.DataAdded.Add(uint64(len(data)))
		a.progress.DataAddedPacked.Add(uint64(packed))
	}
	a.progress.Bytes.Add(uint64(len(data)))
	return nil
}

// repositoryError marks a failure to write to the repository. Unlike a
// source file that cannot be read, it is never skipped: the backup stops.
type repositoryError struct{ err error }

func (e repositoryError) Error() string { return e.err.Error() }
func (e repositoryError) Unwrap() error { return e.err }
