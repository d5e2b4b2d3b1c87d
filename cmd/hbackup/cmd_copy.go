package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/copier"
	"github.com/spf13/pflag"
)

type copyOptions struct {
	from, repo2 repoFlags
	toRepos     []string
	toPwFiles   []string
	filter      filterFlags
	flushMiB    int64
}

func copyCommand() *command {
	return &command{
		name:  "copy",
		usage: "[snapshotID ...]",
		short: "Copy snapshots from one repository to another",
		long: `The "copy" command copies one or more snapshots from one repository to another.
Snapshots already present in the destination (an earlier copy, found by its
"original" ID and equal metadata) are skipped, so running it again copies
nothing.

NOTE: This process will have to both download (read) and upload (write) the
entire snapshot(s) due to the different encryption keys used in the source and
destination repositories.

NOTE: The copying process does not re-chunk files, which may break deduplication
between the files copied and files already stored in the destination repository.
This can be mitigated by the "--copy-chunker-params" option when initializing a
new destination repository using the "init" command.

Several destinations (hbackup only): besides -r, give --to-repo once per further
destination; they are copied to in order (-r first), each with its own lock.
--to-password-file gives the password file of each --to-repo in the same order
(given once, it applies to all); a --to-repo without one uses -r's password
(--password-file, --password-command or $RESTIC_PASSWORD). Without -r, only the
--to-repo destinations are used. A destination that fails is reported and the
others are still copied to; the exit code is then non-zero.

Example: hbackup -r /mnt/nas/repo copy --from-repo /srv/repo --to-repo sftp:b2gw:/repo`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			o := &copyOptions{}
			fs.StringVar(&o.from.repo, "from-repo", "", "source `repository` to copy snapshots from (default: $RESTIC_FROM_REPOSITORY)")
			fs.StringVar(&o.from.repoFile, "from-repository-file", "", "`file` from which to read the source repository location to copy snapshots from (default: $RESTIC_FROM_REPOSITORY_FILE)")
			fs.StringVar(&o.from.passwordFile, "from-password-file", "", "`file` to read the source repository password from (default: $RESTIC_FROM_PASSWORD_FILE)")
			fs.StringVar(&o.from.passwordCommand, "from-password-command", "", "shell `command` to obtain the source repository password from (default: $RESTIC_FROM_PASSWORD_COMMAND)")
			fs.StringVar(&o.from.keyHint, "from-key-hint", "", "`key` ID of key to try decrypting the source repository first (default: $RESTIC_FROM_KEY_HINT)")
			// restic 0.14's wording: the filter has no environment default.
			fs.StringArrayVarP(&o.filter.hosts, "host", "H", nil, "only consider snapshots for this `host`, when no snapshot ID is given (can be specified multiple times)")
			fs.StringArrayVar(&o.filter.tags, "tag", nil, "only consider snapshots which include this `taglist`, when no snapshot ID is given (can be specified multiple times)")
			fs.StringArrayVar(&o.filter.paths, "path", nil, "only consider snapshots which include this (absolute) `path`, when no snapshot ID is given (can be specified multiple times)")
			fs.StringArrayVar(&o.toRepos, "to-repo", nil, "further destination `repository`, copied to after -r (can be specified multiple times; hbackup only)")
			fs.StringArrayVar(&o.toPwFiles, "to-password-file", nil, "password `file` of the --to-repo at the same position (once: for all; default: -r's password)")
			fs.Int64Var(&o.flushMiB, "flush-every", 0, "save copied snapshots after each `MiB` of new data, so an interrupted copy keeps them (default 256; hbackup only)")
			// restic 0.14's deprecated spelling: -r is then the source.
			fs.StringVar(&o.repo2.repo, "repo2", "", "destination `repository` (deprecated: use --from-repo)")
			fs.StringVar(&o.repo2.repoFile, "repository-file2", "", "`file` with the destination repository location (deprecated)")
			fs.StringVar(&o.repo2.passwordFile, "password-file2", "", "`file` with the destination repository password (deprecated)")
			fs.StringVar(&o.repo2.passwordCommand, "password-command2", "", "shell `command` for the destination password (deprecated)")
			fs.StringVar(&o.repo2.keyHint, "key-hint2", "", "`key` ID for the destination (deprecated)")
			for _, n := range []string{"repo2", "repository-file2", "password-file2", "password-command2", "key-hint2"} {
				_ = fs.MarkDeprecated(n, "use --repo or --from-repo instead")
			}
			return func(ctx context.Context, args []string) error {
				return runCopy(ctx, g, o, args)
			}
		},
	}
}

// copyEnds resolves the source and the destinations, in copy order.
func copyEnds(g *globalOptions, o *copyOptions) (src *secondaryRepo, dsts []*secondaryRepo, err error) {
	o.from.fromEnv("RESTIC_FROM_", "")
	o.repo2.fromEnv("RESTIC_", "2")
	switch {
	case o.from.set() && o.repo2.set():
		return nil, nil, errors.New("Option groups repo2 and from-repo are mutually exclusive, please specify only one")
	case o.repo2.set():
		if len(o.toRepos) > 0 {
			return nil, nil, errors.New("--to-repo cannot be combined with the deprecated --repo2; use --from-repo")
		}
		// -r is the source, --repo2 the destination.
		src = &secondaryRepo{opts: g, label: "source"}
		return src, []*secondaryRepo{g.secondary(o.repo2, "destination")}, nil
	case !o.from.set():
		return nil, nil, errors.New("Please specify a source repository location (--from-repo or --from-repository-file)")
	}
	src = g.secondary(o.from, "source")
	if g.repository != "" || g.repositoryFile != "" || len(o.toRepos) == 0 {
		dsts = append(dsts, &secondaryRepo{opts: g, label: "destination"})
	}
	if len(o.toPwFiles) > 1 && len(o.toPwFiles) != len(o.toRepos) {
		return nil, nil, fmt.Errorf("%d --to-password-file for %d --to-repo: give one per --to-repo, or one for all", len(o.toPwFiles), len(o.toRepos))
	}
	for i, loc := range o.toRepos {
		f := repoFlags{repo: loc, passwordFile: g.passwordFile, passwordCommand: g.passwordCommand}
		switch len(o.toPwFiles) {
		case 0:
			if f.passwordFile == "" && f.passwordCommand == "" {
				f.password = g.password
				envDefault(&f.password, "RESTIC_PASSWORD")
			}
		case 1:
			f.passwordFile, f.passwordCommand = o.toPwFiles[0], ""
		default:
			f.passwordFile, f.passwordCommand = o.toPwFiles[i], ""
		}
		dsts = append(dsts, g.secondary(f, "destination "+loc))
	}
	return src, dsts, nil
}

func runCopy(ctx context.Context, g *globalOptions, o *copyOptions, args []string) error {
	srcEnd, dsts, err := copyEnds(g, o)
	if err != nil {
		return err
	}
	src, doneSrc, err := srcEnd.open(ctx, sharedLock) // honours --no-lock
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer doneSrc()
	source, err := copier.Open(ctx, src, copier.Selection{
		IDs: args, Filter: o.filter.filter(),
		OnError: func(what string, err error) error {
			fmt.Fprintf(g.stderr, "Ignoring %s: %v\n", what, err)
			return nil
		},
	})
	if err != nil {
		return err
	}
	streams := source.DefaultConcurrency() // also sizes the memory limit
	var errs []error
	for _, d := range dsts {
		if err := copyToOne(ctx, g, o, source, streams, d, len(dsts) > 1); err != nil {
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "copy to %s failed: %v\n", describeDest(d), err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func describeDest(d *secondaryRepo) string {
	if loc, err := d.opts.location(); err == nil {
		return loc
	}
	return d.label
}

// copyToOne opens one destination with a shared lock (even with
// --no-lock: it is written to) and copies the selection to it.
func copyToOne(ctx context.Context, g *globalOptions, o *copyOptions, source *copier.Source, streams int, d *secondaryRepo, announce bool) error {
	lockOpts := *d.opts
	lockOpts.noLock = false
	d = &secondaryRepo{opts: &lockOpts, prompt: d.prompt, label: d.label}
	if announce {
		g.printf("\ncopying to %s\n", describeDest(d))
	}
	dst, done, err := d.open(ctx, sharedLock)
	if err != nil {
		return err
	}
	defer done()
	flush := o.flushMiB << 20
	limitMemory(packStreamPipeline(streams))
	res, err := source.CopyTo(ctx, dst, copier.Options{
		Concurrency: streams,
		FlushBytes:  flush,
		OnError: func(what string, err error) error {
			fmt.Fprintf(g.stderr, "Ignoring %s: %v\n", what, err)
			return nil
		},
		OnEvent: func(ev copier.Event) { printCopyEvent(g, ev) },
	})
	if res != nil && g.verbose > 0 {
		g.printf("\n%d snapshots copied, %d already present; %d data and %d tree blobs (%d bytes) written, %d pack reads\n",
			len(res.Copied), len(res.Skipped), res.DataBlobs, res.TreeBlobs, res.Bytes, res.Packs)
	}
	return err
}

// printCopyEvent prints restic's per-snapshot lines.
func printCopyEvent(g *globalOptions, ev copier.Event) {
	sn := ev.Source
	switch ev.Kind {
	case copier.Skipped:
		g.printf("\n%s\nskipping source snapshot %s, was already copied to snapshot %s\n", describeSnapshot(sn), sn.ID().Str(), ev.Dest.Str())
	case copier.Started:
		g.printf("\n%s\n  copy started, this may take a while...\n", describeSnapshot(sn))
	case copier.Saved:
		g.printf("snapshot %s saved (copy of %s)\n", ev.Dest.Str(), sn.ID().Str())
	}
}

func describeSnapshot(sn *snapshot.Snapshot) string {
	return fmt.Sprintf("snapshot %s of %v at %s)", sn.ID().Str(), sn.Paths, sn.Time)
}
