// Package rewriter writes new versions of snapshots whose trees are
// changed node by node: without excluded paths (restic's `rewrite`), or
// without what the repository has lost (restic's `repair snapshots`).
// Subtrees that do not change keep their IDs, so an unchanged snapshot is
// recognised and left alone.
package rewriter

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Repository is what rewriting trees needs: loading trees and saving new
// ones (deduplicated).
type Repository interface {
	snapshot.BlobLoader
	snapshot.BlobSaver
}

// NodeFunc decides what becomes of node n at path (absolute within the
// snapshot, such as "/home/user/file"). It returns n to keep it, nil to
// drop it, or a changed copy to replace it; it must not modify n itself.
type NodeFunc func(n *snapshot.Node, path string) *snapshot.Node

// FailedTreeFunc decides what a directory whose tree cannot be loaded
// becomes: a replacement tree, or nil to drop the directory (for the root
// "/": the whole snapshot). A returned error stops the rewrite.
type FailedTreeFunc func(id repo.ID, path string, err error) (*snapshot.Tree, error)

// ErrUnstableTree is returned when a tree to change would not encode to
// its own ID, so rewriting it could lose fields this version does not
// know.
var ErrUnstableTree = errors.New("cannot encode tree without losing information")

// TreeRewriter rewrites trees with its functions. The zero value keeps
// everything; a tree that fails to load is then an error.
type TreeRewriter struct {
	Node       NodeFunc       // nil keeps every node
	FailedTree FailedTreeFunc // nil: a tree that fails to load is an error
	// AllowUnstable lets trees be rewritten even when re-encoding them
	// unchanged gives other bytes (repair must salvage what it can).
	AllowUnstable bool

	// Files and Bytes count the files and their sizes in the trees
	// returned by the last Rewrite.
	Files uint
	Bytes uint64
}

// Rewrite returns the ID of tree id rewritten, saving new trees to r. It
// returns id itself when nothing changed, and the zero ID when the tree
// was dropped (see FailedTreeFunc).
func (t *TreeRewriter) Rewrite(ctx context.Context, r Repository, id repo.ID) (repo.ID, error) {
	t.Files, t.Bytes = 0, 0
	return t.rewrite(ctx, r, "/", &id)
}

func (t *TreeRewriter) rewrite(ctx context.Context, r Repository, dir string, id *repo.ID) (repo.ID, error) {
	var tree *snapshot.Tree
	err := errors.New("directory has no subtree")
	if id != nil {
		tree, err = snapshot.LoadTree(ctx, r, *id)
	}
	if err != nil {
		if ctx.Err() != nil || t.FailedTree == nil {
			return repo.ID{}, err
		}
		var failed repo.ID
		if id != nil {
			failed = *id
		}
		repl, err := t.FailedTree(failed, dir, err)
		if err != nil || repl == nil {
			return repo.ID{}, err
		}
		t.count(repl)
		return snapshot.SaveTree(ctx, r, repl)
	}

	changed := id == nil
	out := &snapshot.Tree{Nodes: make([]*snapshot.Node, 0, len(tree.Nodes))}
	for _, n := range tree.Nodes {
		p := path.Join(dir, n.Name)
		keep := n
		if t.Node != nil {
			keep = t.Node(n, p)
		}
		if keep != n {
			changed = true
		}
		if keep == nil {
			continue
		}
		if keep.Type == snapshot.NodeTypeDir {
			sub, err := t.rewrite(ctx, r, p, keep.Subtree)
			if err != nil {
				return repo.ID{}, err
			}
			if sub.IsNull() {
				changed = true
				continue
			}
			if keep.Subtree == nil || sub != *keep.Subtree {
				c := *keep
				c.Subtree = &sub
				keep, changed = &c, true
			}
		}
		out.Nodes = append(out.Nodes, keep)
	}
	t.count(out)
	if !changed {
		return *id, nil
	}
	if !t.AllowUnstable && id != nil {
		data, err := tree.Encode()
		if err != nil || repo.Hash(data) != *id {
			return repo.ID{}, fmt.Errorf("tree at %q: %w", dir, ErrUnstableTree)
		}
	}
	return snapshot.SaveTree(ctx, r, out)
}

// count adds the files directly in tree to the totals.
func (t *TreeRewriter) count(tree *snapshot.Tree) {
	for _, n := range tree.Nodes {
		if n.Type == snapshot.NodeTypeFile {
			t.Files++
			t.Bytes += n.Size
		}
	}
}
