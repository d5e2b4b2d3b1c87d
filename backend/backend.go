// Package backend defines the storage contract every hbackup repository
// backend implements: a flat store of named, immutable files grouped by type,
// laid out as restic lays them out.
package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// FileType names one of the kinds of files a restic repository holds.
type FileType int

// The file types of a restic repository. The zero value is invalid.
const (
	PackFile FileType = iota + 1
	KeyFile
	LockFile
	SnapshotFile
	IndexFile
	ConfigFile
)

// AllTypes lists every listable file type (ConfigFile is a single file).
var AllTypes = []FileType{PackFile, KeyFile, LockFile, SnapshotFile, IndexFile}

// String returns the directory name restic uses for the type.
func (t FileType) String() string {
	switch t {
	case PackFile:
		return "data"
	case KeyFile:
		return "keys"
	case LockFile:
		return "locks"
	case SnapshotFile:
		return "snapshots"
	case IndexFile:
		return "index"
	case ConfigFile:
		return "config"
	}
	return fmt.Sprintf("filetype(%d)", int(t))
}

// Handle names one file in a backend. Name is ignored for ConfigFile.
type Handle struct {
	Type FileType
	Name string
}

func (h Handle) String() string {
	if h.Type == ConfigFile {
		return "config"
	}
	return h.Type.String() + "/" + h.Name
}

// Valid reports whether the handle can name a file.
func (h Handle) Valid() error {
	if h.Type < PackFile || h.Type > ConfigFile {
		return fmt.Errorf("invalid file type %d", int(h.Type))
	}
	if h.Type != ConfigFile && h.Name == "" {
		return errors.New("empty file name")
	}
	return nil
}

// FileInfo describes a stored file.
type FileInfo struct {
	Name string
	Size int64
}

// Properties describes what a backend can do.
type Properties struct {
	// Connections is the number of concurrent requests the backend should
	// be given (uploads and downloads each).
	Connections int
	// HasAtomicReplace reports whether Save can replace an existing file
	// atomically (needed to rewrite config during a format upgrade).
	HasAtomicReplace bool
	// ParallelUploads is how many pack uploads at once make uploading
	// faster; 0 means Connections. Each upload in flight holds a pack in
	// memory, so a backend whose uploads share one pipe (a local disk,
	// one SSH connection) says so and saves that memory.
	ParallelUploads int
}

// Sentinel errors. Backends wrap them so errors.Is works through any
// decorator.
var (
	// ErrNotExist is returned (wrapped) when a file or the repository does
	// not exist.
	ErrNotExist = errors.New("file does not exist")
	// ErrAlreadyExists is returned (wrapped) by Create when a repository
	// already exists at the location, and by backends that refuse to
	// overwrite a file.
	ErrAlreadyExists = errors.New("file already exists")
)

// Backend is a store of immutable files. Implementations must be safe for
// concurrent use.
type Backend interface {
	// Location returns a human-readable description of where the files are.
	Location() string
	// Properties describes the backend's capabilities.
	Properties() Properties
	// Create prepares an empty repository structure (directories).
	Create(ctx context.Context) error
	// Save stores the reader's content under h atomically: a reader of h
	// sees either the previous state (no file, or the old file) or the
	// whole new file, and a failed Save changes nothing. Save fails if rd
	// yields a different number of bytes than rd.Length(). Save may rewind
	// rd and try again on a transient error.
	Save(ctx context.Context, h Handle, rd RewindReader) error
	// Load calls fn with a reader of length bytes of h starting at offset.
	// length 0 means "up to the end". fn may be called again on retry, so
	// it must not keep state from an earlier call. A read past the end of
	// the file is an error. An error from fn is returned (errors.Is
	// matches it).
	Load(ctx context.Context, h Handle, length int, offset int64, fn func(rd io.Reader) error) error
	// Stat returns the file's size; ErrNotExist if it is missing.
	Stat(ctx context.Context, h Handle) (FileInfo, error)
	// List calls fn for every file of type t, in no particular order. A
	// missing directory lists as empty. An error from fn stops the listing
	// and is returned.
	List(ctx context.Context, t FileType, fn func(FileInfo) error) error
	// Remove deletes the file; removing a missing file returns ErrNotExist.
	Remove(ctx context.Context, h Handle) error
	// Close releases resources; the backend must not be used afterwards.
	Close() error
}

// RewindReader is the content of a file to save: it knows its length and
// can start over, so uploads can be retried.
type RewindReader interface {
	io.Reader
	// Rewind starts reading from the beginning again.
	Rewind() error
	// Length is the total number of bytes the reader returns.
	Length() int64
}

// ByteReader is a RewindReader over a byte slice.
type ByteReader struct {
	buf []byte
	pos int
}

// NewByteReader returns a RewindReader over buf. buf must not change while
// the reader is in use.
func NewByteReader(buf []byte) *ByteReader { return &ByteReader{buf: buf} }

func (b *ByteReader) Read(p []byte) (int, error) {
	if b.pos >= len(b.buf) {
		return 0, io.EOF
	}
	n := copy(p, b.buf[b.pos:])
	b.pos += n
	return n, nil
}

// Rewind implements RewindReader.
func (b *ByteReader) Rewind() error { b.pos = 0; return nil }

// Length implements RewindReader.
func (b *ByteReader) Length() int64 { return int64(len(b.buf)) }

// Bytes returns the whole underlying slice.
func (b *ByteReader) Bytes() []byte { return b.buf }

// LoadAll reads a whole file into memory.
func LoadAll(ctx context.Context, be Backend, h Handle) ([]byte, error) {
	var out []byte
	err := be.Load(ctx, h, 0, 0, func(rd io.Reader) error {
		var err error
		out, err = io.ReadAll(rd)
		return err
	})
	return out, err
}

// CheckHandle checks what every call on one file (Save, Stat, Remove,
// Load) checks before any I/O: that ctx is not done and that h names a
// file (valid is the backend's own check of h). Its errors name op and
// h, and those about h are permanent: retrying cannot fix them.
func CheckHandle(ctx context.Context, op string, h Handle, valid func(Handle) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %v: %w", op, h, err)
	}
	if err := valid(h); err != nil {
		return fmt.Errorf("%s %v: %w", op, h, Permanent(err))
	}
	return nil
}

// CheckLoad is CheckHandle for Load, which also checks that length and
// offset are not negative (a permanent error too).
func CheckLoad(ctx context.Context, h Handle, length int, offset int64, valid func(Handle) error) error {
	if err := CheckHandle(ctx, "load", h, valid); err != nil {
		return err
	}
	if length < 0 || offset < 0 {
		return fmt.Errorf("load %v: %w", h, Permanent(fmt.Errorf("invalid range: length %d, offset %d", length, offset)))
	}
	return nil
}
