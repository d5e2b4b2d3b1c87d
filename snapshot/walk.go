package snapshot

import (
	"context"
	"path"

	"github.com/hbackup/hbackup/repo"
)

// WalkFunc is called for each node with its slash path; it returns whether
// to descend into a directory.
type WalkFunc func(p string, n *Node) (descend bool, err error)

// Walk calls fn for every node below tree, depth first in tree (name)
// order, a directory before its contents. prefix is prepended to paths.
func Walk(ctx context.Context, r BlobLoader, tree repo.ID, prefix string, fn WalkFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := LoadTree(ctx, r, tree)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		p := path.Join(prefix, n.Name)
		descend, err := fn(p, n)
		if err != nil {
			return err
		}
		if descend && n.Type == NodeTypeDir && n.Subtree != nil {
			if err := Walk(ctx, r, *n.Subtree, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// FindNode returns the node at p ("/dir/file", relative to the snapshot's
// root tree). The root itself has no node; it is returned as a directory
// node named "/" with root as its subtree.
func FindNode(ctx context.Context, r BlobLoader, root repo.ID, p string) (*Node, error) {
	p = path.Clean("/" + p)
	if p == "/" {
		id := root
		return &Node{Name: "/", Type: NodeTypeDir, Subtree: &id}, nil
	}
	dir, name := path.Split(p)
	sub, err := FindSubtree(ctx, r, root, dir)
	if err != nil {
		return nil, err
	}
	t, err := LoadTree(ctx, r, sub)
	if err != nil {
		return nil, err
	}
	n := t.Find(name)
	if n == nil {
		return nil, &PathError{Path: p}
	}
	return n, nil
}

// PathError reports a path that a snapshot does not contain.
type PathError struct{ Path string }

func (e *PathError) Error() string { return "path " + e.Path + " not found in snapshot" }

// Unwrap lets errors.Is match ErrNotFound.
func (e *PathError) Unwrap() error { return ErrNotFound }
