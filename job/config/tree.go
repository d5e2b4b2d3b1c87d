package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// The TOML document is first turned into a tree that remembers where each
// key and value was written; decoding then walks it, so every error,
// including ones found long after parsing (an unknown repository), can
// name its line and column.

type kind int

const (
	kTable kind = iota
	kArray
	kString
	kInteger
	kFloat
	kBool
	kDatetime
)

func (k kind) String() string {
	return [...]string{"a table", "an array", "a string", "an integer", "a float", "a boolean", "a date/time"}[k]
}

type pos struct{ line, col int }

type node struct {
	kind   kind
	keyAt  pos // where the key naming this value is written
	at     pos // where the value itself starts
	keys   []string
	fields map[string]*node
	items  []*node
	str    string // strings; raw text of dates
	i      int64
	f      float64
	b      bool

	path string // dotted key path, for messages

	explicit      bool // table opened by a header or written as a value
	closed        bool // inline table or value array: cannot be extended
	arrayOfTables bool
}

func newTable(at pos, path string) *node {
	return &node{kind: kTable, keyAt: at, at: at, fields: map[string]*node{}, path: path}
}

func join(path, key string) string {
	if path == "" {
		return keyPath([]string{key})
	}
	return path + "." + keyPath([]string{key})
}

func (n *node) set(k string, v *node) {
	n.keys = append(n.keys, k)
	n.fields[k] = v
}

type treeBuilder struct {
	p    unstable.Parser
	file string
	errs Errors
}

// parseTree parses data; a syntax error stops parsing, structural errors
// (duplicate keys) are collected.
func parseTree(file string, data []byte) (*node, Errors, bool) {
	tb := &treeBuilder{file: file}
	tb.p.Reset(data)
	root := newTable(pos{1, 1}, "")
	root.explicit = true
	cur := root
	for tb.p.NextExpression() {
		e := tb.p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			if t := tb.header(root, e); t != nil {
				cur = t
			} else {
				// Keys after a bad header go nowhere rather than into
				// the previous table, which would add confusing errors.
				cur = newTable(pos{}, "")
			}
		case unstable.KeyValue:
			tb.keyValue(cur, e)
		}
	}
	if err := tb.p.Error(); err != nil {
		var pe *unstable.ParserError
		at := pos{}
		if errors.As(err, &pe) && pe.Highlight != nil {
			at = tb.shape(tb.p.Range(pe.Highlight))
		}
		tb.errorf(at, "", "TOML syntax error: %s", err.Error())
		return root, tb.errs, true
	}
	return root, tb.errs, false
}

// shape returns the line and column of r; columns count characters, not
// bytes, so that they match what editors show.
func (tb *treeBuilder) shape(r unstable.Range) pos {
	s := tb.p.Shape(r).Start
	data := tb.p.Data()
	lineStart := bytes.LastIndexByte(data[:s.Offset], '\n') + 1
	return pos{s.Line, utf8.RuneCount(data[lineStart:s.Offset]) + 1}
}

func (tb *treeBuilder) errorf(at pos, key, format string, args ...any) {
	tb.errs = append(tb.errs, &Error{File: tb.file, Line: at.line, Column: at.col, Key: key, Msg: fmt.Sprintf(format, args...)})
}

type keyPart struct {
	name string
	at   pos
}

func (tb *treeBuilder) keyParts(it unstable.Iterator) []keyPart {
	var parts []keyPart
	for it.Next() {
		n := it.Node()
		parts = append(parts, keyPart{string(n.Data), tb.shape(n.Raw)})
	}
	return parts
}

// descend walks the parent parts of a key from t, creating implicit tables.
func (tb *treeBuilder) descend(t *node, parts []keyPart, viaHeader bool) *node {
	for _, p := range parts {
		child, ok := t.fields[p.name]
		path := join(t.path, p.name)
		switch {
		case !ok:
			child = newTable(p.at, path)
			t.set(p.name, child)
		case child.kind == kArray && child.arrayOfTables && viaHeader:
			child = child.items[len(child.items)-1]
		case child.kind != kTable:
			tb.errorf(p.at, path, "already defined as %s at line %d", child.kind, child.keyAt.line)
			return nil
		case child.closed:
			tb.errorf(p.at, path, "cannot extend the inline table defined at line %d", child.keyAt.line)
			return nil
		}
		t = child
	}
	return t
}

func (tb *treeBuilder) header(root *node, e *unstable.Node) *node {
	parts := tb.keyParts(e.Key())
	last := parts[len(parts)-1]
	parent := tb.descend(root, parts[:len(parts)-1], true)
	if parent == nil {
		return nil
	}
	path := join(parent.path, last.name)
	existing, ok := parent.fields[last.name]
	if e.Kind == unstable.ArrayTable {
		if !ok {
			existing = &node{kind: kArray, keyAt: last.at, at: last.at, arrayOfTables: true}
			parent.set(last.name, existing)
		} else if !existing.arrayOfTables {
			tb.errorf(last.at, path, "already defined as %s at line %d", existing.kind, existing.keyAt.line)
			return nil
		}
		t := newTable(last.at, fmt.Sprintf("%s[%d]", path, len(existing.items)))
		t.explicit = true
		existing.items = append(existing.items, t)
		return t
	}
	if !ok {
		t := newTable(last.at, path)
		t.explicit = true
		parent.set(last.name, t)
		return t
	}
	if existing.kind != kTable || existing.explicit {
		tb.errorf(last.at, path, "already defined at line %d", existing.keyAt.line)
		return nil
	}
	existing.explicit = true
	existing.keyAt, existing.at = last.at, last.at
	return existing
}

func (tb *treeBuilder) keyValue(t *node, e *unstable.Node) {
	parts := tb.keyParts(e.Key())
	parent := tb.descend(t, parts[:len(parts)-1], false)
	if parent == nil {
		return
	}
	last := parts[len(parts)-1]
	path := join(parent.path, last.name)
	if old, ok := parent.fields[last.name]; ok {
		tb.errorf(last.at, path, "duplicate key, first defined at line %d", old.keyAt.line)
		return
	}
	v := tb.value(e.Value(), last.at, path)
	if v == nil {
		return
	}
	v.keyAt = last.at
	parent.set(last.name, v)
}

func (tb *treeBuilder) value(v *unstable.Node, keyAt pos, path string) *node {
	at := keyAt
	if v.Raw.Length > 0 {
		at = tb.shape(v.Raw)
	}
	n := &node{at: at, keyAt: keyAt, path: path}
	raw := string(v.Data)
	var err error
	switch v.Kind {
	case unstable.String:
		n.kind, n.str = kString, raw
	case unstable.Bool:
		n.kind, n.b = kBool, raw == "true"
	case unstable.Integer:
		n.kind = kInteger
		n.i, err = parseInt(raw)
	case unstable.Float:
		n.kind = kFloat
		n.f, err = parseFloat(raw)
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		n.kind, n.str = kDatetime, raw
	case unstable.Array:
		n.kind, n.closed = kArray, true
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			if item := tb.value(c, at, fmt.Sprintf("%s[%d]", path, len(n.items))); item != nil {
				n.items = append(n.items, item)
			}
		}
		if len(n.items) > 0 && v.Raw.Length == 0 {
			n.at = n.items[0].at
		}
	case unstable.InlineTable:
		n.kind, n.fields, n.explicit, n.closed = kTable, map[string]*node{}, true, true
		for it := v.Children(); it.Next(); {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				tb.keyValue(n, c)
			}
		}
	default:
		err = fmt.Errorf("unsupported value %q", raw)
	}
	if err != nil {
		tb.errorf(at, path, "%v", err)
		return nil
	}
	return n
}

func parseInt(s string) (int64, error) {
	clean := strings.ReplaceAll(s, "_", "")
	base := 10
	for _, p := range []struct {
		prefix string
		base   int
	}{{"0x", 16}, {"0o", 8}, {"0b", 2}} {
		if rest, ok := strings.CutPrefix(clean, p.prefix); ok {
			clean, base = rest, p.base
		}
	}
	v, err := strconv.ParseInt(clean, base, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	return v, nil
}

func parseFloat(s string) (float64, error) {
	switch strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-") {
	case "inf":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid float %q", s)
	}
	return v, nil
}

// keyPath joins key parts, quoting those that are not bare TOML keys.
func keyPath(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if isBare(p) {
			b.WriteString(p)
		} else {
			b.WriteString(strconv.Quote(p))
		}
	}
	return b.String()
}

func isBare(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
