package zfs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Snapshot is a ZFS snapshot.
type Snapshot struct {
	Dataset   string // "pool/ds"
	Name      string // the part after "@"
	Created   time.Time
	CreateTXG uint64 // orders snapshots of one pool exactly
	GUID      uint64 // identical on both sides of a send/receive
	UserRefs  int    // number of holds
	Used      uint64
}

// FullName returns "pool/ds@name".
func (s Snapshot) FullName() string { return s.Dataset + "@" + s.Name }

var snapshotProps = []string{"name", "creation", "createtxg", "guid", "userrefs", "used"}

func snapshotFrom(ps propSet) (Snapshot, error) {
	ds, name, ok := strings.Cut(ps.Name, "@")
	if !ok {
		return Snapshot{}, fmt.Errorf("zfs: %q is not a snapshot name", ps.Name)
	}
	s := Snapshot{Dataset: ds, Name: name}
	var err error
	if s.Created, err = timeProp(ps, "creation"); err != nil {
		return s, err
	}
	if s.CreateTXG, err = uintProp(ps, "createtxg"); err != nil {
		return s, err
	}
	if s.GUID, err = uintProp(ps, "guid"); err != nil {
		return s, err
	}
	refs, err := uintProp(ps, "userrefs")
	if err != nil {
		return s, err
	}
	s.UserRefs = int(refs)
	s.Used, err = uintProp(ps, "used")
	return s, err
}

// Snapshots returns the snapshots of dataset, and with recursive those of
// its descendants, sorted by CreateTXG (then name).
func (r *Runner) Snapshots(ctx context.Context, dataset string, recursive bool) ([]Snapshot, error) {
	depth := 1 // a dataset's snapshots are its children at depth 1
	if recursive {
		depth = depthRecursive
	}
	sets, err := r.query(ctx, []string{dataset}, depth, []string{"snapshot"}, snapshotProps)
	if err != nil {
		return nil, err
	}
	var out []Snapshot
	for _, ps := range sets {
		s, err := snapshotFrom(ps)
		if err != nil {
			return nil, err
		}
		if recursive || s.Dataset == dataset {
			out = append(out, s)
		}
	}
	sortSnapshots(out)
	return out, nil
}

func sortSnapshots(s []Snapshot) {
	slices.SortStableFunc(s, func(a, b Snapshot) int {
		if c := cmp.Compare(a.CreateTXG, b.CreateTXG); c != 0 {
			return c
		}
		if c := strings.Compare(a.Dataset, b.Dataset); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Snapshot creates the snapshots names ("pool/ds@snap") in one command, so
// they are atomic: one transaction group. With recursive, descendants get
// a same-named snapshot too. zfs-fuse takes a single name
// (ErrUnsupported for more).
func (r *Runner) Snapshot(ctx context.Context, names []string, recursive bool, props map[string]string) error {
	if len(names) == 0 {
		return fmt.Errorf("zfs snapshot: no snapshot name given")
	}
	for _, n := range names {
		if !strings.Contains(n, "@") {
			return fmt.Errorf("zfs snapshot: %q has no @", n)
		}
	}
	if len(names) > 1 {
		caps, err := r.Capabilities(ctx)
		if err != nil {
			return err
		}
		if !caps.MultiSnapshot {
			return unsupported("several snapshots in one atomic command (this zfs takes one name; use recursive snapshots of a common parent)")
		}
	}
	args := []string{"snapshot"}
	if recursive {
		args = append(args, "-r")
	}
	args = append(args, propArgs(props)...)
	_, err := r.zfs(ctx, append(args, names...)...)
	return err
}

// Bookmark creates bookmark ("pool/ds#mark") from snapshot.
func (r *Runner) Bookmark(ctx context.Context, snapshot, bookmark string) error {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return err
	}
	if !caps.Bookmarks {
		return unsupported("bookmarks")
	}
	_, err = r.zfs(ctx, "bookmark", snapshot, bookmark)
	return err
}

// BookmarkInfo is a bookmark: the GUID and txg of the snapshot it marks.
type BookmarkInfo struct {
	Dataset, Name string
	CreateTXG     uint64
	GUID          uint64
	Created       time.Time
}

// FullName returns "pool/ds#name".
func (b BookmarkInfo) FullName() string { return b.Dataset + "#" + b.Name }

// Bookmarks lists the bookmarks of dataset, sorted by CreateTXG. Without
// bookmark support it returns none.
func (r *Runner) Bookmarks(ctx context.Context, dataset string) ([]BookmarkInfo, error) {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	if !caps.Bookmarks {
		return nil, nil
	}
	sets, err := r.query(ctx, []string{dataset}, 1, []string{"bookmark"}, []string{"name", "creation", "createtxg", "guid"})
	if err != nil {
		return nil, err
	}
	var out []BookmarkInfo
	for _, ps := range sets {
		ds, name, ok := strings.Cut(ps.Name, "#")
		if !ok || ds != dataset {
			continue
		}
		b := BookmarkInfo{Dataset: ds, Name: name}
		if b.CreateTXG, err = uintProp(ps, "createtxg"); err != nil {
			return nil, err
		}
		if b.GUID, err = uintProp(ps, "guid"); err != nil {
			return nil, err
		}
		if b.Created, err = timeProp(ps, "creation"); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b BookmarkInfo) int { return cmp.Compare(a.CreateTXG, b.CreateTXG) })
	return out, nil
}

// parseHolds reads "zfs holds -H -p": name, tag, creation per line.
func parseHolds(out []byte) ([]string, error) {
	var tags []string
	for n, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("zfs holds: line %d: %q", n+1, line)
		}
		tags = append(tags, f[1])
	}
	return tags, nil
}

// Hold places the hold tag on each snapshot, in one command.
func (r *Runner) Hold(ctx context.Context, tag string, snapshots ...string) error {
	if len(snapshots) == 0 {
		return nil
	}
	_, err := r.zfs(ctx, append([]string{"hold", tag}, snapshots...)...)
	return err
}

// Release removes the hold tag from each snapshot.
func (r *Runner) Release(ctx context.Context, tag string, snapshots ...string) error {
	if len(snapshots) == 0 {
		return nil
	}
	_, err := r.zfs(ctx, append([]string{"release", tag}, snapshots...)...)
	return err
}

// Holds returns the hold tags of snapshot. zfs-fuse cannot list tags: there
// it returns no tags when the snapshot's userrefs is 0, and ErrUnsupported
// otherwise.
func (r *Runner) Holds(ctx context.Context, snapshot string) ([]string, error) {
	caps, err := r.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	if caps.Holds {
		out, err := r.zfs(ctx, "holds", "-H", "-p", snapshot)
		if err != nil {
			return nil, err
		}
		return parseHolds(out)
	}
	p, err := r.Get(ctx, snapshot, "userrefs")
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(p["userrefs"])
	if err != nil {
		return nil, fmt.Errorf("zfs: %s: userrefs %q: %w", snapshot, p["userrefs"], err)
	}
	if n == 0 {
		return nil, nil
	}
	return nil, unsupported(fmt.Sprintf("listing hold tags (%s has %d holds)", snapshot, n))
}
