package config

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"time"
)

// decoder turns tree nodes into typed values, collecting every error
// instead of stopping at the first.
type decoder struct {
	file string
	errs Errors
	// onKnown, when set (by tests), sees the keys each table accepts.
	onKnown func(path string, keys []string)
}

func (d *decoder) errorf(at pos, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: at.line, Column: at.col, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// table is a view of one TOML table during decoding.
type table struct {
	d *decoder
	n *node
}

func (d *decoder) table(n *node) table { return table{d, n} }

// known reports every key of t that is not in keys, suggesting the closest.
func (t table) known(keys ...string) {
	if t.d.onKnown != nil {
		t.d.onKnown(t.n.path, keys)
	}
	for _, k := range t.n.keys {
		if !contains(keys, k) {
			v := t.n.fields[k]
			t.d.errorf(v.keyAt, join(t.n.path, k), "unknown key%s", didYouMean(k, keys))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (t table) get(key string) (*node, bool) {
	v, ok := t.n.fields[key]
	return v, ok
}

func (t table) path(key string) string { return join(t.n.path, key) }

// typed returns the value of key if it has kind k, reporting otherwise.
func (t table) typed(key string, k kind) (*node, bool) {
	v, ok := t.n.fields[key]
	if !ok {
		return nil, false
	}
	if v.kind != k {
		t.d.errorf(v.at, v.path, "expected %s, got %s", k, v.kind)
		return nil, false
	}
	return v, true
}

func (t table) str(key string, dst *string) bool {
	v, ok := t.typed(key, kString)
	if ok {
		*dst = v.str
	}
	return ok
}

// nonEmpty is str that also rejects "".
func (t table) nonEmpty(key string, dst *string) bool {
	v, ok := t.typed(key, kString)
	if !ok {
		return false
	}
	if v.str == "" {
		t.d.errorf(v.at, v.path, "must not be empty")
		return false
	}
	*dst = v.str
	return true
}

// absPath reads a string that must be an absolute file system path:
// services run from an unpredictable working directory.
func (t table) absPath(key string, dst *string) bool {
	v, ok := t.typed(key, kString)
	if !ok {
		return false
	}
	if !filepath.IsAbs(v.str) {
		t.d.errorf(v.at, v.path, "%q is not an absolute path", v.str)
		return false
	}
	*dst = filepath.Clean(v.str)
	return true
}

func (t table) boolean(key string, dst *bool) {
	if v, ok := t.typed(key, kBool); ok {
		*dst = v.b
	}
}

func (t table) integer(key string, dst *int, lo, hi int64) bool {
	v, ok := t.typed(key, kInteger)
	if !ok {
		return false
	}
	if v.i < lo || v.i > hi {
		t.d.errorf(v.at, v.path, "%d is out of range [%d, %d]", v.i, lo, hi)
		return false
	}
	*dst = int(v.i)
	return true
}

// number accepts an integer or a float.
func (t table) number(key string, dst *float64, lo, hi float64) {
	v, ok := t.get(key)
	if !ok {
		return
	}
	var f float64
	switch v.kind {
	case kInteger:
		f = float64(v.i)
	case kFloat:
		f = v.f
	default:
		t.d.errorf(v.at, v.path, "expected a number, got %s", v.kind)
		return
	}
	if math.IsNaN(f) || f < lo || f > hi {
		t.d.errorf(v.at, v.path, "%v is out of range [%v, %v]", f, lo, hi)
		return
	}
	*dst = f
}

func (t table) strs(key string, dst *[]string) bool {
	v, ok := t.typed(key, kArray)
	if !ok {
		return false
	}
	out := make([]string, 0, len(v.items))
	good := true
	for _, it := range v.items {
		if it.kind != kString {
			t.d.errorf(it.at, it.path, "expected a string, got %s", it.kind)
			good = false
			continue
		}
		out = append(out, it.str)
	}
	if good {
		*dst = out
	}
	return good
}

// strOrStrs accepts a single string as a list of one.
func (t table) strOrStrs(key string, dst *[]string) bool {
	if v, ok := t.get(key); ok && v.kind == kString {
		*dst = []string{v.str}
		return true
	}
	return t.strs(key, dst)
}

func (t table) duration(key string, dst *time.Duration) bool {
	v, ok := t.typed(key, kString)
	if !ok {
		return false
	}
	dur, err := ParseDuration(v.str)
	if err != nil {
		t.d.errorf(v.at, v.path, "%v", err)
		return false
	}
	*dst = dur
	return true
}

func (t table) size(key string, dst *int64) bool {
	v, ok := t.get(key)
	if !ok {
		return false
	}
	switch v.kind {
	case kInteger:
		if v.i < 0 {
			t.d.errorf(v.at, v.path, "size %d is negative", v.i)
			return false
		}
		*dst = v.i
		return true
	case kString:
		n, err := ParseSize(v.str)
		if err != nil {
			t.d.errorf(v.at, v.path, "%v", err)
			return false
		}
		*dst = n
		return true
	}
	t.d.errorf(v.at, v.path, "expected a size such as \"10GiB\", got %s", v.kind)
	return false
}

// sub returns the table at key; ok is false when absent or not a table.
func (t table) sub(key string) (table, bool) {
	v, ok := t.typed(key, kTable)
	if !ok {
		return table{}, false
	}
	return table{t.d, v}, true
}

// each calls fn for every sub-table of t in sorted order, e.g. every job.
func (t table) each(fn func(name string, sub table)) {
	names := append([]string(nil), t.n.keys...)
	sort.Strings(names)
	for _, name := range names {
		v := t.n.fields[name]
		if v.kind != kTable {
			t.d.errorf(v.at, v.path, "expected a table, got %s", v.kind)
			continue
		}
		fn(name, table{t.d, v})
	}
}
