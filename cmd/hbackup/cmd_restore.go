package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/restorer"
	"github.com/spf13/pflag"
)

func restoreCommand() *command {
	return &command{
		name:  "restore",
		usage: "snapshotID[:subfolder]",
		short: "Extract the data from a snapshot",
		long: `The "restore" command extracts the data from a snapshot from the
repository to a directory. The special snapshot "latest" can be used to
restore the latest snapshot in the repository. "snapshotID:subfolder"
restores only that folder, its contents placed directly in the target.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var f filterFlags
			target := fs.StringP("target", "t", "", "`directory` to extract data to")
			var sel filter.RestoreOptions
			fs.StringArrayVarP(&sel.Excludes, "exclude", "e", nil, "exclude a `pattern` (can be specified multiple times)")
			fs.StringArrayVar(&sel.InsensitiveExcludes, "iexclude", nil, "same as --exclude but ignores the casing of `pattern`")
			fs.StringArrayVarP(&sel.Includes, "include", "i", nil, "include a `pattern`, exclude everything else (can be specified multiple times)")
			fs.StringArrayVar(&sel.InsensitiveIncludes, "iinclude", nil, "same as --include but ignores the casing of `pattern`")
			f.register(fs)
			verify := fs.Bool("verify", false, "verify restored files content")
			sparse := fs.Bool("sparse", true, "restore files as sparse (runs of zeros become holes)")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return errors.New("no snapshot ID specified")
				}
				if len(args) > 1 {
					return fmt.Errorf("more than one snapshot ID specified: %v", args)
				}
				if *target == "" {
					return errors.New("please specify a directory to restore to (--target)")
				}
				selector, err := filter.NewRestoreSelector(sel)
				if err != nil {
					return err
				}
				snapID, sub, _ := strings.Cut(args[0], ":")
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				sn, err := snapshot.Find(ctx, r, snapID, f.filter())
				if err != nil {
					return err
				}
				if err := r.LoadIndex(ctx); err != nil {
					return fmt.Errorf("load index: %w", err)
				}
				tree := *sn.Tree
				if sub != "" {
					if tree, err = snapshot.FindSubtree(ctx, r, tree, sub); err != nil {
						return err
					}
				}
				g.printf("restoring %s to %s\n", sn, *target)
				errCount := 0
				start := time.Now()
				stats, err := restorer.Restore(ctx, r, tree, *target, restorer.Options{
					Select: selector.Select,
					Owner:  os.Geteuid() == 0,
					Verify: *verify,
					Sparse: *sparse,
					OnError: func(path string, err error) error {
						errCount++
						fmt.Fprintf(g.stderr, "ignoring error for %s: %v\n", path, err)
						return nil
					},
					Logger: g.logger,
				})
				if err != nil {
					return err
				}
				if g.json {
					_ = writeJSON(g.stdout, map[string]any{"message_type": "summary", "seconds_elapsed": int(time.Since(start).Seconds()),
						"files_restored": stats.Files, "dirs_restored": stats.Dirs, "bytes_restored": stats.Bytes, "errors": errCount, "files_verified": stats.Verified})
				} else {
					g.printf("restored %d files, %d dirs, %s in %s\n", stats.Files, stats.Dirs, formatBytes(stats.Bytes), formatDuration(time.Since(start)))
					if *verify {
						g.printf("verified %d files\n", stats.Verified)
					}
				}
				if errCount > 0 {
					return fmt.Errorf("There were %d errors", errCount)
				}
				return nil
			}
		},
	}
}
