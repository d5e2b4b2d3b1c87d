package copier

import (
	"context"
	"fmt"
	"sync"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"golang.org/x/sync/errgroup"
)

// walk loads the trees below root, one level at a time with ru.conc loads
// in flight, stores each tree the destination lacks as the source's raw
// bytes (so tree IDs never change), and returns the data blobs the
// destination lacks. Trees the destination already has are still walked:
// an interrupted copy may have stored a tree but not all of its data.
func (ru *run) walk(ctx context.Context, root repo.ID) ([]repo.BlobHandle, error) {
	var need []repo.BlobHandle
	var level []repo.ID
	if !ru.visited[root] {
		ru.visited[root] = true
		level = append(level, root)
	}
	for len(level) > 0 {
		var (
			mu   sync.Mutex
			next []repo.ID
		)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(ru.conc)
		for _, id := range level {
			g.Go(func() error {
				tree, err := ru.copyTree(gctx, ctx, id)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				for _, n := range tree.Nodes {
					if n.Subtree != nil && !ru.visited[*n.Subtree] {
						ru.visited[*n.Subtree] = true
						next = append(next, *n.Subtree)
					}
					for _, c := range n.Content {
						h := repo.BlobHandle{ID: c, Type: repo.DataBlob}
						if !ru.queued[h] && !ru.dst.Index().Has(h) {
							ru.queued[h] = true
							need = append(need, h)
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
	return need, nil
}

// copyTree loads one source tree, stores it in the destination unless it
// is there already, and returns it decoded. The destination keeps saveCtx
// for uploads that outlive this call, so it must not be the errgroup's
// context, which ends when the group does.
func (ru *run) copyTree(ctx, saveCtx context.Context, id repo.ID) (*snapshot.Tree, error) {
	raw, err := ru.src.LoadBlob(ctx, repo.TreeBlob, id, nil)
	if err != nil {
		return nil, fmt.Errorf("load tree %s: %w", id.Str(), err)
	}
	tree, err := snapshot.DecodeTree(raw)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", id.Str(), err)
	}
	known, _, err := ru.dst.SaveBlobID(saveCtx, repo.TreeBlob, id, raw)
	if err != nil {
		return nil, fmt.Errorf("save tree %s: %w", id.Str(), err)
	}
	if !known {
		ru.treeBlobs.Add(1)
		ru.bytes.Add(uint64(len(raw)))
	}
	return tree, nil
}
