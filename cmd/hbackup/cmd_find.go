package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

type findOptions struct {
	snapshots      []string
	long           bool
	ignoreCase     bool
	blob, tree     bool
	pack           bool
	showPackID     bool
	oldest, newest string
}

func findCommand() *command {
	return &command{
		name:  "find",
		usage: "[flags] PATTERN...",
		short: "Find a file, a directory or restic IDs",
		long: `The "find" command searches snapshots for files and directories whose
path matches one of the glob patterns (restic's rules: a pattern without
a leading "/" matches at any depth, and a matching directory matches all
below it). With --blob, --tree or --pack the patterns are IDs (or
prefixes), and find reports where those objects are used.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var o findOptions
			var f filterFlags
			fs.StringVarP(&o.oldest, "oldest", "O", "", "oldest modification date/time")
			fs.StringVarP(&o.newest, "newest", "N", "", "newest modification date/time")
			fs.StringArrayVarP(&o.snapshots, "snapshot", "s", nil, "snapshot `id` to search in (can be given multiple times)")
			fs.BoolVar(&o.blob, "blob", false, "pattern is a blob-ID")
			fs.BoolVar(&o.tree, "tree", false, "pattern is a tree-ID")
			fs.BoolVar(&o.pack, "pack", false, "pattern is a pack-ID")
			fs.BoolVar(&o.showPackID, "show-pack-id", false, "display the pack-ID the blobs belong to (with --blob or --tree)")
			fs.BoolVarP(&o.ignoreCase, "ignore-case", "i", false, "ignore case for pattern")
			fs.BoolVarP(&o.long, "long", "l", false, "use a long listing format showing size and mode")
			f.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return errors.New("wrong number of arguments")
				}
				if n := btoi(o.blob) + btoi(o.tree) + btoi(o.pack); n > 1 {
					return errors.New("cannot have several ID types")
				}
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				if err := r.LoadIndex(ctx); err != nil {
					return err
				}
				list, err := selectSnapshots(ctx, g, r, o.snapshots, f.filter())
				if err != nil {
					return err
				}
				// Newest first, as restic reports them.
				sort.SliceStable(list, func(i, j int) bool { return list[j].Time.Before(list[i].Time) })
				if o.blob || o.tree || o.pack {
					return findIDs(ctx, g, r, list, args, o)
				}
				return findNames(ctx, g, r, list, args, o)
			}
		},
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseFindTime accepts restic's date formats for --oldest/--newest.
func parseFindTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date/time %q: use YYYY-MM-DD[ hh:mm[:ss]]", s)
}

// findMatchJSON is a matching node as restic's `find --json` prints it.
type findMatchJSON struct {
	Path        string    `json:"path,omitempty"`
	Permissions string    `json:"permissions,omitempty"`
	Type        string    `json:"type"`
	Mode        uint32    `json:"mode,omitempty"`
	ModTime     time.Time `json:"mtime"`
	AccessTime  time.Time `json:"atime"`
	ChangeTime  time.Time `json:"ctime"`
	UID         uint32    `json:"uid"`
	GID         uint32    `json:"gid"`
	User        string    `json:"user,omitempty"`
	Group       string    `json:"group,omitempty"`
	DeviceID    uint64    `json:"device_id,omitempty"`
	Size        uint64    `json:"size,omitempty"`
	Links       uint64    `json:"links,omitempty"`
	LinkTarget  string    `json:"linktarget,omitempty"`
	Error       string    `json:"error,omitempty"`
}

type findSnapshotJSON struct {
	Matches  []findMatchJSON `json:"matches"`
	Hits     int             `json:"hits"`
	Snapshot string          `json:"snapshot"`
}

func findNames(ctx context.Context, g *globalOptions, r *repo.Repository, list []*snapshot.Snapshot, args []string, o findOptions) error {
	var oldest, newest time.Time
	var err error
	if o.oldest != "" {
		if oldest, err = parseFindTime(o.oldest); err != nil {
			return err
		}
	}
	if o.newest != "" {
		if newest, err = parseFindTime(o.newest); err != nil {
			return err
		}
	}
	var pats []filter.Pattern
	for _, a := range args {
		if o.ignoreCase {
			a = strings.ToLower(a)
		}
		p, err := filter.ParsePattern(a)
		if err != nil {
			return err
		}
		pats = append(pats, p)
	}
	out := []findSnapshotJSON{}
	printed := 0
	for _, sn := range list {
		res := findSnapshotJSON{Matches: []findMatchJSON{}, Snapshot: sn.ID().String()}
		err := snapshot.Walk(ctx, r, *sn.Tree, "/", func(p string, n *snapshot.Node) (bool, error) {
			if (!oldest.IsZero() && n.ModTime.Before(oldest)) || (!newest.IsZero() && n.ModTime.After(newest)) {
				return true, nil
			}
			name := p
			if o.ignoreCase {
				name = strings.ToLower(p)
			}
			matched := false
			for _, pat := range pats {
				if pat.Match(name) {
					matched = true
					break
				}
			}
			if !matched {
				return true, nil
			}
			if g.json {
				res.Matches = append(res.Matches, findMatch(p, n))
			} else {
				if res.Hits == 0 {
					if printed > 0 {
						fmt.Fprintln(g.stdout)
					}
					fmt.Fprintf(g.stdout, "Found matching entries in snapshot %s from %s\n", sn.ID().Str(), sn.Time.Local().Format("2006-01-02 15:04:05"))
					printed++
				}
				if o.long {
					fmt.Fprintln(g.stdout, findLong(p, n))
				} else {
					fmt.Fprintln(g.stdout, p)
				}
			}
			res.Hits++
			return true, nil
		})
		if err != nil {
			return err
		}
		if res.Hits > 0 {
			out = append(out, res)
		}
	}
	if g.json {
		return writeJSON(g.stdout, out)
	}
	return nil
}

func findMatch(p string, n *snapshot.Node) findMatchJSON {
	return findMatchJSON{Path: p, Permissions: n.Mode.String(), Type: string(n.Type), Mode: uint32(n.Mode),
		ModTime: n.ModTime, AccessTime: n.AccessTime, ChangeTime: n.ChangeTime, UID: n.UID, GID: n.GID,
		User: n.User, Group: n.Group, DeviceID: n.DeviceID, Size: n.Size, Links: n.Links,
		LinkTarget: validUTF8(n.LinkTarget), Error: n.Error}
}

// validUTF8 replaces each invalid byte with U+FFFD, which is what restic
// shows for a target it read back from a tree's JSON.
func validUTF8(s string) string { return string([]rune(s)) }

// findLong is restic's `find -l` line: numeric owners, unlike ls -l.
func findLong(p string, n *snapshot.Node) string {
	target := ""
	if n.Type == snapshot.NodeTypeSymlink {
		target = " -> " + validUTF8(n.LinkTarget)
	}
	return fmt.Sprintf("%s %5d %5d %6d %s %s%s", n.Mode, n.UID, n.GID, n.Size,
		n.ModTime.Local().Format("2006-01-02 15:04:05"), p, target)
}
