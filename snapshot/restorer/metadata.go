package restorer

import (
	"context"

	"github.com/hbackup/hbackup/snapshot"
)

// restoreMetadata applies xattrs, owner, mode and times once all content
// is written: files and special nodes first (files whose writer already
// applied theirs, see packWriter.finish, are skipped), then directories
// from the last created to the first, so every directory comes after its
// children and nothing touches its mtime afterwards.
func (rs *restorer) restoreMetadata(ctx context.Context) error {
	opts := snapshot.RestoreMetadataOptions{Owner: rs.opts.Owner}
	apply := func(path string, n *snapshot.Node) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := n.RestoreMetadata(path, opts); err != nil {
			return rs.fail(ctx, path, err)
		}
		return nil
	}
	for _, f := range rs.files {
		// Hardlinks share the inode: applying it to the first path is enough.
		if f.metaDone || f.failed.Load() || f.pending.Load() != 0 {
			continue
		}
		if err := apply(f.path, f.node); err != nil {
			return err
		}
	}
	for _, s := range rs.specials {
		if err := apply(s.path, s.node); err != nil {
			return err
		}
	}
	for i := len(rs.dirs) - 1; i >= 0; i-- {
		if err := apply(rs.dirs[i].path, rs.dirs[i].node); err != nil {
			return err
		}
	}
	return nil
}
