package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

// diffStatsJSON is the last line of `diff --json`, restic's shape.
type diffStatsJSON struct {
	MessageType    string            `json:"message_type"`
	SourceSnapshot string            `json:"source_snapshot"`
	TargetSnapshot string            `json:"target_snapshot"`
	ChangedFiles   int               `json:"changed_files"`
	Added          snapshot.DiffStat `json:"added"`
	Removed        snapshot.DiffStat `json:"removed"`
}

type diffChangeJSON struct {
	MessageType string `json:"message_type"`
	Path        string `json:"path"`
	Modifier    string `json:"modifier"`
}

func diffCommand() *command {
	return &command{
		name:  "diff",
		usage: "[flags] snapshotID snapshotID",
		short: "Show differences between two snapshots",
		long: `The "diff" command shows differences from the first to the second
snapshot. Each line starts with what happened to the item:

+  added
-  removed
U  metadata (mode, timestamps, ...) updated (with --metadata)
M  file content modified
T  type changed, e.g. a file became a symlink`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			metadata := fs.Bool("metadata", false, "print changes in metadata")
			return func(ctx context.Context, args []string) error {
				if len(args) != 2 {
					return errors.New("specify two snapshot IDs")
				}
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				var sns [2]*snapshot.Snapshot
				for i, a := range args {
					if sns[i], err = snapshot.Find(ctx, r, a, snapshot.Filter{}); err != nil {
						return err
					}
					if sns[i].Tree == nil {
						return fmt.Errorf("snapshot %v has nil tree", sns[i].ID().Str())
					}
				}
				if !g.json {
					g.printf("comparing snapshot %s to %s:\n\n", sns[0].ID().Str(), sns[1].ID().Str())
				}
				if err := r.LoadIndex(ctx); err != nil {
					return err
				}
				emit := func(c snapshot.DiffChange) error {
					switch {
					case g.quiet:
						return nil
					case g.json:
						return writeJSON(g.stdout, diffChangeJSON{"change", c.Path, c.Modifier})
					}
					_, err := fmt.Fprintf(g.stdout, "%-5s%s\n", c.Modifier, c.Path)
					return err
				}
				res, err := snapshot.Diff(ctx, r, r.Index(), *sns[0].Tree, *sns[1].Tree, *metadata, emit)
				if err != nil {
					return err
				}
				if g.json {
					// The snapshot IDs are echoed as given, as restic does.
					return writeJSON(g.stdout, diffStatsJSON{"statistics", args[0], args[1], res.ChangedFiles, res.Added, res.Removed})
				}
				w := g.stdout
				fmt.Fprintf(w, "\n")
				fmt.Fprintf(w, "Files:       %5d new, %5d removed, %5d changed\n", res.Added.Files, res.Removed.Files, res.ChangedFiles)
				fmt.Fprintf(w, "Dirs:        %5d new, %5d removed\n", res.Added.Dirs, res.Removed.Dirs)
				fmt.Fprintf(w, "Others:      %5d new, %5d removed\n", res.Added.Others, res.Removed.Others)
				fmt.Fprintf(w, "Data Blobs:  %5d new, %5d removed\n", res.Added.DataBlobs, res.Removed.DataBlobs)
				fmt.Fprintf(w, "Tree Blobs:  %5d new, %5d removed\n", res.Added.TreeBlobs, res.Removed.TreeBlobs)
				fmt.Fprintf(w, "  Added:   %-5s\n", formatBytes(res.Added.Bytes))
				fmt.Fprintf(w, "  Removed: %-5s\n", formatBytes(res.Removed.Bytes))
				return nil
			}
		},
	}
}
