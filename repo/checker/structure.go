package checker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"golang.org/x/sync/errgroup"
)

// Structure loads every snapshot and walks all its trees. It reports a
// snapshot that cannot be loaded (SnapshotError) and, per tree, a tree
// that cannot be loaded or decoded, invalid nodes and data blobs missing
// from the index (TreeError holding NodeError and MissingBlobError). It
// also records which blobs are used, for UnusedBlobs.
func (c *Checker) Structure(ctx context.Context, report func(error)) error {
	if c.packs == nil {
		return errors.New("checker: Structure before LoadIndex")
	}
	report = serial(report)
	roots, err := c.loadSnapshots(ctx, report)
	if err != nil {
		return err
	}
	c.referenced = make(map[repo.BlobHandle]struct{})
	var mu sync.Mutex // guards c.referenced and next
	var level []repo.ID
	// visit marks a tree as seen and reports whether it is new.
	visit := func(id repo.ID) bool {
		h := repo.BlobHandle{ID: id, Type: repo.TreeBlob}
		if _, ok := c.referenced[h]; ok {
			return false
		}
		c.referenced[h] = struct{}{}
		return true
	}
	for _, id := range roots {
		if visit(id) {
			level = append(level, id)
		}
	}
	// Breadth first, one level at a time, each level in parallel; a tree
	// shared by several snapshots or directories is checked once.
	for len(level) > 0 {
		var next []repo.ID
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(4, c.connections()))
		for _, id := range level {
			g.Go(func() error {
				subtrees, content, errs := c.checkTree(gctx, id)
				if err := gctx.Err(); err != nil {
					return err
				}
				if len(errs) > 0 {
					report(&TreeError{TreeID: id, Errors: errs})
				}
				mu.Lock()
				defer mu.Unlock()
				for _, b := range content {
					c.referenced[repo.BlobHandle{ID: b, Type: repo.DataBlob}] = struct{}{}
				}
				for _, s := range subtrees {
					if visit(s) {
						next = append(next, s)
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		level = next
	}
	return nil
}

// loadSnapshots loads the snapshots listed by LoadIndex and returns their
// root trees.
func (c *Checker) loadSnapshots(ctx context.Context, report func(error)) ([]repo.ID, error) {
	trees := make([]repo.ID, len(c.snapshots))
	ok := make([]bool, len(c.snapshots))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(4, c.connections()))
	for i, id := range c.snapshots {
		g.Go(func() error {
			sn, err := snapshot.Load(gctx, c.r, id)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			switch {
			case err != nil:
				report(&SnapshotError{SnapshotID: id, Err: err})
			case sn.Tree == nil || sn.Tree.IsNull():
				report(&SnapshotError{SnapshotID: id, Err: errors.New("snapshot has no tree")})
			default:
				trees[i], ok[i] = *sn.Tree, true
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []repo.ID
	for i, t := range trees {
		if ok[i] {
			out = append(out, t)
		}
	}
	return out, nil
}

// checkTree loads one tree and checks its nodes. It returns the subtrees
// to visit, the data blobs referenced, and the problems found.
func (c *Checker) checkTree(ctx context.Context, id repo.ID) (subtrees, content []repo.ID, errs []error) {
	idx := c.r.Index()
	if !idx.Has(repo.BlobHandle{ID: id, Type: repo.TreeBlob}) {
		return nil, nil, []error{&MissingBlobError{TreeID: id, Blob: repo.BlobHandle{ID: id, Type: repo.TreeBlob}}}
	}
	tree, err := snapshot.LoadTree(ctx, c.r, id)
	if err != nil {
		return nil, nil, []error{err}
	}
	nodeErr := func(name, format string, args ...any) {
		errs = append(errs, &NodeError{TreeID: id, Node: name, Err: fmt.Errorf(format, args...)})
	}
	for _, n := range tree.Nodes {
		switch n.Type {
		case snapshot.NodeTypeFile:
			if n.Content == nil {
				nodeErr(n.Name, "file %q has nil blob list", n.Name)
			}
			for i, b := range n.Content {
				if b.IsNull() {
					nodeErr(n.Name, "file %q blob %d has null ID", n.Name, i)
					continue
				}
				h := repo.BlobHandle{ID: b, Type: repo.DataBlob}
				if !idx.Has(h) {
					errs = append(errs, &MissingBlobError{TreeID: id, Node: n.Name, Blob: h})
				}
				content = append(content, b)
			}
		case snapshot.NodeTypeDir:
			switch {
			case n.Subtree == nil:
				nodeErr(n.Name, "dir node %q has no subtree", n.Name)
			case n.Subtree.IsNull():
				nodeErr(n.Name, "dir node %q subtree id is null", n.Name)
			default:
				subtrees = append(subtrees, *n.Subtree)
			}
		case snapshot.NodeTypeSymlink, snapshot.NodeTypeSocket, snapshot.NodeTypeCharDev,
			snapshot.NodeTypeDev, snapshot.NodeTypeFifo:
			// nothing to check
		default:
			nodeErr(n.Name, "node %q with invalid type %q", n.Name, n.Type)
		}
		if n.Name == "" {
			nodeErr(n.Name, "node with empty name")
		}
	}
	return subtrees, content, errs
}

// UnusedBlobs returns the indexed blobs that no snapshot references,
// sorted. It is meaningful only after Structure ran without error.
func (c *Checker) UnusedBlobs() []repo.BlobHandle {
	if c.referenced == nil {
		return nil
	}
	seen := make(map[repo.BlobHandle]struct{})
	var out []repo.BlobHandle
	c.r.Index().Each(func(pb repo.PackedBlob) {
		if _, used := c.referenced[pb.BlobHandle]; used {
			return
		}
		if _, dup := seen[pb.BlobHandle]; !dup {
			seen[pb.BlobHandle] = struct{}{}
			out = append(out, pb.BlobHandle)
		}
	})
	slices.SortFunc(out, func(a, b repo.BlobHandle) int {
		if c := bytes.Compare(a.ID[:], b.ID[:]); c != 0 {
			return c
		}
		return int(a.Type) - int(b.Type)
	})
	return out
}
