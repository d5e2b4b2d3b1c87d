package repo

import "fmt"

// BlobType tells data blobs (file content) from tree blobs (directories).
type BlobType uint8

// Blob types. The zero value is invalid.
const (
	DataBlob BlobType = iota + 1
	TreeBlob
)

func (t BlobType) String() string {
	switch t {
	case DataBlob:
		return "data"
	case TreeBlob:
		return "tree"
	}
	return fmt.Sprintf("blobtype(%d)", uint8(t))
}

// MarshalJSON encodes the type as "data" or "tree", as in index files.
func (t BlobType) MarshalJSON() ([]byte, error) {
	switch t {
	case DataBlob, TreeBlob:
		return []byte(`"` + t.String() + `"`), nil
	}
	return nil, fmt.Errorf("invalid blob type %d", uint8(t))
}

// UnmarshalJSON decodes "data" or "tree".
func (t *BlobType) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"data"`:
		*t = DataBlob
	case `"tree"`:
		*t = TreeBlob
	default:
		return fmt.Errorf("invalid blob type %s", b)
	}
	return nil
}

// BlobHandle identifies a blob: the same ID may exist as data and as tree.
type BlobHandle struct {
	ID   ID
	Type BlobType
}

func (h BlobHandle) String() string { return h.Type.String() + "/" + h.ID.Str() }

// PackedBlob is where a blob is stored: its pack and position there.
type PackedBlob struct {
	BlobHandle
	PackID ID
	// Offset and Length locate the encrypted blob (IV||ct||MAC) in the pack.
	Offset uint32
	Length uint32
	// UncompressedLength is the plaintext length of a compressed blob, and
	// 0 for a blob stored uncompressed.
	UncompressedLength uint32
}

// PlaintextLength returns the blob's plaintext size.
func (b PackedBlob) PlaintextLength() uint32 {
	if b.UncompressedLength != 0 {
		return b.UncompressedLength
	}
	return b.Length - 32
}
