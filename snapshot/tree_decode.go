package snapshot

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"time"

	"github.com/hbackup/hbackup/internal/jsonscan"
	"github.com/hbackup/hbackup/repo"
)

// decodeTreeFast decodes the tree shapes restic and hbackup write without
// reflection. It reports false for anything it does not handle exactly as
// decodeTreeReflect does (syntax errors included, so error messages always
// come from encoding/json); the caller then runs decodeTreeReflect.
//
// Declined on purpose: keys that only match a field case-insensitively or
// contain escapes, duplicate keys, strings with invalid UTF-8 or unpaired
// surrogates, escaped IDs, numbers that are not plain unsigned integers,
// nesting deeper than jsonscan.MaxSkipDepth, null nodes and type mismatches.
func decodeTreeFast(data []byte) (*Tree, bool) {
	// Every node is an object, so counting '{' bounds the number of nodes
	// cheaply; real nodes take over 128 bytes, which bounds the memory
	// that odd input (say all '{') makes us reserve.
	est := min(bytes.Count(data, []byte{'{'}), len(data)/128+1)
	d := treeDecoder{Scanner: jsonscan.Scanner{Data: data}, nodes: make([]Node, 0, est),
		ids: make([]repo.ID, 0, min(3*est, len(data)/66))}
	t := &Tree{}
	d.WS()
	if d.Null() {
		d.WS()
		return t, d.Pos == len(d.Data)
	}
	if !d.Consume('{') {
		return nil, false
	}
	seen := false
	ok := d.Object(false, func(key []byte) bool {
		if string(key) != "nodes" {
			return jsonscan.PlainKey(key) && d.Skip(0)
		}
		if seen {
			return false
		}
		seen = true
		if d.Null() {
			return true
		}
		nodes, ok := d.nodeList()
		t.Nodes = nodes
		return ok
	})
	if !ok {
		return nil, false
	}
	d.WS()
	if d.Pos != len(d.Data) {
		return nil, false
	}
	return t, true
}

// treeDecoder is a cursor over one tree blob plus slabs that decoded
// values are carved from, to keep allocations per node low.
type treeDecoder struct {
	jsonscan.Scanner
	nodes []Node    // slab the returned *Node point into
	ids   []repo.ID // slab for content and subtree IDs
	// Last user and group decoded: usually the same for every node.
	user, group string
}

// nodeList reads the nodes array; [] gives nil as in DecodeTree.
func (d *treeDecoder) nodeList() ([]*Node, bool) {
	if !d.Consume('[') {
		return nil, false
	}
	nodes := make([]*Node, 0, cap(d.nodes))
	ok := d.Array(func() bool {
		if len(d.nodes) == cap(d.nodes) {
			d.nodes = make([]Node, 0, min(2*cap(d.nodes)+8, 256))
		}
		d.nodes = d.nodes[:len(d.nodes)+1]
		n := &d.nodes[len(d.nodes)-1]
		nodes = append(nodes, n)
		return d.node(n)
	})
	if len(nodes) == 0 {
		nodes = nil
	}
	return nodes, ok
}

// Bits for the node fields seen, to decline duplicate keys.
const (
	fName = 1 << iota
	fType
	fMode
	fMtime
	fAtime
	fCtime
	fUID
	fGID
	fUser
	fGroup
	fInode
	fDeviceID
	fSize
	fLinks
	fLinkTarget
	fLinkTargetRaw
	fXattrs
	fGeneric
	fDevice
	fContent
	fSubtree
	fError
)

// node decodes one node object into the zeroed n with the semantics of
// (*Node).UnmarshalJSON. A null value leaves a scalar field zero and makes
// a list, map or pointer nil, as in encoding/json.
func (d *treeDecoder) node(n *Node) bool {
	if !d.Consume('{') {
		return false // null nodes are an error; other types too
	}
	var seen uint32
	ok := d.Object(false, func(key []byte) bool {
		var bit uint32
		switch string(key) {
		case "name":
			bit = fName
		case "type":
			bit = fType
		case "mode":
			bit = fMode
		case "mtime":
			bit = fMtime
		case "atime":
			bit = fAtime
		case "ctime":
			bit = fCtime
		case "uid":
			bit = fUID
		case "gid":
			bit = fGID
		case "user":
			bit = fUser
		case "group":
			bit = fGroup
		case "inode":
			bit = fInode
		case "device_id":
			bit = fDeviceID
		case "size":
			bit = fSize
		case "links":
			bit = fLinks
		case "linktarget":
			bit = fLinkTarget
		case "linktarget_raw":
			bit = fLinkTargetRaw
		case "extended_attributes":
			bit = fXattrs
		case "generic_attributes":
			bit = fGeneric
		case "device":
			bit = fDevice
		case "content":
			bit = fContent
		case "subtree":
			bit = fSubtree
		case "error":
			bit = fError
		default:
			return jsonscan.PlainKey(key) && d.Skip(0)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.Null() {
			return true // zero is what encoding/json leaves or sets
		}
		return d.nodeField(n, bit)
	})
	if !ok {
		return false
	}
	if len(n.LinkTargetRaw) > 0 {
		n.LinkTarget = string(n.LinkTargetRaw)
	} else {
		n.LinkTargetRaw = nil
	}
	return true
}

// nodeField decodes the non-null value of one field.
func (d *treeDecoder) nodeField(n *Node, bit uint32) bool {
	var ok bool
	switch bit {
	case fName:
		n.Name, ok = d.name()
	case fType:
		var s []byte
		if s, ok = d.Str(); ok {
			n.Type = nodeType(s)
		}
	case fMode:
		var v uint64
		v, ok = d.Uint(32)
		n.Mode = os.FileMode(v)
	case fMtime:
		n.ModTime, ok = d.time()
	case fAtime:
		n.AccessTime, ok = d.time()
	case fCtime:
		n.ChangeTime, ok = d.time()
	case fUID:
		var v uint64
		v, ok = d.Uint(32)
		n.UID = uint32(v)
	case fGID:
		var v uint64
		v, ok = d.Uint(32)
		n.GID = uint32(v)
	case fUser:
		n.User, ok = d.cachedString(&d.user)
	case fGroup:
		n.Group, ok = d.cachedString(&d.group)
	case fInode:
		n.Inode, ok = d.Uint(64)
	case fDeviceID:
		n.DeviceID, ok = d.Uint(64)
	case fSize:
		n.Size, ok = d.Uint(64)
	case fLinks:
		n.Links, ok = d.Uint(64)
	case fDevice:
		n.Device, ok = d.Uint(64)
	case fLinkTarget:
		var s []byte
		if s, ok = d.Str(); ok {
			n.LinkTarget = string(s)
		}
	case fError:
		var s []byte
		if s, ok = d.Str(); ok {
			n.Error = string(s)
		}
	case fLinkTargetRaw:
		n.LinkTargetRaw, ok = d.base64()
	case fXattrs:
		n.ExtendedAttributes, ok = d.xattrs()
	case fGeneric:
		n.GenericAttributes, ok = d.generic()
	case fContent:
		n.Content, ok = d.content()
	case fSubtree:
		var id *repo.ID
		if id, ok = d.newID(); ok {
			n.Subtree = id
		}
	}
	return ok
}

// name decodes a node name: the JSON string's value is itself Go-quoted
// (without the quotes), as restic writes it.
func (d *treeDecoder) name() (string, bool) {
	s, ok := d.Str()
	if !ok {
		return "", false
	}
	for _, c := range s {
		if c == '\\' || c == '"' || c == '\n' {
			// strconv.Unquote would change or reject it.
			name, err := strconv.Unquote(`"` + string(s) + `"`)
			return name, err == nil
		}
	}
	// Valid UTF-8 without those bytes: strconv.Unquote returns it as is.
	return string(s), true
}

// nodeType returns the constant for the usual types without allocating.
func nodeType(s []byte) NodeType {
	for _, t := range [...]NodeType{NodeTypeFile, NodeTypeDir, NodeTypeSymlink, NodeTypeDev,
		NodeTypeCharDev, NodeTypeFifo, NodeTypeSocket, NodeTypeIrregular} {
		if string(s) == string(t) {
			return t
		}
	}
	return NodeType(s)
}

// cachedString reads a string, reusing *last when the value is the same.
func (d *treeDecoder) cachedString(last *string) (string, bool) {
	s, ok := d.Str()
	if !ok {
		return "", false
	}
	if string(s) != *last {
		*last = string(s)
	}
	return *last, true
}

// base64 decodes a []byte field as encoding/json does: "" gives a
// non-nil empty slice, and the decoder skips \r and \n.
func (d *treeDecoder) base64() ([]byte, bool) {
	s, ok := d.Str()
	if !ok {
		return nil, false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	return b[:n], err == nil
}

// xattrs decodes extended_attributes; an empty list gives nil.
func (d *treeDecoder) xattrs() ([]ExtendedAttribute, bool) {
	if !d.Consume('[') {
		return nil, false
	}
	var list []ExtendedAttribute
	ok := d.Array(func() bool {
		if !d.Consume('{') {
			return false
		}
		var a ExtendedAttribute
		var seenName, seenValue bool
		ok := d.Object(false, func(key []byte) bool {
			switch string(key) {
			case "name":
				if seenName {
					return false
				}
				seenName = true
				if d.Null() {
					return true
				}
				s, ok := d.Str()
				a.Name = string(s)
				return ok
			case "value":
				if seenValue {
					return false
				}
				seenValue = true
				if d.Null() {
					return true
				}
				var ok bool
				a.Value, ok = d.base64()
				return ok
			}
			return jsonscan.PlainKey(key) && d.Skip(0)
		})
		list = append(list, a)
		return ok
	})
	if len(list) == 0 {
		list = nil
	}
	return list, ok
}

// generic decodes generic_attributes, storing each value re-marshalled as
// (*Node).UnmarshalJSON does; an empty object gives nil.
func (d *treeDecoder) generic() (map[string]json.RawMessage, bool) {
	if !d.Consume('{') {
		return nil, false
	}
	var m map[string]json.RawMessage
	ok := d.Object(true, func(key []byte) bool {
		start := d.Pos
		if !d.Skip(0) {
			return false
		}
		v, err := json.Marshal(json.RawMessage(d.Data[start:d.Pos]))
		if err != nil {
			return false
		}
		if m == nil {
			m = make(map[string]json.RawMessage)
		}
		m[string(key)] = v
		return true
	})
	if len(m) == 0 {
		m = nil
	}
	return m, ok
}

// content decodes a content list: [] stays an empty non-nil slice. The IDs
// are carved from a slab with capped capacity, so appends reallocate.
func (d *treeDecoder) content() ([]repo.ID, bool) {
	if !d.Consume('[') {
		return nil, false
	}
	start := len(d.ids)
	ok := d.Array(func() bool {
		if len(d.ids) == cap(d.ids) {
			done := d.ids[start:]
			slab := make([]repo.ID, len(done), max(64, 2*len(done)+8))
			copy(slab, done)
			d.ids, start = slab, 0
		}
		d.ids = d.ids[:len(d.ids)+1]
		return d.id(&d.ids[len(d.ids)-1])
	})
	if !ok {
		return nil, false
	}
	if len(d.ids) == start {
		return []repo.ID{}, true
	}
	return d.ids[start:len(d.ids):len(d.ids)], true
}

// newID decodes an ID into the slab and returns a pointer to it.
func (d *treeDecoder) newID() (*repo.ID, bool) {
	if len(d.ids) == cap(d.ids) {
		d.ids = make([]repo.ID, 0, 64)
	}
	d.ids = d.ids[:len(d.ids)+1]
	id := &d.ids[len(d.ids)-1]
	return id, d.id(id)
}

// id decodes a string of 64 hex digits, either case, with hex.Decode as
// repo.ParseID does.
// Escaped digits are declined.
func (d *treeDecoder) id(id *repo.ID) bool {
	if len(d.Data)-d.Pos < 66 || d.Data[d.Pos] != '"' || d.Data[d.Pos+65] != '"' {
		return false
	}
	if _, err := hex.Decode(id[:], d.Data[d.Pos+1:d.Pos+65]); err != nil {
		return false
	}
	d.Pos += 66
	return true
}

// time decodes a time as time.Time.UnmarshalJSON does, with a fast path
// for the RFC 3339 forms restic writes.
func (d *treeDecoder) time() (time.Time, bool) {
	start := d.Pos
	raw, _, ok := d.RawString()
	if !ok {
		return time.Time{}, false
	}
	if t, ok := parseTime(raw); ok {
		return t, true
	}
	var t time.Time
	err := t.UnmarshalJSON(d.Data[start:d.Pos])
	return t, err == nil
}

// parseTime parses YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM) with the checks
// and zone choice of the time package's RFC 3339 parser, or reports false.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	b = b[19:]
	nsec := 0
	if len(b) > 0 && b[0] == '.' {
		n := 1
		for n < len(b) && '0' <= b[n] && b[n] <= '9' {
			nsec = nsec*10 + int(b[n]-'0')
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		for i := n; i < 10; i++ {
			nsec *= 10
		}
		b = b[n:]
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if len(b) == 1 && b[0] == 'Z' {
		return t, true
	}
	if len(b) != len("+07:00") || b[0] != '+' && b[0] != '-' || b[3] != ':' {
		return time.Time{}, false
	}
	zh, ok1 := num(b[1:3])
	zm, ok2 := num(b[4:6])
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	off := (zh*60 + zm) * 60
	if b[0] == '-' {
		off = -off
	}
	t = t.Add(-time.Duration(off) * time.Second)
	// Like the time package: Local if it has this offset then, else an
	// unnamed fixed zone.
	if lt := t.In(time.Local); zoneOffset(lt) == off {
		return lt, true
	}
	return t.In(time.FixedZone("", off)), true
}

func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// num parses a fixed number of decimal digits.
func num(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
