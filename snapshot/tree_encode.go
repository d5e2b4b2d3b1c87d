package snapshot

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendNode appends to dst the bytes json.Marshal(n) gives (through
// Node.MarshalJSON), without reflection. Tree IDs are hashes of these
// bytes, so it must match byte for byte; it reports false for what it does
// not reproduce exactly, and the caller then truncates dst and uses
// json.Marshal.
//
// Declined on purpose: times whose year is outside [0, 9999] (restic's
// clamping applies) or whose zone encoding/json refuses, and generic
// attribute values that are invalid JSON or that encoding/json would
// rewrite (whitespace, <, >, &, U+2028, U+2029).
func appendNode(dst []byte, n *Node) ([]byte, bool) {
	var ok bool
	dst = append(dst, `{"name":`...)
	dst = appendName(dst, n.Name)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, string(n.Type))
	if n.Mode != 0 {
		dst = append(dst, `,"mode":`...)
		dst = strconv.AppendUint(dst, uint64(n.Mode), 10)
	}
	dst = append(dst, `,"mtime":`...)
	start := len(dst)
	if dst, ok = appendTime(dst, n.ModTime); !ok {
		return dst, false
	}
	mtime := dst[start:]
	// The times are often equal; identical time.Time values (same wall
	// clock, monotonic reading and *Location) format identically.
	dst = append(dst, `,"atime":`...)
	if n.AccessTime == n.ModTime {
		dst = append(dst, mtime...)
	} else if dst, ok = appendTime(dst, n.AccessTime); !ok {
		return dst, false
	}
	dst = append(dst, `,"ctime":`...)
	if n.ChangeTime == n.ModTime {
		dst = append(dst, mtime...)
	} else if dst, ok = appendTime(dst, n.ChangeTime); !ok {
		return dst, false
	}
	dst = append(dst, `,"uid":`...)
	dst = strconv.AppendUint(dst, uint64(n.UID), 10)
	dst = append(dst, `,"gid":`...)
	dst = strconv.AppendUint(dst, uint64(n.GID), 10)
	if n.User != "" {
		dst = append(dst, `,"user":`...)
		dst = appendJSONString(dst, n.User)
	}
	if n.Group != "" {
		dst = append(dst, `,"group":`...)
		dst = appendJSONString(dst, n.Group)
	}
	dst = appendUintField(dst, `,"inode":`, n.Inode)
	dst = appendUintField(dst, `,"device_id":`, n.DeviceID)
	dst = appendUintField(dst, `,"size":`, n.Size)
	dst = appendUintField(dst, `,"links":`, n.Links)
	if n.LinkTarget != "" {
		dst = append(dst, `,"linktarget":`...)
		dst = appendJSONString(dst, n.LinkTarget)
	}
	// As Node.MarshalJSON: the raw bytes go along only when LinkTargetRaw
	// is nil and the target is not UTF-8; an empty slice is omitted.
	switch {
	case len(n.LinkTargetRaw) > 0:
		dst = append(dst, `,"linktarget_raw":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, n.LinkTargetRaw)
		dst = append(dst, '"')
	case n.LinkTargetRaw == nil && !utf8.ValidString(n.LinkTarget):
		dst = append(dst, `,"linktarget_raw":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, []byte(n.LinkTarget))
		dst = append(dst, '"')
	}
	if len(n.ExtendedAttributes) > 0 {
		dst = append(dst, `,"extended_attributes":[`...)
		for i, a := range n.ExtendedAttributes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = appendJSONString(dst, a.Name)
			dst = append(dst, `,"value":`...)
			if a.Value == nil {
				dst = append(dst, "null"...)
			} else {
				dst = append(dst, '"')
				dst = base64.StdEncoding.AppendEncode(dst, a.Value)
				dst = append(dst, '"')
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(n.GenericAttributes) > 0 {
		if dst, ok = appendGeneric(dst, n.GenericAttributes); !ok {
			return dst, false
		}
	}
	dst = appendUintField(dst, `,"device":`, n.Device)
	dst = append(dst, `,"content":`...)
	if n.Content == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendID(dst, n.Content[i][:])
		}
		dst = append(dst, ']')
	}
	if n.Subtree != nil {
		dst = append(dst, `,"subtree":`...)
		dst = appendID(dst, n.Subtree[:])
	}
	if n.Error != "" {
		dst = append(dst, `,"error":`...)
		dst = appendJSONString(dst, n.Error)
	}
	return append(dst, '}'), true
}

// encodedSizeHint guesses the encoded size of n from its variable-length
// parts, a little over for typical nodes; escapes can make it more.
func encodedSizeHint(n *Node) int {
	size := 350 + len(n.Name) + len(n.User) + len(n.Group) + len(n.Error) +
		2*len(n.LinkTarget) + 67*len(n.Content)
	if n.Subtree != nil {
		size += 80
	}
	for _, a := range n.ExtendedAttributes {
		size += 32 + len(a.Name) + 2*len(a.Value)
	}
	for k, v := range n.GenericAttributes {
		size += 8 + len(k) + len(v)
	}
	return size
}

// appendUintField writes an omitempty integer field.
func appendUintField(dst []byte, key string, v uint64) []byte {
	if v == 0 {
		return dst
	}
	dst = append(dst, key...)
	return strconv.AppendUint(dst, v, 10)
}

// appendID writes an ID as repo.ID.MarshalJSON does: quoted lowercase hex.
func appendID(dst, id []byte) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, id)
	return append(dst, '"')
}

// appendTime writes t as time.Time.MarshalJSON does, which formats with
// RFC3339Nano and then rejects some results; those are declined here.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	dst = append(dst, '"')
	start := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	if dst[start+4] != '-' {
		// Year not 4 digits: Node.MarshalJSON clamps it first.
		return dst, false
	}
	if end := len(dst); dst[end-1] != 'Z' {
		// The same zone check as time.Time.MarshalJSON: hours below 24.
		c := dst[end-6]
		if '0' <= c && c <= '9' || 10*(dst[end-5]-'0')+(dst[end-4]-'0') >= 24 {
			return dst, false
		}
	}
	return append(dst, '"'), true
}

// appendName writes the name as Node.MarshalJSON does: strconv.Quote
// without the outer quotes, then as a JSON string.
func appendName(dst []byte, name string) []byte {
	if quotePlain(name) {
		// Neither quoting changes it.
		dst = append(dst, '"')
		dst = append(dst, name...)
		return append(dst, '"')
	}
	var scratch [128]byte
	q := strconv.AppendQuote(scratch[:0], name)
	return appendJSONString(dst, q[1:len(q)-1])
}

// quotePlain reports whether strconv.Quote leaves s as is (apart from the
// quotes) and JSON needs no escapes in it.
func quotePlain(s string) bool {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			// 0x7f is escaped by strconv, though not by JSON.
			if b < 0x20 || b == 0x7f || b == '"' || b == '\\' || htmlUnsafe(b) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		// Invalid bytes decode with size 1. U+2028 and U+2029 are not
		// printable, so strconv escapes them first.
		if size == 1 || !strconv.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}

func htmlUnsafe(b byte) bool { return b == '<' || b == '>' || b == '&' }

// appendJSONString writes s as encoding/json writes a string with HTML
// escaping on (json.Marshal's default).
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && !htmlUnsafe(b) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case size == 1: // invalid UTF-8
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendGeneric writes generic_attributes: keys sorted, values as
// encoding/json writes a json.RawMessage (compacted, HTML escaped). It
// declines values that compacting would change or reject.
func appendGeneric(dst []byte, m map[string]json.RawMessage) ([]byte, bool) {
	var kbuf [8]string
	keys := kbuf[:0]
	for k, v := range m {
		if v != nil && !rawUnchanged(v) {
			return dst, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, `,"generic_attributes":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		if v := m[k]; v == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, v...)
		}
	}
	return append(dst, '}'), true
}

// rawUnchanged reports whether encoding/json copies v unchanged: valid
// JSON with no whitespace (compacting drops it outside strings, and inside
// them telling apart would need a scanner), no <, >, & and no U+2028 or
// U+2029 (all escaped).
func rawUnchanged(v []byte) bool {
	for i, b := range v {
		switch b {
		case ' ', '\t', '\n', '\r', '<', '>', '&':
			return false
		case 0xe2:
			if i+2 < len(v) && v[i+1] == 0x80 && v[i+2]&^1 == 0xa8 {
				return false
			}
		}
	}
	return json.Valid(v)
}
