// Package copier copies snapshots, with every tree and data blob they
// reference, from one repository to others, as restic's copy command does.
// Blobs are copied as they are (never re-chunked), so data deduplicates
// against what the destination already holds only when both repositories
// share the chunker polynomial.
package copier

import (
	"context"
	"fmt"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Selection chooses the source snapshots.
type Selection struct {
	// IDs are snapshot IDs, unique prefixes or "latest"; empty selects
	// every snapshot passing Filter. As in restic, Filter applies to
	// "latest" but not to explicit IDs.
	IDs    []string
	Filter snapshot.Filter
	// OnError is told about an ID that matches nothing and a snapshot file
	// that cannot be read; returning nil skips it (restic warns and goes
	// on). A nil OnError fails on the first such error.
	OnError func(what string, err error) error
}

// Source is a source repository with its snapshots selected and its index
// loaded; it can be copied to several destinations in turn.
type Source struct {
	r      *repo.Repository
	snaps  []*snapshot.Snapshot
	filter snapshot.Filter
}

// Open selects the snapshots of src and then loads its index, in that
// order so every selected snapshot's blobs are in the loaded index.
func Open(ctx context.Context, src *repo.Repository, sel Selection) (*Source, error) {
	onErr := func(what string, err error) error {
		if sel.OnError == nil {
			return err
		}
		return sel.OnError(what, err)
	}
	var snaps []*snapshot.Snapshot
	if len(sel.IDs) == 0 {
		all, err := snapshot.LoadAllFunc(ctx, src, func(id repo.ID, err error) error {
			return onErr("snapshot "+id.Str(), err)
		})
		if err != nil {
			return nil, fmt.Errorf("source snapshots: %w", err)
		}
		for _, sn := range all {
			if sel.Filter.Matches(sn) {
				snaps = append(snaps, sn)
			}
		}
	} else {
		seen := make(map[repo.ID]bool)
		for _, s := range sel.IDs {
			sn, err := snapshot.Find(ctx, src, s, sel.Filter)
			if err != nil {
				if err := onErr(fmt.Sprintf("%q", s), err); err != nil {
					return nil, fmt.Errorf("source snapshot %q: %w", s, err)
				}
				continue
			}
			if !seen[sn.ID()] {
				seen[sn.ID()] = true
				snaps = append(snaps, sn)
			}
		}
	}
	if err := src.LoadIndex(ctx); err != nil {
		return nil, fmt.Errorf("load source index: %w", err)
	}
	return &Source{r: src, snaps: snaps, filter: sel.Filter}, nil
}

// Snapshots returns the selected source snapshots.
func (s *Source) Snapshots() []*snapshot.Snapshot { return s.snaps }

// persistentID is the ID that survives metadata rewrites and copies: the
// snapshot's original, or its own ID when it has none.
func persistentID(sn *snapshot.Snapshot) repo.ID {
	if sn.Original != nil && !sn.Original.IsNull() {
		return *sn.Original
	}
	return sn.ID()
}

// destIndex maps persistent IDs to destination snapshots. Like restic, a
// destination snapshot is filed under its original and under its own ID,
// so a snapshot that was copied back to where it came from is found too.
func destIndex(dst []*snapshot.Snapshot, f snapshot.Filter) map[repo.ID][]*snapshot.Snapshot {
	m := make(map[repo.ID][]*snapshot.Snapshot)
	for _, sn := range dst {
		if !f.Matches(sn) {
			continue
		}
		if sn.Original != nil && !sn.Original.IsNull() {
			m[*sn.Original] = append(m[*sn.Original], sn)
		}
		m[sn.ID()] = append(m[sn.ID()], sn)
	}
	return m
}

// alreadyCopied returns the destination snapshot that is a copy of sn,
// or nil: one with the same persistent ID whose fields other than parent
// and original all match (restic 0.14's rule in cmd_copy.go).
func alreadyCopied(byOriginal map[repo.ID][]*snapshot.Snapshot, sn *snapshot.Snapshot) *snapshot.Snapshot {
	for _, d := range byOriginal[persistentID(sn)] {
		if similar(d, sn) {
			return d
		}
	}
	return nil
}

// similar compares everything restic compares: time, tree, host, user,
// uid/gid, excludes in order, and paths and tags as sets of equal size.
func similar(a, b *snapshot.Snapshot) bool {
	if !a.Time.Equal(b.Time) || a.Tree == nil || b.Tree == nil || *a.Tree != *b.Tree ||
		a.Hostname != b.Hostname || a.Username != b.Username || a.UID != b.UID || a.GID != b.GID {
		return false
	}
	if len(a.Excludes) != len(b.Excludes) {
		return false
	}
	for i := range a.Excludes {
		if a.Excludes[i] != b.Excludes[i] {
			return false
		}
	}
	return sameSize(a.Paths, b.Paths) && containsAll(a.Paths, b.Paths) &&
		sameSize(a.Tags, b.Tags) && containsAll(a.Tags, b.Tags)
}

func sameSize(a, b []string) bool { return len(a) == len(b) }

// containsAll reports whether every element of sub is in set.
func containsAll(set, sub []string) bool {
	m := make(map[string]bool, len(set))
	for _, s := range set {
		m[s] = true
	}
	for _, s := range sub {
		if !m[s] {
			return false
		}
	}
	return true
}

// copyOf returns the snapshot to write to a destination: every field kept,
// except that the parent is dropped (it means nothing there) and original
// records the source snapshot when it was unset, as restic does.
func copyOf(sn *snapshot.Snapshot) *snapshot.Snapshot {
	c := *sn
	c.Parent = nil
	if c.Original == nil || c.Original.IsNull() {
		id := sn.ID()
		c.Original = &id
	}
	return &c
}
