package snapshot

import (
	"context"
	"fmt"
	"slices"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
)

// TagChange is what `tag` does to a snapshot's tags: replace them all
// (Set, when SetTags is true), or add and remove some.
type TagChange struct {
	SetTags bool
	Set     []string
	Add     []string
	Remove  []string
}

// Apply changes sn's tags and reports whether they changed. Tag order is
// kept and duplicates are not added, as restic does.
func (c TagChange) Apply(sn *Snapshot) bool {
	old := slices.Clone(sn.Tags)
	var tags []string
	if c.SetTags {
		for _, t := range c.Set {
			if t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	} else {
		tags = slices.Clone(sn.Tags)
		for _, t := range c.Add {
			if t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(c.Remove, t) })
	}
	if len(tags) == 0 {
		tags = nil
	}
	sn.Tags = tags
	return !slices.Equal(old, tags)
}

// Rewriter stores a snapshot file and removes the old one.
type Rewriter interface {
	UnpackedSaver
	Backend() backend.Backend
}

// Replace stores sn, changed in memory, as a new snapshot file and removes
// the file it was loaded from. Original keeps pointing at the very first
// version: it is set only when still unset. The new file is written before
// the old one is removed, so a crash leaves a duplicate, never a loss.
func Replace(ctx context.Context, r Rewriter, sn *Snapshot) (repo.ID, error) {
	old := sn.ID()
	if old.IsNull() {
		return repo.ID{}, fmt.Errorf("replace snapshot: it was never saved")
	}
	if sn.Original == nil {
		o := old
		sn.Original = &o
	}
	id, err := Save(ctx, r, sn)
	if err != nil {
		return repo.ID{}, err
	}
	if id == old {
		return id, nil
	}
	h := backend.Handle{Type: backend.SnapshotFile, Name: old.String()}
	if err := r.Backend().Remove(ctx, h); err != nil {
		return id, fmt.Errorf("remove old %s: %w", fileName(old), err)
	}
	return id, nil
}
