package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

// filterFlags are restic's --host/--tag/--path snapshot filters.
type filterFlags struct {
	hosts []string
	tags  []string
	paths []string
}

func (f *filterFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.hosts, "host", "H", nil, "only consider snapshots for this `host` (can be specified multiple times) (default: $RESTIC_HOST)")
	fs.StringArrayVar(&f.tags, "tag", nil, "only consider snapshots including `tag[,tag,...]` (can be specified multiple times)")
	fs.StringArrayVar(&f.paths, "path", nil, "only consider snapshots including this (absolute) `path` (can be specified multiple times)")
}

func (f *filterFlags) filter() snapshot.Filter {
	var fl snapshot.Filter
	fl.Hosts = f.hosts
	for _, t := range f.tags {
		fl.Tags = append(fl.Tags, snapshot.ParseTagList(t))
	}
	fl.Paths = f.paths
	return fl
}

// snapshotJSON is a snapshot as restic's --json prints it: the stored
// fields followed by id and short_id.
type snapshotJSON struct {
	*snapshot.Snapshot
	ID      repo.ID `json:"id"`
	ShortID string  `json:"short_id"`
}

func snapshotsCommand() *command {
	return &command{
		name:  "snapshots",
		usage: "[snapshotID ...]",
		short: "List all snapshots",
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var f filterFlags
			f.register(fs)
			latest := fs.Int("latest", 0, "only show the last `n` snapshots for each host and path")
			return func(ctx context.Context, args []string) error {
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				var list []*snapshot.Snapshot
				if len(args) > 0 {
					for _, a := range args {
						sn, err := snapshot.Find(ctx, r, a, f.filter())
						if err != nil {
							return err
						}
						list = append(list, sn)
					}
				} else {
					all, err := snapshot.LoadAllFunc(ctx, r, g.warnSnapshot)
					if err != nil {
						return err
					}
					fl := f.filter()
					for _, sn := range all {
						if fl.Matches(sn) {
							list = append(list, sn)
						}
					}
				}
				if *latest > 0 {
					list = latestPerGroup(list, *latest)
				}
				if g.json {
					out := make([]snapshotJSON, len(list))
					for i, sn := range list {
						out[i] = snapshotJSON{Snapshot: sn, ID: sn.ID(), ShortID: sn.ID().Str()}
					}
					return writeJSON(g.stdout, out)
				}
				printSnapshotTable(g, list)
				return nil
			}
		},
	}
}

// latestPerGroup keeps the newest n snapshots per host and path set.
func latestPerGroup(list []*snapshot.Snapshot, n int) []*snapshot.Snapshot {
	groups := map[string][]*snapshot.Snapshot{}
	var keys []string
	for _, sn := range list {
		paths := append([]string(nil), sn.Paths...)
		sort.Strings(paths)
		k, _ := json.Marshal([]any{sn.Hostname, paths})
		if _, ok := groups[string(k)]; !ok {
			keys = append(keys, string(k))
		}
		groups[string(k)] = append(groups[string(k)], sn)
	}
	var out []*snapshot.Snapshot
	for _, k := range keys {
		g := groups[k]
		if len(g) > n {
			g = g[len(g)-n:]
		}
		out = append(out, g...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

func printSnapshotTable(g *globalOptions, list []*snapshot.Snapshot) {
	type row struct{ id, time, host, tags, path string }
	var rows []row
	for _, sn := range list {
		tags := strings.Join(sn.Tags, ",")
		for i, p := range sn.Paths {
			r := row{path: p}
			if i == 0 {
				r = row{sn.ID().Str(), sn.Time.Local().Format("2006-01-02 15:04:05"), sn.Hostname, tags, p}
			}
			rows = append(rows, r)
		}
	}
	hostW, tagW := len("Host"), len("Tags")
	for _, r := range rows {
		hostW, tagW = max(hostW, len(r.host)), max(tagW, len(r.tags))
	}
	header := fmt.Sprintf("%-8s  %-19s  %-*s  %-*s  %s", "ID", "Time", hostW, "Host", tagW, "Tags", "Paths")
	line := strings.Repeat("-", max(len(header), 40))
	fmt.Fprintln(g.stdout, header)
	fmt.Fprintln(g.stdout, line)
	for _, r := range rows {
		fmt.Fprintf(g.stdout, "%-8s  %-19s  %-*s  %-*s  %s\n", r.id, r.time, hostW, r.host, tagW, r.tags, r.path)
	}
	fmt.Fprintln(g.stdout, line)
	fmt.Fprintf(g.stdout, "%d snapshots\n", len(list))
}

// warnSnapshot reports a snapshot file that cannot be loaded and skips it.
func (g *globalOptions) warnSnapshot(id repo.ID, err error) error {
	fmt.Fprintf(g.stderr, "could not load snapshot %v: %v\n", id.Str(), err)
	return nil
}
