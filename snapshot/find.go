package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hbackup/hbackup/repo"
)

var (
	// ErrNotFound is returned (wrapped) when no snapshot matches, or a path
	// inside a snapshot does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous is returned (wrapped) when an ID prefix matches several
	// snapshots.
	ErrAmbiguous = errors.New("ambiguous snapshot ID prefix")
)

// TagList is a set of tags a snapshot must all have (one --tag a,b flag).
type TagList []string

// ParseTagList splits a comma-separated --tag value, trimming spaces and
// dropping empty tags. A value with no tags gives [""], which matches
// snapshots without tags.
func ParseTagList(s string) TagList {
	var l TagList
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			l = append(l, t)
		}
	}
	if len(l) == 0 {
		return TagList{""}
	}
	return l
}

// Filter selects snapshots as restic's --host, --tag and --path do. The
// zero Filter matches every snapshot.
type Filter struct {
	Hosts []string  // the hostname is one of these
	Tags  []TagList // the snapshot has all tags of at least one list
	Paths []string  // each path is exactly one of the snapshot's paths
}

// String describes the filter for messages.
func (f Filter) String() string {
	var parts []string
	if len(f.Hosts) > 0 {
		parts = append(parts, fmt.Sprintf("hosts %q", f.Hosts))
	}
	if len(f.Tags) > 0 {
		parts = append(parts, fmt.Sprintf("tags %q", f.Tags))
	}
	if len(f.Paths) > 0 {
		parts = append(parts, fmt.Sprintf("paths %q", f.Paths))
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, ", ")
}

// Matches reports whether sn passes the filter.
func (f Filter) Matches(sn *Snapshot) bool {
	return sn.HasHostname(f.Hosts) && sn.HasTagList(f.Tags) && sn.HasPaths(f.Paths)
}

// Find resolves s to a snapshot: "latest" (the newest snapshot passing f),
// a full ID, or a unique prefix of one. f applies only to "latest", as in
// restic. A prefix matching nothing wraps ErrNotFound; one matching several
// snapshots wraps ErrAmbiguous.
func Find(ctx context.Context, r ListLoader, s string, f Filter) (*Snapshot, error) {
	if s == "latest" {
		return findLatest(ctx, r, f)
	}
	prefix := strings.ToLower(s)
	if prefix == "" || len(prefix) > 64 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("invalid snapshot ID %q: want hex digits or \"latest\"", s)
	}
	ids, err := listIDs(ctx, r)
	if err != nil {
		return nil, err
	}
	var match []repo.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), prefix) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return nil, fmt.Errorf("snapshot %q: %w", s, ErrNotFound)
	case 1:
		return Load(ctx, r, match[0])
	}
	slices.SortFunc(match, func(a, b repo.ID) int { return slices.Compare(a[:], b[:]) })
	return nil, fmt.Errorf("snapshot %q matches %d snapshots (%s, %s, ...): %w",
		s, len(match), match[0].Str(), match[1].Str(), ErrAmbiguous)
}

func findLatest(ctx context.Context, r ListLoader, f Filter) (*Snapshot, error) {
	sns, err := LoadAll(ctx, r)
	if err != nil {
		return nil, err
	}
	var best *Snapshot
	for _, sn := range sns {
		if f.Matches(sn) && newer(sn, best) {
			best = sn
		}
	}
	if best == nil {
		return nil, fmt.Errorf("latest snapshot (%v): %w", f, ErrNotFound)
	}
	return best, nil
}

// FindParent picks the parent for a new backup as restic does by default:
// the newest snapshot not newer than before, of the same host, with the
// same set of paths in any order. Ties in time go to the higher ID. It
// returns nil when none fits.
func FindParent(sns []*Snapshot, host string, paths []string, before time.Time) *Snapshot {
	var best *Snapshot
	for _, sn := range sns {
		if sn.Time.After(before) || sn.Hostname != host || !sn.samePaths(paths) {
			continue
		}
		if newer(sn, best) {
			best = sn
		}
	}
	return best
}

// FindSubtree walks from the tree root down subpath ("sub/folder", slash
// separated, relative to the snapshot's root) and returns the tree ID of
// that directory. An empty subpath, "." or "/" give root itself.
func FindSubtree(ctx context.Context, r BlobLoader, root repo.ID, subpath string) (repo.ID, error) {
	id := root
	walked := ""
	for _, name := range strings.Split(path.Clean("/"+subpath), "/") {
		if name == "" {
			continue
		}
		walked = path.Join(walked, name)
		t, err := LoadTree(ctx, r, id)
		if err != nil {
			return repo.ID{}, fmt.Errorf("path %q: %w", walked, err)
		}
		n := t.Find(name)
		if n == nil {
			return repo.ID{}, fmt.Errorf("path %q: %w", walked, ErrNotFound)
		}
		if n.Type != NodeTypeDir || n.Subtree == nil {
			return repo.ID{}, fmt.Errorf("path %q: is a %s, not a directory", walked, n.Type)
		}
		id = *n.Subtree
	}
	return id, nil
}
