package index

import (
	"bytes"
	"encoding/hex"
	"unicode/utf8"
)

// decodeFast decodes the index shapes restic and hbackup write without
// reflection, with the results of decodeReflect (before Decode's checks).
// It reports false for anything it does not reproduce exactly, syntax
// errors included; Decode then runs decodeReflect.
//
// Declined on purpose: keys that only match a field case-insensitively or
// contain escapes, duplicate keys, escaped IDs or type strings, types with
// invalid UTF-8, numbers that are not plain unsigned 32-bit integers,
// null IDs, nesting deeper than maxSkipDepth and type mismatches.
func decodeFast(data []byte) (*File, bool) {
	// Every blob is an object: counting '{' bounds the blobs cheaply. A
	// valid blob takes over 96 bytes, which bounds the memory that odd
	// input (say all '{') makes us reserve.
	est := min(bytes.Count(data, []byte{'{'}), len(data)/96+1)
	d := decoder{data: data, blobs: make([]Blob, 0, est)}
	f := &File{}
	d.ws()
	var ok bool
	switch {
	case d.peek() == '[': // the legacy format: a bare array of packs
		f.Packs, ok = d.packs()
	case d.null():
		ok = true
	case d.consume('{'):
		var seenPacks, seenSupersedes bool
		ok = d.object(func(key []byte) bool {
			switch string(key) {
			case "packs":
				if seenPacks {
					return false
				}
				seenPacks = true
				if d.null() {
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
				if d.null() {
					return true
				}
				var ok bool
				f.Supersedes, ok = d.ids()
				return ok
			}
			return plainKey(key) && d.skip(0)
		})
	}
	if !ok {
		return nil, false
	}
	d.ws()
	return f, d.pos == len(d.data)
}

// decoder is a cursor over one index file plus a slab the blob lists are
// carved from.
type decoder struct {
	data  []byte
	pos   int
	blobs []Blob
}

// maxSkipDepth bounds nesting in skipped values; deeper input is left to
// encoding/json, which has its own limit.
const maxSkipDepth = 100

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) consume(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// literal consumes lit if the input continues with it; the caller checks
// what follows.
func (d *decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

func (d *decoder) null() bool { return d.literal("null") }

// object reads the members of an object whose '{' was consumed, calling
// field for each key with the cursor on the value; field must consume the
// value. Keys with escapes are declined: they may match a field.
func (d *decoder) object(field func(key []byte) bool) bool {
	d.ws()
	if d.consume('}') {
		return true
	}
	for {
		key, esc, ok := d.rawString()
		if !ok || esc {
			return false
		}
		d.ws()
		if !d.consume(':') {
			return false
		}
		d.ws()
		if !field(key) {
			return false
		}
		d.ws()
		if d.consume(',') {
			d.ws()
			continue
		}
		return d.consume('}')
	}
}

// array reads the elements of an array whose '[' was consumed.
func (d *decoder) array(elem func() bool) bool {
	d.ws()
	if d.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		d.ws()
		if d.consume(',') {
			d.ws()
			continue
		}
		return d.consume(']')
	}
}

// plainKey reports whether an unmatched key is certainly unknown to
// encoding/json: without upper case or non-ASCII bytes it cannot match a
// (lower-case ASCII) field name case-insensitively.
func plainKey(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// rawString scans a JSON string, validating its escapes, and returns the
// bytes between the quotes and whether any escape occurs.
func (d *decoder) rawString() (raw []byte, esc, ok bool) {
	if d.peek() != '"' {
		return nil, false, false
	}
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i], esc, true
		case c == '\\':
			esc = true
			i++
			if i >= len(d.data) {
				return nil, false, false
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d.data) {
					return nil, false, false
				}
				for _, h := range d.data[i+1 : i+5] {
					if _, ok := unhex(h); !ok {
						return nil, false, false
					}
				}
				i += 4
			default:
				return nil, false, false
			}
		default: // control character
			return nil, false, false
		}
	}
	return nil, false, false
}

// skip validates and consumes one JSON value.
func (d *decoder) skip(depth int) bool {
	switch d.peek() {
	case '"':
		_, _, ok := d.rawString()
		return ok
	case '{':
		if depth >= maxSkipDepth {
			return false
		}
		d.pos++
		return d.object(func([]byte) bool { return d.skip(depth + 1) })
	case '[':
		if depth >= maxSkipDepth {
			return false
		}
		d.pos++
		return d.array(func() bool { return d.skip(depth + 1) })
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.null()
	default:
		return d.number()
	}
}

// number validates a JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (d *decoder) number() bool {
	d.consume('-')
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case '1' <= c && c <= '9':
		d.digits()
	default:
		return false
	}
	if d.consume('.') && !d.digits() {
		return false
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if !d.digits() {
			return false
		}
	}
	return true
}

// digits consumes [0-9]* and reports whether there was at least one.
func (d *decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// uint32 reads a number that must be a plain unsigned 32-bit integer;
// anything else is an error in encoding/json, so it is declined.
func (d *decoder) uint32() (uint32, bool) {
	start := d.pos
	var v uint64
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
		if v > 1<<32-1 {
			return 0, false
		}
		d.pos++
	}
	n := d.pos - start
	if n == 0 || n > 1 && d.data[start] == '0' {
		return 0, false
	}
	if c := d.peek(); c == '.' || c == 'e' || c == 'E' {
		return 0, false
	}
	return uint32(v), true
}

// id decodes a string of 64 hex digits, either case, as HexID does.
func (d *decoder) id(id *HexID) bool {
	if len(d.data)-d.pos < 66 || d.data[d.pos] != '"' || d.data[d.pos+65] != '"' {
		return false
	}
	// hex.Decode takes either case, as HexID does, and is table driven.
	if _, err := hex.Decode(id[:], d.data[d.pos+1:d.pos+65]); err != nil {
		return false
	}
	d.pos += 66
	return true
}

// ids reads a list of IDs; [] gives an empty non-nil slice as in
// encoding/json.
func (d *decoder) ids() ([]HexID, bool) {
	if !d.consume('[') {
		return nil, false
	}
	list := []HexID{}
	ok := d.array(func() bool {
		list = append(list, HexID{})
		return d.id(&list[len(list)-1])
	})
	return list, ok
}

// packs reads a list of packs; [] gives an empty non-nil slice.
func (d *decoder) packs() ([]Pack, bool) {
	if !d.consume('[') {
		return nil, false
	}
	list := []Pack{}
	ok := d.array(func() bool {
		if !d.consume('{') {
			return false // null gives a zero pack; left to encoding/json
		}
		list = append(list, Pack{})
		p := &list[len(list)-1]
		var seenID, seenBlobs bool
		return d.object(func(key []byte) bool {
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
				if d.null() {
					return true
				}
				var ok bool
				p.Blobs, ok = d.blobList()
				return ok
			}
			return plainKey(key) && d.skip(0)
		})
	})
	return list, ok
}

// blobList reads the blobs of a pack into the slab, capping the capacity
// so that appends reallocate; [] gives an empty non-nil slice.
func (d *decoder) blobList() ([]Blob, bool) {
	if !d.consume('[') {
		return nil, false
	}
	start := len(d.blobs)
	ok := d.array(func() bool {
		if !d.consume('{') {
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
	return d.object(func(key []byte) bool {
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
			return plainKey(key) && d.skip(0)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch {
		case bit == 1:
			return d.id(&b.ID)
		case d.null():
			return true
		case bit == 2:
			raw, esc, ok := d.rawString()
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
