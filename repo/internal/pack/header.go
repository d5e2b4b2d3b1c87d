// Package pack encodes and decodes the plaintext header of restic pack
// files: one entry per blob, in the order the blobs are stored.
package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Entry type bytes of a pack header.
const (
	typeData           = 0
	typeTree           = 1
	typeDataCompressed = 2
	typeTreeCompressed = 3
)

// Sizes of header parts, as restic defines them.
const (
	PlainEntrySize      = 1 + 4 + 32     // type, length, id
	CompressedEntrySize = 1 + 4 + 4 + 32 // type, length, uncompressed length, id
	HeaderLengthSize    = 4
	// MaxHeaderSize bounds the encrypted header plus its length field.
	MaxHeaderSize = 16*1024*1024 + HeaderLengthSize
	// Overhead is the fixed cost of a header: crypto extension plus length.
	Overhead = 32 + HeaderLengthSize
	// MinFileSize is the smallest valid pack: one plain entry.
	MinFileSize = PlainEntrySize + 32 + HeaderLengthSize
	// EagerReadSize is how much of a pack's tail to read in one request
	// when looking for its header (15 compressed entries plus overhead).
	EagerReadSize = 15*CompressedEntrySize + Overhead
)

// Blob is one header entry. Offsets are not stored; they follow from the
// order and lengths of the entries.
type Blob struct {
	Tree bool
	ID   [32]byte
	// Length is the encrypted length (IV || ciphertext || MAC).
	Length uint32
	// UncompressedLength is 0 for uncompressed blobs.
	UncompressedLength uint32
	// Offset is computed by Decode.
	Offset uint32
}

// EntrySize returns the header bytes the blob's entry takes.
func (b Blob) EntrySize() int {
	if b.UncompressedLength != 0 {
		return CompressedEntrySize
	}
	return PlainEntrySize
}

// AppendEntry appends the blob's header entry to buf.
func AppendEntry(buf []byte, b Blob) []byte {
	t := byte(typeData)
	if b.Tree {
		t = typeTree
	}
	if b.UncompressedLength != 0 {
		t += 2
	}
	buf = append(buf, t)
	buf = binary.LittleEndian.AppendUint32(buf, b.Length)
	if b.UncompressedLength != 0 {
		buf = binary.LittleEndian.AppendUint32(buf, b.UncompressedLength)
	}
	return append(buf, b.ID[:]...)
}

// ErrInvalidHeader wraps every decoding failure.
var ErrInvalidHeader = errors.New("invalid pack header")

// Decode parses a decrypted header and computes blob offsets. allowCompressed
// is false for repository version 1, where entry types 2 and 3 are invalid.
func Decode(header []byte, allowCompressed bool) ([]Blob, error) {
	var blobs []Blob
	var offset uint64
	for pos := 0; pos < len(header); {
		t := header[pos]
		var b Blob
		switch t {
		case typeData, typeTree:
			if len(header)-pos < PlainEntrySize {
				return nil, fmt.Errorf("%w: truncated entry at byte %d", ErrInvalidHeader, pos)
			}
			b.Length = binary.LittleEndian.Uint32(header[pos+1:])
			copy(b.ID[:], header[pos+5:pos+37])
			pos += PlainEntrySize
		case typeDataCompressed, typeTreeCompressed:
			if !allowCompressed {
				return nil, fmt.Errorf("%w: compressed blob in a version 1 repository", ErrInvalidHeader)
			}
			if len(header)-pos < CompressedEntrySize {
				return nil, fmt.Errorf("%w: truncated entry at byte %d", ErrInvalidHeader, pos)
			}
			b.Length = binary.LittleEndian.Uint32(header[pos+1:])
			b.UncompressedLength = binary.LittleEndian.Uint32(header[pos+5:])
			copy(b.ID[:], header[pos+9:pos+41])
			pos += CompressedEntrySize
			if b.UncompressedLength == 0 {
				return nil, fmt.Errorf("%w: compressed blob with zero length", ErrInvalidHeader)
			}
		default:
			return nil, fmt.Errorf("%w: invalid type %d at byte %d", ErrInvalidHeader, t, pos)
		}
		b.Tree = t == typeTree || t == typeTreeCompressed
		if b.Length < 32 {
			return nil, fmt.Errorf("%w: blob length %d too short", ErrInvalidHeader, b.Length)
		}
		if offset+uint64(b.Length) > 1<<32-1 {
			return nil, fmt.Errorf("%w: blobs exceed 4 GiB", ErrInvalidHeader)
		}
		b.Offset = uint32(offset)
		offset += uint64(b.Length)
		blobs = append(blobs, b)
	}
	return blobs, nil
}

// DataSize returns the bytes the blobs take before the header.
func DataSize(blobs []Blob) uint64 {
	var n uint64
	for _, b := range blobs {
		n += uint64(b.Length)
	}
	return n
}

// HeaderLength parses the trailing 4-byte little-endian header length of a
// pack of fileSize bytes and checks it as restic does.
func HeaderLength(trailer []byte, fileSize int64) (uint32, error) {
	if len(trailer) != HeaderLengthSize {
		return 0, fmt.Errorf("%w: need %d trailer bytes", ErrInvalidHeader, HeaderLengthSize)
	}
	n := binary.LittleEndian.Uint32(trailer)
	switch {
	case n == 0:
		return 0, fmt.Errorf("%w: header length is zero", ErrInvalidHeader)
	case n < 32:
		return 0, fmt.Errorf("%w: header length %d too small", ErrInvalidHeader, n)
	case int64(n) > fileSize-HeaderLengthSize:
		return 0, fmt.Errorf("%w: header length %d larger than file (%d bytes)", ErrInvalidHeader, n, fileSize)
	case n > MaxHeaderSize-HeaderLengthSize:
		return 0, fmt.Errorf("%w: header length %d exceeds maximum", ErrInvalidHeader, n)
	}
	return n, nil
}
