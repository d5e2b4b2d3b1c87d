package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/repair"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/rewriter"
	"github.com/spf13/pflag"
)

// repairCommand is restic's `repair index` and `repair snapshots` (0.16+);
// `rebuild-index` is restic 0.14's name for the first.
func repairCommand() *command {
	return &command{
		name:  "repair",
		usage: "index|snapshots [flags] [snapshot ID ...]",
		short: "Repair the repository",
		long: `"repair index" creates a new index based on the pack files in the
repository: entries of packs whose size matches the index are kept (unless
--read-all-packs), other packs' headers are read, missing packs are dropped.
New index files are written before the old ones are deleted.

"repair snapshots" scans the given snapshots (all when none are given) and
writes new ones with damaged directories and file contents removed: files
lose the blobs the index does not have, unreadable directories become
empty. The new snapshots get the tag "repaired" unless --forget removes the
old ones. It depends on a correct index: run "repair index" first.
Repairing causes data loss; run "backup" instead if the data still exists.

Exit status is 0 if the command was successful, and 1 if there was any error.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			readAll := fs.Bool("read-all-packs", false, "index: read all pack files to generate new index from scratch")
			var o repairSnapshotsOptions
			fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "snapshots: do not do anything, just print what would be done")
			fs.BoolVar(&o.forget, "forget", false, "snapshots: remove original snapshots after creating new ones")
			o.filter.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return errors.New("no subcommand given: use index or snapshots")
				}
				switch args[0] {
				case "index":
					for _, f := range []string{"dry-run", "forget", "host", "tag", "path"} {
						if fs.Changed(f) {
							return fmt.Errorf("repair index: unknown flag --%s", f)
						}
					}
					if len(args) > 1 {
						return errors.New("repair index expects no arguments")
					}
					return runRepairIndex(ctx, g, *readAll)
				case "snapshots":
					if fs.Changed("read-all-packs") {
						return errors.New("repair snapshots: unknown flag --read-all-packs")
					}
					return runRepairSnapshots(ctx, g, o, args[1:])
				}
				return fmt.Errorf("unknown repair subcommand %q: use index or snapshots", args[0])
			}
		},
	}
}

func rebuildIndexCommand() *command {
	return &command{
		name:  "rebuild-index",
		short: "Build a new index (restic 0.14's name for `repair index`)",
		long: `The "rebuild-index" command creates a new index based on the pack files in
the repository; it is "repair index" under restic 0.14's name.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			readAll := fs.Bool("read-all-packs", false, "read all pack files to generate new index from scratch")
			return func(ctx context.Context, args []string) error {
				if len(args) != 0 {
					return errors.New("rebuild-index expects no arguments")
				}
				return runRepairIndex(ctx, g, *readAll)
			}
		},
	}
}

func runRepairIndex(ctx context.Context, g *globalOptions, readAll bool) error {
	r, done, err := g.openRepository(ctx, exclusiveLock)
	if err != nil {
		return err
	}
	defer done()
	res, err := repair.RebuildIndex(ctx, r, repair.IndexOptions{
		ReadAllPacks: readAll,
		Progress:     g.printf,
		Warn:         func(format string, args ...any) { fmt.Fprintf(g.stderr, format, args...) },
	})
	if err != nil {
		return err
	}
	if g.verbose >= 2 {
		for _, id := range res.Invalid {
			g.printf("skipped incomplete pack file: %v\n", id)
		}
	}
	g.printf("done\n")
	return nil
}

type repairSnapshotsOptions struct {
	dryRun, forget bool
	filter         filterFlags
}

func runRepairSnapshots(ctx context.Context, g *globalOptions, o repairSnapshotsOptions, args []string) error {
	r, done, err := g.openRepository(ctx, exclusiveLock)
	if err != nil {
		return err
	}
	defer done()
	// Snapshots first, then the index (design §15).
	list, err := selectSnapshots(ctx, g, r, args, o.filter.filter())
	if err != nil {
		return err
	}
	if err := r.LoadIndex(ctx); err != nil {
		return err
	}
	tr := rewriter.Repair(r.Index(), func(ev rewriter.RepairEvent, p string) {
		switch ev {
		case rewriter.MissingContent:
			g.printf("  file %q: removed missing content\n", p)
		case rewriter.WrongSize:
			g.printf("  file %q: fixed incorrect size\n", p)
		case rewriter.EmptiedDir:
			g.printf("  dir %q: replaced with empty directory\n", p)
		case rewriter.UnreadableRoot:
			g.printf("  dir %q: not readable\n", p)
		}
	})
	return rewriteSnapshots(ctx, g, r, list, tr, rewriter.Options{Forget: o.forget, Tag: "repaired", DryRun: o.dryRun})
}

// rewriteSnapshots runs tr over each snapshot and prints what restic's
// rewrite and repair snapshots print.
func rewriteSnapshots(ctx context.Context, g *globalOptions, r *repo.Repository, list []*snapshot.Snapshot, tr *rewriter.TreeRewriter, opts rewriter.Options) error {
	changed := 0
	for _, sn := range list {
		g.printf("\n%v\n", sn)
		res, err := rewriter.Snapshot(ctx, r, sn, tr, opts)
		if err != nil {
			return fmt.Errorf("unable to rewrite snapshot ID %q: %w", res.OldID.Str(), err)
		}
		switch res.Outcome {
		case rewriter.Unchanged:
			continue
		case rewriter.Removed:
			if opts.DryRun {
				g.printf("would delete empty snapshot\n")
			} else {
				g.printf("removed empty snapshot %v\n", res.OldID.Str())
			}
		case rewriter.Rewritten:
			switch {
			case opts.DryRun:
				g.printf("would save new snapshot\n")
				if opts.Forget {
					g.printf("would remove old snapshot\n")
				}
			default:
				g.printf("saved new snapshot %v\n", res.NewID.Str())
				if opts.Forget {
					g.printf("removed old snapshot %v\n", res.OldID.Str())
				}
			}
		}
		changed++
	}
	g.printf("\n")
	switch {
	case changed == 0 && opts.DryRun:
		g.printf("no snapshots would be modified\n")
	case changed == 0:
		g.printf("no snapshots were modified\n")
	case opts.DryRun:
		g.printf("would modify %v snapshots\n", changed)
	default:
		g.printf("modified %v snapshots\n", changed)
	}
	return nil
}
