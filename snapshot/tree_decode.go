package snapshot

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

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
// nesting deeper than maxSkipDepth, null nodes and type mismatches.
func decodeTreeFast(data []byte) (*Tree, bool) {
	// Every node is an object, so counting '{' bounds the number of nodes
	// cheaply; real nodes take over 128 bytes, which bounds the memory
	// that odd input (say all '{') makes us reserve.
	est := min(bytes.Count(data, []byte{'{'}), len(data)/128+1)
	d := treeDecoder{data: data, nodes: make([]Node, 0, est),
		ids: make([]repo.ID, 0, min(3*est, len(data)/66))}
	t := &Tree{}
	d.ws()
	if d.null() {
		d.ws()
		return t, d.pos == len(d.data)
	}
	if !d.consume('{') {
		return nil, false
	}
	seen := false
	ok := d.object(false, func(key []byte) bool {
		if string(key) != "nodes" {
			return plainKey(key) && d.skip(0)
		}
		if seen {
			return false
		}
		seen = true
		if d.null() {
			return true
		}
		nodes, ok := d.nodeList()
		t.Nodes = nodes
		return ok
	})
	if !ok {
		return nil, false
	}
	d.ws()
	if d.pos != len(d.data) {
		return nil, false
	}
	return t, true
}

// treeDecoder is a cursor over one tree blob plus slabs that decoded
// values are carved from, to keep allocations per node low.
type treeDecoder struct {
	data  []byte
	pos   int
	buf   []byte    // scratch for unescaped strings
	nodes []Node    // slab the returned *Node point into
	ids   []repo.ID // slab for content and subtree IDs
	// Last user and group decoded: usually the same for every node.
	user, group string
}

// maxSkipDepth bounds nesting in skipped values; deeper input is left to
// encoding/json, which has its own limit.
const maxSkipDepth = 100

func (d *treeDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *treeDecoder) consume(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *treeDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// literal consumes lit if the input continues with it; the caller checks
// what follows.
func (d *treeDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

func (d *treeDecoder) null() bool { return d.literal("null") }

// object reads the members of an object whose '{' was consumed, calling
// field for each key with the cursor on the value; field must consume the
// value. Keys with escapes are declined (they may match a field) unless
// mapKeys is set; then keys are decoded and may alias the scratch buffer.
func (d *treeDecoder) object(mapKeys bool, field func(key []byte) bool) bool {
	d.ws()
	if d.consume('}') {
		return true
	}
	for {
		var key []byte
		var ok bool
		if mapKeys {
			key, ok = d.str()
		} else {
			var esc bool
			key, esc, ok = d.rawString()
			ok = ok && !esc
		}
		if !ok {
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
func (d *treeDecoder) rawString() (raw []byte, esc, ok bool) {
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
				if i+4 >= len(d.data) || hex4(d.data[i+1:i+5]) < 0 {
					return nil, false, false
				}
				i += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// str reads a JSON string and returns its value, aliasing the input or the
// scratch buffer. Invalid UTF-8 (which encoding/json replaces) is declined.
func (d *treeDecoder) str() ([]byte, bool) {
	raw, esc, ok := d.rawString()
	if !ok || !utf8.Valid(raw) {
		return nil, false
	}
	if !esc {
		return raw, true
	}
	return d.unescape(raw)
}

// unescape decodes the escapes of a validated raw string into d.buf.
func (d *treeDecoder) unescape(raw []byte) ([]byte, bool) {
	b := d.buf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch c = raw[i]; c {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				// Only a valid pair; encoding/json replaces the rest.
				if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
					return nil, false
				}
				r = utf16.DecodeRune(r, hex4(raw[i+3:i+7]))
				if r == utf8.RuneError {
					return nil, false
				}
				i += 6
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, c)
		}
	}
	d.buf = b
	return b, true
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		v := unhex(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// uint reads a JSON number that must be an unsigned integer of the given
// size; anything else is an error in encoding/json, so it is declined.
func (d *treeDecoder) uint(bits uint) (uint64, bool) {
	start := d.pos
	var v uint64
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c < '0' || c > '9' {
			break
		}
		if v > (1<<64-1)/10 || v*10 > 1<<64-1-uint64(c-'0') {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		d.pos++
	}
	n := d.pos - start
	if n == 0 || n > 1 && d.data[start] == '0' {
		return 0, false
	}
	if c := d.peek(); c == '.' || c == 'e' || c == 'E' {
		return 0, false
	}
	if bits < 64 && v >= 1<<bits {
		return 0, false
	}
	return v, true
}

// skip validates and consumes one JSON value.
func (d *treeDecoder) skip(depth int) bool {
	switch c := d.peek(); c {
	case '"':
		_, _, ok := d.rawString()
		return ok
	case '{':
		if depth >= maxSkipDepth {
			return false
		}
		d.pos++
		return d.object(false, func([]byte) bool { return d.skip(depth + 1) })
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

// array reads the elements of an array whose '[' was consumed.
func (d *treeDecoder) array(elem func() bool) bool {
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

// number validates a JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (d *treeDecoder) number() bool {
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
func (d *treeDecoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// nodeList reads the nodes array; [] gives nil as in DecodeTree.
func (d *treeDecoder) nodeList() ([]*Node, bool) {
	if !d.consume('[') {
		return nil, false
	}
	nodes := make([]*Node, 0, cap(d.nodes))
	ok := d.array(func() bool {
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
	if !d.consume('{') {
		return false // null nodes are an error; other types too
	}
	var seen uint32
	ok := d.object(false, func(key []byte) bool {
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
			return plainKey(key) && d.skip(0)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.null() {
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
		if s, ok = d.str(); ok {
			n.Type = nodeType(s)
		}
	case fMode:
		var v uint64
		v, ok = d.uint(32)
		n.Mode = os.FileMode(v)
	case fMtime:
		n.ModTime, ok = d.time()
	case fAtime:
		n.AccessTime, ok = d.time()
	case fCtime:
		n.ChangeTime, ok = d.time()
	case fUID:
		var v uint64
		v, ok = d.uint(32)
		n.UID = uint32(v)
	case fGID:
		var v uint64
		v, ok = d.uint(32)
		n.GID = uint32(v)
	case fUser:
		n.User, ok = d.cachedString(&d.user)
	case fGroup:
		n.Group, ok = d.cachedString(&d.group)
	case fInode:
		n.Inode, ok = d.uint(64)
	case fDeviceID:
		n.DeviceID, ok = d.uint(64)
	case fSize:
		n.Size, ok = d.uint(64)
	case fLinks:
		n.Links, ok = d.uint(64)
	case fDevice:
		n.Device, ok = d.uint(64)
	case fLinkTarget:
		var s []byte
		if s, ok = d.str(); ok {
			n.LinkTarget = string(s)
		}
	case fError:
		var s []byte
		if s, ok = d.str(); ok {
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
	s, ok := d.str()
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
	s, ok := d.str()
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
	s, ok := d.str()
	if !ok {
		return nil, false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	return b[:n], err == nil
}

// xattrs decodes extended_attributes; an empty list gives nil.
func (d *treeDecoder) xattrs() ([]ExtendedAttribute, bool) {
	if !d.consume('[') {
		return nil, false
	}
	var list []ExtendedAttribute
	ok := d.array(func() bool {
		if !d.consume('{') {
			return false
		}
		var a ExtendedAttribute
		var seenName, seenValue bool
		ok := d.object(false, func(key []byte) bool {
			switch string(key) {
			case "name":
				if seenName {
					return false
				}
				seenName = true
				if d.null() {
					return true
				}
				s, ok := d.str()
				a.Name = string(s)
				return ok
			case "value":
				if seenValue {
					return false
				}
				seenValue = true
				if d.null() {
					return true
				}
				var ok bool
				a.Value, ok = d.base64()
				return ok
			}
			return plainKey(key) && d.skip(0)
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
	if !d.consume('{') {
		return nil, false
	}
	var m map[string]json.RawMessage
	ok := d.object(true, func(key []byte) bool {
		start := d.pos
		if !d.skip(0) {
			return false
		}
		v, err := json.Marshal(json.RawMessage(d.data[start:d.pos]))
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
	if !d.consume('[') {
		return nil, false
	}
	start := len(d.ids)
	ok := d.array(func() bool {
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
	if len(d.data)-d.pos < 66 || d.data[d.pos] != '"' || d.data[d.pos+65] != '"' {
		return false
	}
	if _, err := hex.Decode(id[:], d.data[d.pos+1:d.pos+65]); err != nil {
		return false
	}
	d.pos += 66
	return true
}

// time decodes a time as time.Time.UnmarshalJSON does, with a fast path
// for the RFC 3339 forms restic writes.
func (d *treeDecoder) time() (time.Time, bool) {
	start := d.pos
	raw, _, ok := d.rawString()
	if !ok {
		return time.Time{}, false
	}
	if t, ok := parseTime(raw); ok {
		return t, true
	}
	var t time.Time
	err := t.UnmarshalJSON(d.data[start:d.pos])
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
