package pruner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"golang.org/x/sync/errgroup"
)

// usedBlobs walks the trees of the given roots and returns every tree and
// data blob they reference. A tree that cannot be loaded is an error:
// pruning with an incomplete picture of what is used would delete data.
func usedBlobs(ctx context.Context, r *repo.Repository, roots []repo.ID, conns int) (map[repo.BlobHandle]struct{}, error) {
	used := make(map[repo.BlobHandle]struct{})
	var mu sync.Mutex // guards used and next
	visit := func(id repo.ID) bool {
		h := repo.BlobHandle{ID: id, Type: repo.TreeBlob}
		if _, ok := used[h]; ok {
			return false
		}
		used[h] = struct{}{}
		return true
	}
	var level []repo.ID
	for _, id := range roots {
		if visit(id) {
			level = append(level, id)
		}
	}
	// One level of the forest at a time, its trees loaded in parallel; a
	// tree shared by snapshots or directories is loaded once.
	for len(level) > 0 {
		var next []repo.ID
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(4, conns))
		for _, id := range level {
			g.Go(func() error {
				tree, err := snapshot.LoadTree(gctx, r, id)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				for _, n := range tree.Nodes {
					switch n.Type {
					case snapshot.NodeTypeFile:
						for _, b := range n.Content {
							used[repo.BlobHandle{ID: b, Type: repo.DataBlob}] = struct{}{}
						}
					case snapshot.NodeTypeDir:
						if n.Subtree == nil || n.Subtree.IsNull() {
							return fmt.Errorf("tree %v: directory %q has no subtree", id.Str(), n.Name)
						}
						if visit(*n.Subtree) {
							next = append(next, *n.Subtree)
						}
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		level = next
	}
	return used, nil
}

// snapshotRoots lists and loads every snapshot and returns their root
// trees. It must run before the index is loaded (§15: a snapshot saved
// meanwhile then has its index files already written).
func snapshotRoots(ctx context.Context, r *repo.Repository, ignore []repo.ID) ([]repo.ID, error) {
	sns, err := snapshot.LoadAll(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("load snapshots: %w", err)
	}
	roots := make([]repo.ID, 0, len(sns))
	for _, sn := range sns {
		if slices.Contains(ignore, sn.ID()) {
			continue
		}
		if sn.Tree == nil || sn.Tree.IsNull() {
			return nil, errors.New("snapshot " + sn.ID().Str() + " has no tree")
		}
		roots = append(roots, *sn.Tree)
	}
	return roots, nil
}
