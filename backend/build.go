package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// FileBuilder is implemented by backends that can build a file in place
// and name it once its content is complete. The repository writes data
// packs this way where it can, so a pack is never held in memory as a
// whole: on a local disk, a first backup's pack buffers were most of its
// memory (three 16 MiB packs of a 90 MB peak). Decorators that must see
// every byte of an upload (rate limits, retries) do not implement it, and
// callers fall back to Save. A decorator that wraps a backend whose
// support it cannot know in advance implements it and returns an error
// wrapping errors.ErrUnsupported when the wrapped backend has none.
type FileBuilder interface {
	// CreateFile starts a new, empty file of type t.
	CreateFile(ctx context.Context, t FileType) (PendingFile, error)
}

// PendingFile is a file being built: it is written and read at any
// offset, then either committed under its final name or aborted. Until
// Commit returns, no reader of the backend sees it (List skips it), and a
// crash leaves at worst a temporary file. Its methods may be called
// concurrently, except that Commit and Abort must come after every write
// has returned, and only one of them once.
type PendingFile interface {
	io.WriterAt
	io.ReaderAt
	// Commit stores the file under h (of the type it was created with)
	// with the guarantees of Save: atomic, and as durable as a Save of the
	// same type. The file is gone from the pending state either way; after
	// an error nothing was stored under h.
	Commit(ctx context.Context, h Handle) error
	// Abort removes the file.
	Abort() error
	// Direct returns a writer of aligned blocks that bypass the page
	// cache, or nil where the file has none.
	Direct() DirectWriter
}

// DirectAlign is the alignment DirectWriter needs of a block's address
// in memory, its length and its offset in the file. It is the largest
// logical block size of the disks Linux writes to with O_DIRECT.
const DirectAlign = 4096

// DirectWriter writes blocks of a PendingFile past the page cache, for
// a caller that keeps the bytes it needs to read back (a pack's hash is
// computed from memory). On the benchmark VM, buffered writes of a 1.6
// GB file cost 1.5 to 2.5 s of system time and O_DIRECT writes 0.16 s:
// the page cache copy was the largest cost of a first backup but for
// hashing and chunking.
type DirectWriter interface {
	// WriteDirect writes p at off. Both len(p) and off must be multiples
	// of DirectAlign, and p must start at such an address. Where the file
	// system refuses (it may accept O_DIRECT and still not take a write),
	// the error wraps errors.ErrUnsupported and the caller writes the
	// same bytes with WriteAt.
	WriteDirect(p []byte, off int64) error
}

// CreateFile starts a file on be if it builds files in place; otherwise
// the error wraps errors.ErrUnsupported and the caller should use Save.
func CreateFile(ctx context.Context, be Backend, t FileType) (PendingFile, error) {
	fb, ok := be.(FileBuilder)
	if !ok {
		return nil, fmt.Errorf("%s: building files in place: %w", be.Location(), errors.ErrUnsupported)
	}
	return fb.CreateFile(ctx, t)
}
