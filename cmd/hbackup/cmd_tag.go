package main

import (
	"context"
	"errors"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

func tagCommand() *command {
	return &command{
		name:  "tag",
		usage: "[flags] [snapshotID ...]",
		short: "Modify tags on snapshots",
		long: `The "tag" command adds, removes or replaces the tags of the given
snapshots, or of all snapshots passing the --host/--tag/--path filters.
Each changed snapshot is written as a new file whose "original" field
names its first version, and the old file is removed.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var f filterFlags
			f.register(fs)
			var set, add, remove []string
			fs.StringArrayVar(&set, "set", nil, "`tags` which will replace the existing tags in the format `tag[,tag,...]` (can be given multiple times)")
			fs.StringArrayVar(&add, "add", nil, "`tags` which will be added to the existing tags in the format `tag[,tag,...]` (can be given multiple times)")
			fs.StringArrayVar(&remove, "remove", nil, "`tags` which will be removed from the existing tags in the format `tag[,tag,...]` (can be given multiple times)")
			return func(ctx context.Context, args []string) error {
				change := snapshot.TagChange{SetTags: fs.Changed("set"), Set: splitTags(set), Add: splitTags(add), Remove: splitTags(remove)}
				if !change.SetTags && len(change.Add) == 0 && len(change.Remove) == 0 {
					return errors.New("nothing to do!")
				}
				if change.SetTags && (len(add) > 0 || len(remove) > 0) {
					return errors.New("--set and --add/--remove cannot be given at the same time")
				}
				r, done, err := g.openRepository(ctx, exclusiveLock)
				if err != nil {
					return err
				}
				defer done()
				list, err := selectSnapshots(ctx, g, r, args, f.filter())
				if err != nil {
					return err
				}
				changed := 0
				for _, sn := range list {
					if !change.Apply(sn) {
						continue
					}
					old := sn.ID()
					id, err := snapshot.Replace(ctx, r, sn)
					if err != nil {
						return err
					}
					if g.verbose > 0 {
						g.printf("old snapshot ID: %s -> new snapshot ID: %s\n", old, id)
					}
					changed++
				}
				if changed == 0 {
					g.printf("no snapshots were modified\n")
				} else {
					g.printf("modified tags on %d snapshots\n", changed)
				}
				return nil
			}
		},
	}
}

// splitTags flattens comma-separated tag lists.
func splitTags(lists []string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, snapshot.ParseTagList(l)...)
	}
	return out
}
