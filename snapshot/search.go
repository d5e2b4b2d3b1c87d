package snapshot

import (
	"context"
	"strings"

	"github.com/hbackup/hbackup/repo"
)

// IDMatcher matches object IDs against full IDs or hex prefixes, as
// `find --blob/--tree` take them.
type IDMatcher struct {
	full     map[repo.ID]bool
	prefixes []string
}

// NewIDMatcher lowercases the patterns; a 64-digit one is a full ID.
func NewIDMatcher(patterns []string) *IDMatcher {
	m := &IDMatcher{full: map[repo.ID]bool{}}
	for _, p := range patterns {
		p = strings.ToLower(p)
		if id, err := repo.ParseID(p); err == nil {
			m.full[id] = true
		} else {
			m.prefixes = append(m.prefixes, p)
		}
	}
	return m
}

// Match reports whether id is one of the searched IDs.
func (m *IDMatcher) Match(id repo.ID) bool {
	if m.full[id] {
		return true
	}
	if len(m.prefixes) == 0 {
		return false
	}
	s := id.String()
	for _, p := range m.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// ObjectHit is one place where a searched blob or tree is used.
type ObjectHit struct {
	ID         repo.ID
	Type       repo.BlobType
	Path       string  // the file holding the blob, or the directory of the tree
	ParentTree repo.ID // for a data blob: the tree listing the file
}

// FindObjects walks the snapshot's trees and calls fn for each use of a
// data blob (when blobs is true) or subtree (when false) matching m. Like
// restic, every use is reported, also in subtrees shared with other
// snapshots, and the root tree itself is not a match.
func FindObjects(ctx context.Context, r BlobLoader, root repo.ID, m *IDMatcher, blobs bool, fn func(ObjectHit) error) error {
	return findObjects(ctx, r, root, "/", m, blobs, fn)
}

func findObjects(ctx context.Context, r BlobLoader, tree repo.ID, dir string, m *IDMatcher, blobs bool, fn func(ObjectHit) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := LoadTree(ctx, r, tree)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		p := strings.TrimSuffix(dir, "/") + "/" + n.Name
		if blobs && n.Type == NodeTypeFile {
			for _, id := range n.Content {
				if m.Match(id) {
					if err := fn(ObjectHit{ID: id, Type: repo.DataBlob, Path: p, ParentTree: tree}); err != nil {
						return err
					}
				}
			}
		}
		if n.Type != NodeTypeDir || n.Subtree == nil {
			continue
		}
		if !blobs && m.Match(*n.Subtree) {
			if err := fn(ObjectHit{ID: *n.Subtree, Type: repo.TreeBlob, Path: p}); err != nil {
				return err
			}
		}
		if err := findObjects(ctx, r, *n.Subtree, p, m, blobs, fn); err != nil {
			return err
		}
	}
	return nil
}
