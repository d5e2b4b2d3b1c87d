package main

import (
	"context"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// selectSnapshots resolves snapshot arguments ("latest", IDs, prefixes),
// or, without arguments, returns every snapshot passing the filter, oldest
// first. A snapshot named twice is returned once.
func selectSnapshots(ctx context.Context, g *globalOptions, r *repo.Repository, args []string, f snapshot.Filter) ([]*snapshot.Snapshot, error) {
	if len(args) == 0 {
		all, err := snapshot.LoadAllFunc(ctx, r, g.warnSnapshot)
		if err != nil {
			return nil, err
		}
		var out []*snapshot.Snapshot
		for _, sn := range all {
			if f.Matches(sn) {
				out = append(out, sn)
			}
		}
		return out, nil
	}
	seen := map[repo.ID]bool{}
	var out []*snapshot.Snapshot
	for _, a := range args {
		sn, err := snapshot.Find(ctx, r, a, f)
		if err != nil {
			return nil, err
		}
		if !seen[sn.ID()] {
			seen[sn.ID()] = true
			out = append(out, sn)
		}
	}
	return out, nil
}
