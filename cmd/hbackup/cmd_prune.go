package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/pruner"
	"github.com/spf13/pflag"
)

// pruneOptions are prune's flags, named as in restic 0.14.
type pruneOptions struct {
	dryRun                                               bool
	maxUnused, maxRepackSize                             string
	repackCacheableOnly, repackSmall, repackUncompressed bool
}

func (o *pruneOptions) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "do not modify the repository, just print what would be done")
	o.registerPolicy(fs)
}

// registerPolicy registers the flags forget shares with prune.
func (o *pruneOptions) registerPolicy(fs *pflag.FlagSet) {
	fs.StringVar(&o.maxUnused, "max-unused", "5%", "tolerate given `limit` of unused data (absolute value in bytes with suffixes k/K, m/M, g/G, t/T, a value in % or the word 'unlimited')")
	fs.StringVar(&o.maxRepackSize, "max-repack-size", "", "maximum `size` to repack (allowed suffixes: k/K, m/M, g/G, t/T)")
	fs.BoolVar(&o.repackCacheableOnly, "repack-cacheable-only", false, "only repack packs which are cacheable")
	fs.BoolVar(&o.repackSmall, "repack-small", false, "repack pack files below 80% of target pack size")
	fs.BoolVar(&o.repackUncompressed, "repack-uncompressed", false, "repack all uncompressed data")
}

func (o *pruneOptions) options() (pruner.Options, error) {
	maxUnused, err := pruner.ParseMaxUnused(o.maxUnused)
	if err != nil {
		return pruner.Options{}, err
	}
	maxRepack, err := pruner.ParseRepackSize(o.maxRepackSize)
	if err != nil {
		return pruner.Options{}, err
	}
	return pruner.Options{MaxUnused: maxUnused, MaxRepackBytes: maxRepack,
		RepackCacheableOnly: o.repackCacheableOnly, RepackSmall: o.repackSmall,
		RepackUncompressed: o.repackUncompressed}, nil
}

func pruneCommand() *command {
	return &command{
		name:  "prune",
		short: "Remove unneeded data from the repository",
		long: `
Prune deletes data that no snapshot references. Packs holding only unused
data are deleted; packs holding some are repacked (their used blobs copied
into new packs) until at most --max-unused of the repository is unused.
New packs and index files are written before anything is deleted, so an
interrupted prune never loses data of a snapshot; run it again to finish.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var o pruneOptions
			o.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return errors.New("prune takes no arguments")
				}
				if _, err := o.options(); err != nil {
					return err // before opening the repository, as restic
				}
				if g.noLock && !o.dryRun {
					return errors.New("--no-lock is only applicable in combination with --dry-run for prune command")
				}
				r, done, err := g.openRepository(ctx, exclusiveLock)
				if err != nil {
					return err
				}
				defer done()
				return runPrune(ctx, g, &o, r, nil)
			}
		},
	}
}

// runPrune plans and, unless dry-run, executes a prune. ignore lists
// snapshots to treat as forgotten (forget --prune --dry-run).
func runPrune(ctx context.Context, g *globalOptions, o *pruneOptions, r *repo.Repository, ignore []repo.ID) error {
	opts, err := o.options()
	if err != nil {
		return err
	}
	opts.IgnoreSnapshots = ignore
	if opts.RepackUncompressed {
		// As restic: compressing what is stored uncompressed needs
		// compression on and a repository that can hold compressed blobs.
		if comp, err := repo.ParseCompression(g.compression); err == nil && comp == repo.CompressionOff {
			return errors.New("disabled compression and `--repack-uncompressed` are mutually exclusive")
		}
		if r.Config().Version < 2 {
			return errors.New("compression requires at least repository format version 2")
		}
	}
	g.printf("loading indexes...\nloading all snapshots...\n")
	plan, err := pruner.NewPlan(ctx, r, opts)
	if err != nil {
		return err
	}
	st := plan.Stats()
	g.printf("finding data that is still in use for %d snapshots\n", st.Snapshots)
	g.printf("\nsearching used packs...\ncollecting packs for deletion and repacking\n")
	for _, id := range plan.Unreferenced() {
		if g.verbose > 0 {
			g.printf("will remove pack %s as it is unused and not indexed\n", id.Str())
		}
	}
	g.printf("\n")
	if missing := plan.MissingPacks(); len(missing) > 0 {
		fmt.Fprintf(g.stderr, "Missing but unneeded pack files are referenced in the index, will be repaired\n")
		for _, id := range missing {
			fmt.Fprintf(g.stderr, "will forget missing pack file %v\n", id)
		}
	}
	printPruneStats(g, st)
	if o.dryRun {
		if g.verbose > 0 {
			if orphans := plan.Unreferenced(); len(orphans) > 0 {
				g.printf("Would have removed the following unreferenced packs:\n%s\n\n", idSetString(orphans))
			}
			g.printf("Would have repacked and removed the following packs:\n%s\n\n", idSetString(plan.RepackPacks()))
			g.printf("Would have removed the following no longer used packs:\n%s\n\n", idSetString(plan.RemovePacks()))
		}
		return nil
	}
	limitMemory(packStreamPipeline(max(1, r.Backend().Properties().Connections)))
	return plan.Execute(ctx, g.printf)
}

// printPruneStats prints restic 0.14's prune summary; the breakdown of
// the repository and the pack counts only with --verbose.
func printPruneStats(g *globalOptions, st pruner.Stats) {
	verbose := func(format string, args ...any) {
		if g.verbose > 0 {
			g.printf(format, args...)
		}
	}
	b, s := st.Blobs, st.Size
	verbose("\nused:         %10d blobs / %s\n", b.Used, formatBytes(s.Used))
	if b.Duplicate > 0 {
		verbose("duplicates:   %10d blobs / %s\n", b.Duplicate, formatBytes(s.Duplicate))
	}
	verbose("unused:       %10d blobs / %s\n", b.Unused, formatBytes(s.Unused))
	if s.Unreferenced > 0 {
		verbose("unreferenced:                    %s\n", formatBytes(s.Unreferenced))
	}
	totalBlobs := b.Used + b.Unused + b.Duplicate
	totalSize := s.Used + s.Duplicate + s.Unused + s.Unreferenced
	unusedSize := s.Duplicate + s.Unused
	verbose("total:        %10d blobs / %s\n", totalBlobs, formatBytes(totalSize))
	verbose("unused size: %s of total size\n", formatPercent(unusedSize, totalSize))

	g.printf("\nto repack:    %10d blobs / %s\n", b.Repack, formatBytes(s.Repack))
	g.printf("this removes: %10d blobs / %s\n", b.RepackRemove, formatBytes(s.RepackRemove))
	g.printf("to delete:    %10d blobs / %s\n", b.Remove, formatBytes(s.Remove+s.Unreferenced))
	pruneSize := s.Remove + s.RepackRemove + s.Unreferenced
	g.printf("total prune:  %10d blobs / %s\n", b.Remove+b.RepackRemove, formatBytes(pruneSize))
	g.printf("remaining:    %10d blobs / %s\n", totalBlobs-(b.Remove+b.RepackRemove), formatBytes(totalSize-pruneSize))
	unusedAfter := unusedSize - s.Remove - s.RepackRemove
	g.printf("unused size after prune: %s (%s of remaining size)\n", formatBytes(unusedAfter), formatPercent(unusedAfter, totalSize-pruneSize))
	g.printf("\n")
	p := st.Packs
	verbose("totally used packs: %10d\n", p.Used)
	verbose("partly used packs:  %10d\n", p.PartlyUsed)
	verbose("unused packs:       %10d\n\n", p.Unused)
	verbose("to keep:      %10d packs\n", p.Keep)
	verbose("to repack:    %10d packs\n", p.Repack)
	verbose("to delete:    %10d packs\n", p.Remove)
	if p.Unreferenced > 0 {
		verbose("to delete:    %10d unreferenced packs\n\n", p.Unreferenced)
	}
}

// formatPercent prints a share as restic: "12.34%".
func formatPercent(n, total uint64) string {
	if total == 0 {
		return "0.00%"
	}
	return fmt.Sprintf("%3.2f%%", min(100, 100*float64(n)/float64(total)))
}
