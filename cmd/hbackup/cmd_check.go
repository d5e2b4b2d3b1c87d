package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hbackup/hbackup/repo/checker"
	"github.com/spf13/pflag"
)

// errCheckFailed is returned when check found damage: "Fatal: repository
// contains errors" and exit code 1, as restic.
var errCheckFailed = errors.New("repository contains errors")

func checkCommand() *command {
	return &command{
		name:  "check",
		usage: "",
		short: "Check the repository for errors",
		long: `
The "check" command tests the repository for errors and reports any errors it
finds. It can also be used to read all data and therefore simulate a restore.

Orphaned packs, packs listed in several index files and packs mixing tree and
data blobs are reported but are not errors.

Exit status is 0 if no errors were found, and 1 otherwise.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			readData := fs.Bool("read-data", false, "read all data blobs")
			subset := fs.String("read-data-subset", "", "read a `subset` of data packs, specified as 'n/t' for specific part, or either 'x%' or 'x.y%' or a size in bytes with suffixes k/K, m/M, g/G, t/T for a random subset")
			withCache := fs.Bool("with-cache", false, "use the cache")
			fs.Bool("check-unused", false, "find unused blobs (deprecated: use --verbose)")
			return func(ctx context.Context, args []string) error {
				if len(args) != 0 {
					return errors.New("the check command expects no arguments, only options - please see `hbackup help check` for usage and flags")
				}
				var sub *checker.Subset
				if *subset != "" {
					if *readData {
						return errors.New("check flags --read-data and --read-data-subset cannot be used together")
					}
					s, err := checker.ParseSubset(*subset)
					if err != nil {
						return err
					}
					sub = &s
				}
				// As restic: check reads the repository, not cached
				// copies, but keeps the tree packs it downloads in a
				// temporary cache, so each is fetched once and whole.
				if !*withCache && !g.noCache {
					tmp, err := os.MkdirTemp("", "hbackup-check-cache-")
					if err != nil {
						return fmt.Errorf("temporary cache: %w", err)
					}
					defer os.RemoveAll(tmp)
					g.cacheDir = tmp
				}
				r, done, err := g.openRepository(ctx, exclusiveLock)
				if err != nil {
					return err
				}
				defer done()
				if !g.noLock {
					g.printf("create exclusive lock for repository\n")
				}
				return runCheck(ctx, g, checker.New(r), *readData, sub)
			}
		},
	}
}

// runCheck runs the checker's steps, printing what restic 0.14 prints:
// progress and hints on stdout, errors on stderr; with --json, restic
// 0.17's error lines and summary instead (see check_report.go).
func runCheck(ctx context.Context, g *globalOptions, c *checker.Checker, readData bool, sub *checker.Subset) error {
	rep := newCheckReport(g)
	return rep.finish(checkSteps(ctx, g, rep, c, readData, sub))
}

func checkSteps(ctx context.Context, g *globalOptions, rep *checkReport, c *checker.Checker, readData bool, sub *checker.Subset) error {
	errorsFound := false
	g.printf("load indexes\n")
	var indexErrs []error
	dups, mixed := false, false
	err := c.LoadIndex(ctx, func(err error) {
		var dup *checker.DuplicatePackHint
		var mix *checker.MixedPackHint
		switch {
		case errors.As(err, &dup):
			dups = true
			g.printf("%v\n", err)
		case errors.As(err, &mix):
			mixed = true
			g.printf("%v\n", err)
		default:
			indexErrs = append(indexErrs, err)
		}
	})
	if err != nil {
		return err
	}
	if dups {
		rep.summary.SuggestRepairIndex = true
		g.printf("This is non-critical, you can run `hbackup repair index` to correct this\n")
	}
	if mixed {
		rep.summary.SuggestPrune = true
		g.printf("Mixed packs with tree and data blobs are non-critical, you can run `hbackup prune` to correct this.\n")
	}
	if len(indexErrs) > 0 {
		for _, e := range indexErrs {
			rep.errorf("error: %v\n", e)
		}
		return errors.New("LoadIndex returned errors")
	}

	g.printf("check all packs\n")
	orphans := 0
	err = c.Packs(ctx, func(err error) {
		if checker.IsHint(err) {
			orphans++
			g.printf("%v\n", err)
			return
		}
		errorsFound = true
		rep.errorf("%v\n", err)
	})
	if err != nil {
		return err
	}
	if orphans > 0 {
		rep.summary.SuggestPrune = true
		g.printf("%d additional files were found in the repo, which likely contain duplicate data.\nThis is non-critical, you can run `hbackup prune` to correct this.\n", orphans)
	}

	g.printf("check snapshots, trees and blobs\n")
	structureOK := true
	err = c.Structure(ctx, func(err error) {
		errorsFound, structureOK = true, false
		var te *checker.TreeError
		if errors.As(err, &te) {
			msg := fmt.Sprintf("error for tree %v:\n", te.TreeID.Str())
			for _, e := range te.Errors {
				msg += fmt.Sprintf("  %v\n", e)
			}
			rep.errorf("%s", msg)
			return
		}
		rep.errorf("error: %v\n", err)
	})
	if err != nil {
		return err
	}
	if structureOK && g.verbose > 0 {
		for _, h := range c.UnusedBlobs() {
			g.printf("%v\n", &checker.UnusedBlobHint{Blob: h})
		}
	}

	if readData || sub != nil {
		packs := c.IndexedPacks()
		if sub != nil {
			selected, err := sub.Select(packs)
			if err != nil {
				return err
			}
			g.printf("%s\n", sub.Describe(len(selected), len(packs)))
			packs = selected
		} else {
			g.printf("read all data\n")
		}
		err := c.ReadPacks(ctx, packs, func(err error) {
			errorsFound = true
			var pe *checker.PackError
			if errors.As(err, &pe) {
				rep.brokenPack(pe.PackID)
			}
			rep.errorf("%v\n", err)
		})
		if err != nil {
			return err
		}
	}

	if errorsFound {
		return errCheckFailed
	}
	g.printf("no errors were found\n")
	return nil
}
