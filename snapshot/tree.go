package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Tree is a directory: its nodes sorted by raw name in byte order, with no
// duplicates. Insert keeps that order; Encode refuses anything else.
type Tree struct {
	Nodes []*Node `json:"nodes"`
}

// search returns the index of the first node whose name is not less than
// name, assuming t.Nodes is sorted.
func (t *Tree) search(name string) int {
	return sort.Search(len(t.Nodes), func(i int) bool { return t.Nodes[i].Name >= name })
}

// Insert adds n at its sorted position. A node of the same name is an error.
func (t *Tree) Insert(n *Node) error {
	if n == nil {
		return errors.New("tree: insert of nil node")
	}
	i := t.search(n.Name)
	if i < len(t.Nodes) && t.Nodes[i].Name == n.Name {
		return fmt.Errorf("tree: duplicate node name %q", n.Name)
	}
	t.Nodes = append(t.Nodes, nil)
	copy(t.Nodes[i+1:], t.Nodes[i:])
	t.Nodes[i] = n
	return nil
}

// Find returns the node named name, or nil. It uses binary search, so it
// relies on the sorted order every restic-written tree has.
func (t *Tree) Find(name string) *Node {
	i := t.search(name)
	if i < len(t.Nodes) && t.Nodes[i].Name == name {
		return t.Nodes[i]
	}
	return nil
}

// Encode returns the tree blob bytes: {"nodes":[...]} and a newline, the
// exact bytes restic writes. The tree ID is the SHA-256 of them.
func (t *Tree) Encode() ([]byte, error) {
	// Sizing the buffer up front saves regrowing it, and the encoder is
	// dropped, so its buffer can be returned without a copy.
	size := 16
	for _, n := range t.Nodes {
		if n != nil {
			size += encodedSizeHint(n)
		}
	}
	e := TreeEncoder{buf: make([]byte, 0, size)}
	for _, n := range t.Nodes {
		if err := e.Add(n); err != nil {
			return nil, err
		}
	}
	return e.finish(), nil
}

// TreeEncoder builds tree bytes one node at a time, so a directory can be
// written without holding a Tree. Nodes must come in strictly increasing
// raw-name order; restic rejects trees that break it. The zero value is
// ready to use.
type TreeEncoder struct {
	buf  []byte
	last string
	n    int
}

// Add appends a node. It fails on a nil node, a name not greater than the
// previous one, or a node JSON cannot encode.
func (e *TreeEncoder) Add(n *Node) error {
	if n == nil {
		return errors.New("tree: nil node")
	}
	if e.n > 0 && n.Name <= e.last {
		return fmt.Errorf("tree: nodes are not ordered or duplicate: %q after %q", n.Name, e.last)
	}
	mark := len(e.buf)
	if e.n == 0 {
		e.buf = append(e.buf, `{"nodes":[`...)
	} else {
		e.buf = append(e.buf, ',')
	}
	buf, ok := appendNode(e.buf, n)
	if !ok {
		// The rare forms appendNode leaves to encoding/json.
		data, err := json.Marshal(n)
		if err != nil {
			e.buf = buf[:mark]
			return fmt.Errorf("tree: encode node %q: %w", n.Name, err)
		}
		buf = append(buf[:len(e.buf)], data...)
	}
	e.buf = buf
	e.last = n.Name
	e.n++
	return nil
}

// Finish returns the encoded tree and resets the encoder.
// The buffer is kept for the next tree.
func (e *TreeEncoder) Finish() []byte {
	out := bytes.Clone(e.finish())
	*e = TreeEncoder{buf: e.buf[:0]}
	return out
}

// finish closes the tree and returns the encoder's buffer itself.
func (e *TreeEncoder) finish() []byte {
	if e.n == 0 {
		e.buf = append(e.buf, `{"nodes":[`...)
	}
	e.buf = append(e.buf, "]}\n"...)
	return e.buf
}

// DecodeTree parses a tree blob. It accepts what restic 0.14 and 0.19
// accept: any whitespace and key order, unknown keys, no trailing newline;
// like 0.14 it also reads {"nodes":null}, {} and null as an empty tree.
// It does not check the order of the nodes (restic does not either), but
// null nodes are an error.
func DecodeTree(data []byte) (*Tree, error) {
	if t, ok := decodeTreeFast(data); ok {
		return t, nil
	}
	return decodeTreeReflect(data)
}

// decodeTreeReflect is DecodeTree by encoding/json: the reference for
// decodeTreeFast and its fallback for anything unusual.
func decodeTreeReflect(data []byte) (*Tree, error) {
	var t Tree
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("decode tree: %w", err)
	}
	for i, n := range t.Nodes {
		if n == nil {
			return nil, fmt.Errorf("decode tree: node %d is null", i)
		}
	}
	if len(t.Nodes) == 0 {
		t.Nodes = nil // [] and null mean the same
	}
	return &t, nil
}

// Validate reports whether the tree can be encoded: no nil nodes, names
// strictly increasing in byte order.
func (t *Tree) Validate() error {
	for i, n := range t.Nodes {
		if n == nil {
			return fmt.Errorf("tree: node %d is nil", i)
		}
		if i > 0 && n.Name <= t.Nodes[i-1].Name {
			return fmt.Errorf("tree: nodes are not ordered or duplicate: %q after %q", n.Name, t.Nodes[i-1].Name)
		}
	}
	return nil
}
