package index

import (
	"bytes"
	"encoding/hex"
	"unicode/utf8"

	"github.com/hbackup/hbackup/internal/jsonscan"
)

// decodeFast decodes the index shapes restic and hbackup write without
// reflection, with the results of decodeReflect (before Decode's checks).
// It reports false for anything it does not reproduce exactly, syntax
// errors included; Decode then runs decodeReflect.
//
// Declined on purpose: keys that only match a field case-insensitively or
// contain escapes, duplicate keys, escaped IDs or type strings, types with
// invalid UTF-8, numbers that are not plain unsigned 32-bit integers,
// null IDs, nesting deeper than jsonscan.MaxSkipDepth and type mismatches.
func decodeFast(data []byte) (*File, bool) {
	// Every blob is an object: counting '{' bounds the blobs cheaply. A
	// valid blob takes over 96 bytes, which bounds the memory that odd
	// input (say all '{') makes us reserve.
	est := min(bytes.Count(data, []byte{'{'}), len(data)/96+1)
	d := decoder{Scanner: jsonscan.Scanner{Data: data}, blobs: make([]Blob, 0, est)}
	f := &File{}
	d.WS()
	var ok bool
	switch {
	case d.Peek() == '[': // the legacy format: a bare array of packs
		f.Packs, ok = d.packs()
	case d.Null():
		ok = true
	case d.Consume('{'):
		var seenPacks, seenSupersedes bool
		ok = d.Object(false, func(key []byte) bool {
			switch string(key) {
			case "packs":
				if seenPacks {
					return false
				}
				seenPacks = true
				if d.Null() {
					return true
				}
				var ok bool
				f.Packs, ok = d.packs()
				return ok
			case "supersedes":
				if seenSupersedes {
					return false
				}
				seenSupersedes = true
				if d.Null() {
					return true
				}
				var ok bool
				f.Supersedes, ok = d.ids()
				return ok
			}
			return jsonscan.PlainKey(key) && d.Skip(0)
		})
	}
	if !ok {
		return nil, false
	}
	d.WS()
	return f, d.Pos == len(d.Data)
}

// decoder is a cursor over one index file plus a slab the blob lists are
// carved from.
type decoder struct {
	jsonscan.Scanner
	blobs []Blob
}

// id decodes a string of 64 hex digits, either case, as HexID does.
func (d *decoder) id(id *HexID) bool {
	if len(d.Data)-d.Pos < 66 || d.Data[d.Pos] != '"' || d.Data[d.Pos+65] != '"' {
		return false
	}
	// hex.Decode takes either case, as HexID does, and is table driven.
	if _, err := hex.Decode(id[:], d.Data[d.Pos+1:d.Pos+65]); err != nil {
		return false
	}
	d.Pos += 66
	return true
}

// ids reads a list of IDs; [] gives an empty non-nil slice as in
// encoding/json.
func (d *decoder) ids() ([]HexID, bool) {
	if !d.Consume('[') {
		return nil, false
	}
	list := []HexID{}
	ok := d.Array(func() bool {
		list = append(list, HexID{})
		return d.id(&list[len(list)-1])
	})
	return list, ok
}

// packs reads a list of packs; [] gives an empty non-nil slice.
func (d *decoder) packs() ([]Pack, bool) {
	if !d.Consume('[') {
		return nil, false
	}
	list := []Pack{}
	ok := d.Array(func() bool {
		if !d.Consume('{') {
			return false // null gives a zero pack; left to encoding/json
		}
		list = append(list, Pack{})
		p := &list[len(list)-1]
		var seenID, seenBlobs bool
		return d.Object(false, func(key []byte) bool {
			switch string(key) {
			case "id":
				if seenID {
					return false
				}
				seenID = true
				return d.id(&p.ID)
			case "blobs":
				if seenBlobs {
					return false
				}
				seenBlobs = true
				if d.Null() {
					return true
				}
				var ok bool
				p.Blobs, ok = d.blobList()
				return ok
			}
			return jsonscan.PlainKey(key) && d.Skip(0)
		})
	})
	return list, ok
}

// blobList reads the blobs of a pack into the slab, capping the capacity
// so that appends reallocate; [] gives an empty non-nil slice.
func (d *decoder) blobList() ([]Blob, bool) {
	if !d.Consume('[') {
		return nil, false
	}
	start := len(d.blobs)
	ok := d.Array(func() bool {
		if !d.Consume('{') {
			return false
		}
		if len(d.blobs) == cap(d.blobs) {
			// Only when the estimate was wrong; keep this list contiguous.
			done := d.blobs[start:]
			slab := make([]Blob, len(done), 2*len(done)+64)
			copy(slab, done)
			d.blobs, start = slab, 0
		}
		d.blobs = d.blobs[:len(d.blobs)+1]
		return d.blob(&d.blobs[len(d.blobs)-1])
	})
	if !ok {
		return nil, false
	}
	if len(d.blobs) == start {
		return []Blob{}, true
	}
	return d.blobs[start:len(d.blobs):len(d.blobs)], true
}

// blob reads the members of one blob object into the zeroed b. A null
// number or type leaves the field zero, as in encoding/json.
func (d *decoder) blob(b *Blob) bool {
	var seen uint8
	return d.Object(false, func(key []byte) bool {
		var bit uint8
		var field *uint32
		switch string(key) {
		case "id":
			bit = 1
		case "type":
			bit = 2
		case "offset":
			bit, field = 4, &b.Offset
		case "length":
			bit, field = 8, &b.Length
		case "uncompressed_length":
			bit, field = 16, &b.UncompressedLength
		default:
			return jsonscan.PlainKey(key) && d.Skip(0)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch {
		case bit == 1:
			return d.id(&b.ID)
		case d.Null():
			return true
		case bit == 2:
			raw, esc, ok := d.RawString()
			if !ok || esc || !utf8.Valid(raw) {
				return false
			}
			switch string(raw) {
			case "data":
				b.Type = "data"
			case "tree":
				b.Type = "tree"
			default:
				b.Type = string(raw)
			}
			return true
		}
		var ok bool
		*field, ok = d.uint32()
		return ok
	})
}

// uint32 reads a number that must be a plain unsigned 32-bit integer.
func (d *decoder) uint32() (uint32, bool) {
	v, ok := d.Uint(32)
	return uint32(v), ok
}
