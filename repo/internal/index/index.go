// Package index encodes and decodes restic index files (the JSON inside
// index/<id>), listing which blobs each pack holds.
package index

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Blob is one blob entry of a pack in an index file.
type Blob struct {
	ID                 HexID  `json:"id"`
	Type               string `json:"type"`
	Offset             uint32 `json:"offset"`
	Length             uint32 `json:"length"`
	UncompressedLength uint32 `json:"uncompressed_length,omitempty"`
}

// Pack lists a pack's blobs.
type Pack struct {
	ID    HexID  `json:"id"`
	Blobs []Blob `json:"blobs"`
}

// File is a whole index file. Supersedes is read (old restic wrote it) but
// never written.
type File struct {
	Supersedes []HexID `json:"supersedes,omitempty"`
	Packs      []Pack  `json:"packs"`
}

// ErrInvalid wraps every decoding failure.
var ErrInvalid = errors.New("invalid index")

// Decode parses an index file. It also accepts the legacy format (a bare
// array of packs) that restic before 0.18 can still read.
func Decode(data []byte, allowCompressed bool) (*File, error) {
	f, ok := decodeFast(data)
	if !ok {
		var err error
		if f, err = decodeReflect(data); err != nil {
			return nil, err
		}
	}
	if err := f.check(allowCompressed); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeReflect is Decode's parsing by encoding/json: the reference for
// decodeFast and its fallback for anything unusual.
func decodeReflect(data []byte) (*File, error) {
	var f File
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(data, &f.Packs); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	} else if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &f, nil
}

// check rejects blob types, lengths and features restic would reject.
func (f *File) check(allowCompressed bool) error {
	for _, p := range f.Packs {
		for _, b := range p.Blobs {
			if b.Type != "data" && b.Type != "tree" {
				return fmt.Errorf("%w: pack %x: blob %x has type %q", ErrInvalid, p.ID[:4], b.ID[:4], b.Type)
			}
			if b.UncompressedLength != 0 && !allowCompressed {
				return fmt.Errorf("%w: index uses feature not supported by repository version 1", ErrInvalid)
			}
			if b.Length < 32 {
				return fmt.Errorf("%w: pack %x: blob %x length %d too short", ErrInvalid, p.ID[:4], b.ID[:4], b.Length)
			}
		}
	}
	return nil
}

// Encode writes the index as restic does: json.Encoder, so a trailing
// newline, fields in restic's order. An index is written at the end of
// every backup, after the last pack, while nothing else runs: encoding/json
// (reflection, and a MarshalJSON per ID whose output it then re-scans) took
// about 100 ms there for 20,000 blobs, so the bytes are appended directly
// (encodeFast) whenever that is certain to give the same bytes.
func Encode(f *File) ([]byte, error) {
	if data, ok := encodeFast(f); ok {
		return data, nil
	}
	return encodeReflect(f)
}

// encodeReflect is Encode by encoding/json: the reference for encodeFast
// and its fallback.
func encodeReflect(f *File) ([]byte, error) {
	var buf bytes.Buffer
	out := struct {
		Packs []Pack `json:"packs"`
	}{Packs: f.Packs}
	if out.Packs == nil {
		out.Packs = []Pack{}
	}
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeFast appends what encodeReflect writes. It declines (false) a blob
// type that is not plain lower-case letters, which JSON might escape.
func encodeFast(f *File) ([]byte, bool) {
	n := len(`{"packs":[]}`) + 1
	for _, p := range f.Packs {
		n += packSizeBound(&p) + 1
	}
	dst := make([]byte, 0, n)
	dst = append(dst, `{"packs":[`...)
	for i := range f.Packs {
		if i > 0 {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = AppendPack(dst, &f.Packs[i]); !ok {
			return nil, false
		}
	}
	dst = append(dst, "]}\n"...)
	return dst, true
}

// packSizeBound is an upper bound of p's encoding: IDs, field names, ten
// digits per number.
func packSizeBound(p *Pack) int {
	n := 100 + len(p.Blobs)*(64+100)
	for _, b := range p.Blobs {
		n += len(b.Type)
	}
	return n
}

// AppendPack appends p as Encode writes it in an index file's list of
// packs, for AppendJoin. It declines (false, dst unchanged) a blob type that is
// not plain lower-case letters, which JSON might escape; Encode then
// takes the slow path.
//
// A backup encodes each pack as it is uploaded, so that writing the index
// at the end, when nothing else is left to run, only joins the pieces.
func AppendPack(dst []byte, p *Pack) ([]byte, bool) {
	for _, b := range p.Blobs {
		if !plainWord(b.Type) {
			return dst, false
		}
	}
	dst = slices.Grow(dst, packSizeBound(p))
	dst = append(dst, `{"id":`...)
	dst = appendHexID(dst, p.ID)
	dst = append(dst, `,"blobs":`...)
	if p.Blobs == nil {
		return append(dst, "null}"...), true
	}
	dst = append(dst, '[')
	for j, b := range p.Blobs {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = appendHexID(dst, b.ID)
		dst = append(dst, `,"type":"`...)
		dst = append(dst, b.Type...)
		dst = append(dst, `","offset":`...)
		dst = strconv.AppendUint(dst, uint64(b.Offset), 10)
		dst = append(dst, `,"length":`...)
		dst = strconv.AppendUint(dst, uint64(b.Length), 10)
		if b.UncompressedLength != 0 {
			dst = append(dst, `,"uncompressed_length":`...)
			dst = strconv.AppendUint(dst, uint64(b.UncompressedLength), 10)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...), true
}

// JoinedSize is the length AppendJoin adds for packs.
func JoinedSize(packs [][]byte) int {
	n := len(`{"packs":[]}`+"\n") + max(len(packs)-1, 0) // and commas
	for _, p := range packs {
		n += len(p)
	}
	return n
}

// AppendJoin appends the index file listing the packs encoded by
// AppendPack, in order, to dst: the bytes Encode returns for those packs.
func AppendJoin(dst []byte, packs [][]byte) []byte {
	dst = append(dst, `{"packs":[`...)
	for i, p := range packs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, p...)
	}
	return append(dst, "]}\n"...)
}

// plainWord tells whether s is one or more lower-case ASCII letters.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// appendHexID appends id as a quoted JSON string of 64 hex digits.
func appendHexID(dst []byte, id HexID) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, id[:])
	return append(dst, '"')
}

// HexID is a 32-byte ID encoded as 64 hex characters in JSON.
type HexID [32]byte

// MarshalJSON implements json.Marshaler.
func (id HexID) MarshalJSON() ([]byte, error) {
	return appendHexID(make([]byte, 0, 66), id), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (id *HexID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if len(s) != 64 {
		return fmt.Errorf("invalid ID %q", s)
	}
	var out HexID
	for i := 0; i < 32; i++ {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return fmt.Errorf("invalid ID %q", s)
		}
		out[i] = hi<<4 | lo
	}
	*id = out
	return nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
