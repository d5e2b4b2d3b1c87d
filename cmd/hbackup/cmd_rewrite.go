package main

import (
	"context"
	"errors"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/snapshot/rewriter"
	"github.com/spf13/pflag"
)

func rewriteCommand() *command {
	return &command{
		name:  "rewrite",
		usage: "[flags] [snapshotID ...]",
		short: "Rewrite snapshots to exclude unwanted files",
		long: `The "rewrite" command excludes files from existing snapshots. It creates new
snapshots containing the same data as the original ones, but without the files
you specify to exclude. All metadata (time, host, tags) will be preserved, and
"original" names the snapshot that was rewritten.

The snapshots to rewrite are specified using the --host, --tag and --path
options, or by providing a list of snapshot IDs. Specifying neither rewrites
all snapshots. A snapshot from which nothing is excluded is left unchanged.

The special tag "rewrite" is added to the new snapshots unless --forget is
used, which removes the original snapshots instead. Only "prune" deletes the
data no snapshot references any more.

Exit status is 0 if the command was successful, and 1 if there was any error.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var f filterFlags
			f.register(fs)
			var ex filter.ExcludeOptions
			fs.StringArrayVarP(&ex.Excludes, "exclude", "e", nil, "exclude a `pattern` (can be specified multiple times)")
			fs.StringArrayVar(&ex.InsensitiveExcludes, "iexclude", nil, "same as --exclude `pattern` but ignores the casing of filenames")
			fs.StringArrayVar(&ex.ExcludeFiles, "exclude-file", nil, "read exclude patterns from a `file` (can be specified multiple times)")
			fs.StringArrayVar(&ex.InsensitiveExcludeFiles, "iexclude-file", nil, "same as --exclude-file but ignores casing of `file`names in patterns")
			forget := fs.Bool("forget", false, "remove original snapshots after creating new ones")
			dryRun := fs.BoolP("dry-run", "n", false, "do not do anything, just print what would be done")
			return func(ctx context.Context, args []string) error {
				if len(ex.Excludes)+len(ex.InsensitiveExcludes)+len(ex.ExcludeFiles)+len(ex.InsensitiveExcludeFiles) == 0 {
					return errors.New("Nothing to do: no excludes provided")
				}
				excluder, err := filter.NewExcluder(ex)
				if err != nil {
					return err
				}
				mode := sharedLock
				if *forget {
					mode = exclusiveLock
					g.printf("create exclusive lock for repository\n")
				}
				r, done, err := g.openRepository(ctx, mode)
				if err != nil {
					return err
				}
				defer done()
				list, err := selectSnapshots(ctx, g, r, args, f.filter())
				if err != nil {
					return err
				}
				if err := r.LoadIndex(ctx); err != nil {
					return err
				}
				tr := rewriter.Exclude(excluder, func(p string) {
					if g.verbose >= 2 {
						g.printf("excluding %q\n", p)
					}
				})
				return rewriteSnapshots(ctx, g, r, list, tr, rewriter.Options{
					Forget: *forget, Tag: "rewrite", DryRun: *dryRun, UpdateSummary: true})
			}
		},
	}
}
