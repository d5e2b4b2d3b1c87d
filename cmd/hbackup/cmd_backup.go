package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"github.com/hbackup/hbackup/zfs"
	"github.com/hbackup/hbackup/zfs/snapsource"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
)

type backupFlags struct {
	excludes, iexcludes, excludeFiles, iexcludeFiles []string
	excludeCaches                                    bool
	excludeIfPresent                                 []string
	excludeLargerThan                                string
	oneFileSystem                                    bool
	filesFrom, filesFromVerbatim, filesFromRaw       []string
	tags                                             []string
	host                                             string
	timeStamp                                        string
	dryRun                                           bool
	parent                                           string
	force                                            bool
	ignoreInode, ignoreCtime                         bool
	readConcurrency                                  uint
	zfsDatasets                                      []string
	zfsMountDir                                      string
	zfsKeep                                          bool
}

func backupCommand() *command {
	return &command{
		name:  "backup",
		usage: "[FILE/DIR] ...",
		short: "Create a new backup of files and/or directories",
		long: `The "backup" command creates a new snapshot and saves the files and
directories given as the arguments.

EXIT STATUS
Exit status is 0 if the command was successful.
Exit status is 1 if there was a fatal error (no snapshot created).
Exit status is 3 if some source data could not be read (incomplete snapshot created).
Exit status is 10 if the repository does not exist.
Exit status is 11 if the repository is already locked.
Exit status is 12 if the password is incorrect.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var f backupFlags
			fs.StringArrayVarP(&f.excludes, "exclude", "e", nil, "exclude a `pattern` (can be specified multiple times)")
			fs.StringArrayVar(&f.iexcludes, "iexclude", nil, "same as --exclude `pattern` but ignores the casing of filenames")
			fs.StringArrayVar(&f.excludeFiles, "exclude-file", nil, "read exclude patterns from a `file` (can be specified multiple times)")
			fs.StringArrayVar(&f.iexcludeFiles, "iexclude-file", nil, "same as --exclude-file but ignores casing of `file`names in patterns")
			fs.BoolVar(&f.excludeCaches, "exclude-caches", false, `excludes cache directories that are marked with a CACHEDIR.TAG file`)
			fs.StringArrayVar(&f.excludeIfPresent, "exclude-if-present", nil, "takes `filename[:header]`, exclude contents of directories containing filename (except filename itself) if header of that file is as provided")
			fs.StringVar(&f.excludeLargerThan, "exclude-larger-than", "", "max `size` of the files to be backed up (allowed suffixes: k/K, m/M, g/G, t/T)")
			fs.BoolVarP(&f.oneFileSystem, "one-file-system", "x", false, "exclude other file systems, don't cross filesystem boundaries and subvolumes")
			fs.StringArrayVar(&f.filesFrom, "files-from", nil, "read the files to backup from `file` (can be combined with file args; can be specified multiple times)")
			fs.StringArrayVar(&f.filesFromVerbatim, "files-from-verbatim", nil, "read the files to backup from `file` (can be combined with file args; can be specified multiple times)")
			fs.StringArrayVar(&f.filesFromRaw, "files-from-raw", nil, "read the files to backup from `file` (can be combined with file args; can be specified multiple times)")
			fs.StringArrayVar(&f.tags, "tag", nil, "add `tags` for the new snapshot in the format `tag[,tag,...]` (can be specified multiple times)")
			fs.StringVarP(&f.host, "host", "H", "", "set the `hostname` for the snapshot manually (default: $RESTIC_HOST, else the machine's hostname)")
			fs.StringVar(&f.timeStamp, "time", "", "`time` of the backup (ex. '2012-11-01 22:08:41') (default: now)")
			fs.BoolVarP(&f.dryRun, "dry-run", "n", false, "do not upload or write any data, just show what would be done")
			fs.StringVar(&f.parent, "parent", "", "use this parent `snapshot` (default: last snapshot in the repository that has the same target files/directories, and is not newer than the snapshot time)")
			fs.BoolVarP(&f.force, "force", "f", false, "force re-reading the target files/directories (overrides the \"parent\" flag)")
			fs.BoolVar(&f.ignoreInode, "ignore-inode", false, "ignore inode number changes when checking for modified files")
			fs.BoolVar(&f.ignoreCtime, "ignore-ctime", false, "ignore ctime changes when checking for modified files")
			fs.UintVar(&f.readConcurrency, "read-concurrency", 0, "read `n` files concurrently (default: $RESTIC_READ_CONCURRENCY or 2)")
			fs.StringSliceVar(&f.zfsDatasets, "zfs", nil, "back up ZFS `dataset`s from an atomic snapshot, recording their mount points (comma-separated or repeated)")
			fs.StringVar(&f.zfsMountDir, "zfs-mount-dir", "", "`dir`ectory for read-only clones of the ZFS snapshots where .zfs/snapshot is unavailable (default: /run/hbackup/zfs)")
			fs.BoolVar(&f.zfsKeep, "zfs-keep-snapshot", false, "keep the ZFS snapshots after the backup (released) instead of destroying them")
			return func(ctx context.Context, args []string) error { return runBackup(ctx, g, &f, args) }
		},
	}
}

func runBackup(ctx context.Context, g *globalOptions, f *backupFlags, args []string) error {
	targets, err := collectTargets(f, args)
	if err != nil {
		return err
	}
	if len(targets) == 0 && len(f.zfsDatasets) == 0 {
		return errors.New("nothing to backup, please specify source files/dirs")
	}
	for _, t := range targets {
		if _, err := os.Lstat(t); err != nil {
			return fmt.Errorf("cannot back up %s: %w", t, err)
		}
	}
	excluder, err := filter.NewExcluder(filter.ExcludeOptions{
		Excludes: f.excludes, InsensitiveExcludes: f.iexcludes,
		ExcludeFiles: f.excludeFiles, InsensitiveExcludeFiles: f.iexcludeFiles,
		ExcludeCaches: f.excludeCaches, ExcludeIfPresent: f.excludeIfPresent,
		ExcludeLargerThan: f.excludeLargerThan,
		Warnf:             func(format string, a ...any) { fmt.Fprintf(g.stderr, format+"\n", a...) },
	})
	if err != nil {
		return err
	}
	tm := time.Now()
	if f.timeStamp != "" {
		if tm, err = time.ParseInLocation("2006-01-02 15:04:05", f.timeStamp, time.Local); err != nil {
			return fmt.Errorf("invalid --time %q: want 'YYYY-MM-DD hh:mm:ss': %w", f.timeStamp, err)
		}
	}
	host := f.host
	envDefault(&host, "RESTIC_HOST")
	if host == "" {
		host, _ = os.Hostname()
	}
	concurrency := int(f.readConcurrency)
	if concurrency == 0 {
		var n int
		if _, err := fmt.Sscan(os.Getenv("RESTIC_READ_CONCURRENCY"), &n); err == nil && n > 0 {
			concurrency = n
		}
	}

	lockMode := sharedLock
	if f.dryRun {
		lockMode = noLock
	}
	r, done, err := g.openRepository(ctx, lockMode)
	if err != nil {
		return err
	}
	defer done()

	// ZFS snapshots are taken once the repository is open and locked,
	// so a wrong password or a locked repository leaves none behind.
	var tags = flattenTags(f.tags)
	var redirects []archiver.Redirect
	if len(f.zfsDatasets) > 0 {
		frozen, err := snapsource.Freeze(ctx, &zfs.Runner{Logger: g.logger}, snapsource.Options{
			Datasets: f.zfsDatasets, MountDir: f.zfsMountDir, Keep: f.zfsKeep, Time: tm, Logger: g.logger,
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := frozen.Release(ctx); err != nil {
				fmt.Fprintf(g.stderr, "warning: releasing the ZFS snapshots: %v\n", err)
			}
		}()
		for _, d := range frozen.Datasets {
			g.verbosef(1, "reading %s from ZFS snapshot %s (%s)\n", d.Mountpoint, d.Snapshot, d.Source)
		}
		targets = append(targets, frozen.Paths()...)
		redirects = frozen.Redirects()
		tags = append(tags, frozen.Tags()...)
	}

	// The parent snapshot is found while the index loads: both are reads
	// whose order does not matter to a backup (content the index lacks is
	// read again), and loading snapshot files is mostly waiting.
	var parent *snapshot.Snapshot
	reads, readCtx := errgroup.WithContext(ctx)
	reads.Go(func() error {
		if err := r.LoadIndex(readCtx); err != nil {
			return fmt.Errorf("load index: %w", err)
		}
		return nil
	})
	reads.Go(func() (err error) {
		parent, err = findParent(readCtx, g, r, f, host, targets, tm)
		return err
	})
	if err := reads.Wait(); err != nil {
		return err
	}
	limitMemory(backupPipeline(concurrency))
	if parent != nil {
		g.verbosef(1, "using parent snapshot %s\n", parent.ID().Str())
	}

	progress := &archiver.Progress{}
	var errMu sync.Mutex
	var skipped []string
	onError := func(path string, err error) error {
		errMu.Lock()
		skipped = append(skipped, path)
		errMu.Unlock()
		if g.json {
			_ = writeJSON(g.stderr, map[string]any{"message_type": "error", "error": map[string]string{"message": err.Error()}, "during": "archival", "item": path})
		} else {
			fmt.Fprintf(g.stderr, "error: %v\n", err)
		}
		return nil
	}
	stopProgress := g.startBackupProgress(progress, targets)
	res, err := archiver.Backup(ctx, r, archiver.Options{
		Paths: targets, Host: host, Tags: tags, Time: tm, Parent: parent, Redirects: redirects,
		Excluder: excluder, Excludes: append(append([]string{}, f.excludes...), f.iexcludes...),
		OneFileSystem: f.oneFileSystem, IgnoreInode: f.ignoreInode, IgnoreCtime: f.ignoreCtime,
		DryRun: f.dryRun, ReadConcurrency: concurrency, OnError: onError, Progress: progress,
		ProgramVersion: archiver.ProgramName + " " + version, Logger: g.logger,
	})
	stopProgress()
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted: index what was uploaded, so the next backup
			// reuses it instead of uploading it again.
			if ferr := r.SaveIndex(context.WithoutCancel(ctx)); ferr != nil {
				fmt.Fprintf(g.stderr, "saving index of uploaded data failed: %v\n", ferr)
			}
			return ctx.Err()
		}
		return err
	}
	g.printBackupSummary(res, parent, f.dryRun)
	if res.Errors > 0 {
		return fmt.Errorf("%w (%d files or directories skipped)", errPartial, res.Errors)
	}
	return nil
}

func findParent(ctx context.Context, g *globalOptions, r *repo.Repository, f *backupFlags, host string, targets []string, tm time.Time) (*snapshot.Snapshot, error) {
	if f.force {
		return nil, nil
	}
	if f.parent != "" {
		sn, err := snapshot.Find(ctx, r, f.parent, snapshot.Filter{})
		if err != nil {
			return nil, fmt.Errorf("parent snapshot %q: %w", f.parent, err)
		}
		return sn, nil
	}
	all, err := snapshot.LoadAllFunc(ctx, r, g.warnSnapshot)
	if err != nil {
		return nil, err
	}
	abs := make([]string, 0, len(targets))
	for _, t := range targets {
		a, err := absPath(t)
		if err != nil {
			return nil, err
		}
		abs = append(abs, a)
	}
	return snapshot.FindParent(all, host, abs, tm), nil
}

// collectTargets merges the arguments with --files-from* lists.
func collectTargets(f *backupFlags, args []string) ([]string, error) {
	targets := append([]string{}, args...)
	for _, name := range f.filesFrom {
		lines, err := readLines(name, '\n')
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			// --files-from expands globs, as restic does.
			matches, err := globOrSelf(l)
			if err != nil {
				return nil, err
			}
			targets = append(targets, matches...)
		}
	}
	for _, name := range f.filesFromVerbatim {
		lines, err := readLines(name, '\n')
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if l = strings.TrimSuffix(l, "\r"); l != "" {
				targets = append(targets, l)
			}
		}
	}
	for _, name := range f.filesFromRaw {
		lines, err := readLines(name, 0)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if l != "" {
				targets = append(targets, l)
			}
		}
	}
	return targets, nil
}

func readLines(name string, sep byte) ([]string, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = readAllStdin()
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read file list %s: %w", name, err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, sep); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

func flattenTags(lists []string) []string {
	var out []string
	for _, l := range lists {
		for _, t := range strings.Split(l, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}
