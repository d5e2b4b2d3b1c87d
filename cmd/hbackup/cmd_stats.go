package main

import (
	"context"
	"fmt"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

func statsCommand() *command {
	return &command{
		name:  "stats",
		usage: "[flags] [snapshot ID] [...]",
		short: "Scan the repository and show basic statistics",
		long: `The "stats" command walks one or more snapshots and adds up what they
hold, in one of four modes:

restore-size:      size of all files and directories a restore would create
files-by-contents: unique files by their contents, counted once
blobs-per-file:    size of the blobs of each file (by path), counted once
raw-data:          size of the unique blobs in the repository, as stored`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			mode := fs.String("mode", snapshot.StatsRestoreSize, "counting mode: restore-size (default), files-by-contents, blobs-per-file or raw-data")
			var f filterFlags
			f.register(fs)
			return func(ctx context.Context, args []string) error {
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				if err := r.LoadIndex(ctx); err != nil {
					return err
				}
				c, err := snapshot.NewStatsCollector(*mode, r, r.Index())
				if err != nil {
					return err
				}
				list, err := selectSnapshots(ctx, g, r, args, f.filter())
				if err != nil {
					return err
				}
				if !g.json {
					fmt.Fprintln(g.stdout, "scanning...")
				}
				for _, sn := range list {
					if err := c.Add(ctx, sn); err != nil {
						return err
					}
				}
				s := c.Stats
				if g.json {
					return writeJSON(g.stdout, s)
				}
				fmt.Fprintf(g.stdout, "Stats in %s mode:\n", *mode)
				fmt.Fprintf(g.stdout, "Snapshots processed:   %d\n", s.SnapshotsCount)
				if s.TotalBlobCount > 0 {
					fmt.Fprintf(g.stdout, "   Total Blob Count:   %d\n", s.TotalBlobCount)
				}
				if s.TotalFileCount > 0 {
					fmt.Fprintf(g.stdout, "   Total File Count:   %d\n", s.TotalFileCount)
				}
				fmt.Fprintf(g.stdout, "         Total Size:   %-5s\n", formatBytes(s.TotalSize))
				return nil
			}
		},
	}
}
