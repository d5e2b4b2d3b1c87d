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
	var e TreeEncoder
	for _, n := range t.Nodes {
		if err := e.Add(n); err != nil {
			return nil, err
		}
	}
	return e.Finish(), nil
}

// TreeEncoder builds tree bytes one node at a time, so a directory can be
// written without holding a Tree. Nodes must come in strictly increasing
// raw-name order; restic rejects trees that break it. The zero value is
// ready to use.
type TreeEncoder struct {
	buf  bytes.Buffer
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
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("tree: encode node %q: %w", n.Name, err)
	}
	if e.n == 0 {
		e.buf.WriteString(`{"nodes":[`)
	} else {
		e.buf.WriteByte(',')
	}
	e.buf.Write(data)
	e.last = n.Name
	e.n++
	return nil
}

// Finish returns the encoded tree and resets the encoder.
func (e *TreeEncoder) Finish() []byte {
	if e.n == 0 {
		e.buf.WriteString(`{"nodes":[`)
	}
	e.buf.WriteString("]}\n")
	out := bytes.Clone(e.buf.Bytes())
	*e = TreeEncoder{}
	return out
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
