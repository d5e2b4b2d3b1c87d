// Package snapsource freezes ZFS datasets for a backup: it snapshots them
// atomically, holds the snapshots, exposes each one read-only, and tells
// the archiver to read from there while recording the datasets' real
// mount points. Release undoes all of it; Cleanup removes what a crashed
// run left behind.
package snapsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hbackup/hbackup/snapshot/archiver"
	"github.com/hbackup/hbackup/zfs"
)

// HoldTag is the hold placed on hbackup's snapshots while a backup reads
// them, so that no retention tool destroys them underneath.
const HoldTag = "hbackup"

// ownerProperty records which process made a snapshot or clone, so that a
// later run removes only leftovers of processes that are gone.
const ownerProperty = "hbackup:owner"

// Options describe which datasets to freeze and how.
type Options struct {
	// Datasets are the file systems to back up, e.g. "rpool/home".
	Datasets []string
	// Prefix starts the names of the ZFS snapshots; default "hbackup".
	Prefix string
	// MountDir is where snapshots are mounted (as read-only clones) when
	// the dataset's .zfs/snapshot directory is not available; default
	// /run/hbackup/zfs.
	MountDir string
	// Keep leaves the ZFS snapshots in place (released) after the backup;
	// by default they are destroyed.
	Keep bool
	// Time names the snapshots; zero means now.
	Time   time.Time
	Logger *slog.Logger
}

// Dataset is one frozen dataset.
type Dataset struct {
	Name       string // e.g. "rpool/home"
	Snapshot   string // full snapshot name, e.g. "rpool/home@hbackup-20261122T140500Z"
	Mountpoint string // the real path, recorded in the backup
	Source     string // where the frozen content is read
	Clone      string // the read-only clone, if one was made
}

// Frozen is a set of datasets held at one point in time.
type Frozen struct {
	Datasets []Dataset
	z        *zfs.Runner
	keep     bool
	log      *slog.Logger
}

// Freeze snapshots the datasets atomically (one zfs command), holds the
// snapshots and makes each readable. On error nothing is left behind.
func Freeze(ctx context.Context, z *zfs.Runner, opts Options) (_ *Frozen, err error) {
	if len(opts.Datasets) == 0 {
		return nil, errors.New("zfs: no datasets given")
	}
	if opts.Prefix == "" {
		opts.Prefix = "hbackup"
	}
	if opts.MountDir == "" {
		opts.MountDir = "/run/hbackup/zfs"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	f := &Frozen{z: z, keep: opts.Keep, log: opts.Logger}
	seen := map[string]bool{}
	snapName := opts.Prefix + "-" + opts.Time.UTC().Format("20060102T150405Z")
	var names []string
	for _, ds := range opts.Datasets {
		if seen[ds] {
			continue
		}
		seen[ds] = true
		info, err := z.Dataset(ctx, ds)
		if err != nil {
			return nil, fmt.Errorf("zfs dataset %s: %w", ds, err)
		}
		if info.Type != "filesystem" {
			return nil, fmt.Errorf("zfs dataset %s is a %s; only file systems can be backed up", ds, info.Type)
		}
		if !filepath.IsAbs(info.Mountpoint) {
			return nil, fmt.Errorf("zfs dataset %s has mountpoint %q; hbackup records the mount point as the backup's path, so it must be a path", ds, info.Mountpoint)
		}
		d := Dataset{Name: ds, Snapshot: ds + "@" + snapName, Mountpoint: info.Mountpoint}
		f.Datasets = append(f.Datasets, d)
		names = append(names, d.Snapshot)
	}
	if err := Cleanup(ctx, z, opts.Datasets, opts.Prefix, opts.Logger); err != nil {
		opts.Logger.Warn("zfs: leftovers of an earlier run could not be removed", "err", err)
	}
	defer func() {
		if err != nil {
			if rerr := f.release(context.WithoutCancel(ctx), true); rerr != nil {
				opts.Logger.Warn("zfs: cleanup after a failed start", "err", rerr)
			}
		}
	}()
	if err := f.snapshot(ctx, names); err != nil {
		return nil, err
	}
	if err := z.Hold(ctx, HoldTag, names...); err != nil {
		return nil, fmt.Errorf("zfs hold: %w", err)
	}
	for i := range f.Datasets {
		if err := f.expose(ctx, &f.Datasets[i], opts.MountDir); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// snapshot takes the snapshots in one atomic command. A zfs that takes one
// name per command (zfs-fuse) gets them one after another, with a warning:
// they are then not from the same instant.
func (f *Frozen) snapshot(ctx context.Context, names []string) error {
	props := map[string]string{ownerProperty: owner()}
	err := f.z.Snapshot(ctx, names, false, props)
	if err == nil {
		return nil
	}
	if !errors.Is(err, zfs.ErrUnsupported) || len(names) < 2 {
		f.Datasets = nil // one atomic command: it made none of them
		return fmt.Errorf("zfs snapshot: %w", err)
	}
	f.log.Warn("zfs: this zfs cannot snapshot several datasets atomically; taking them one by one", "snapshots", names)
	for i, n := range names {
		if err := f.z.Snapshot(ctx, []string{n}, false, props); err != nil {
			f.Datasets = f.Datasets[:i] // release only what exists
			return fmt.Errorf("zfs snapshot: %w", err)
		}
	}
	return nil
}

// expose finds or makes a read-only view of d's snapshot.
func (f *Frozen) expose(ctx context.Context, d *Dataset, mountDir string) error {
	snapDir := filepath.Join(d.Mountpoint, ".zfs", "snapshot", snapshotPart(d.Snapshot))
	if fi, err := os.Stat(snapDir); err == nil && fi.IsDir() {
		d.Source = snapDir
		return nil
	}
	pool, _, _ := strings.Cut(d.Name, "/")
	clone := pool + "/" + cloneName(d.Snapshot)
	mnt := filepath.Join(mountDir, strings.ReplaceAll(d.Name, "/", "_"))
	props := map[string]string{
		"readonly":    "on",
		"atime":       "off",
		"canmount":    "on",
		"mountpoint":  mnt,
		ownerProperty: owner(),
	}
	if err := f.z.Clone(ctx, d.Snapshot, clone, props); err != nil {
		return fmt.Errorf("zfs clone %s: %w", d.Snapshot, err)
	}
	d.Clone = clone
	info, err := f.z.Dataset(ctx, clone)
	if err != nil {
		return fmt.Errorf("zfs clone %s: %w", clone, err)
	}
	if !info.Mounted {
		if err := f.z.Mount(ctx, clone); err != nil {
			return fmt.Errorf("zfs mount %s: %w", clone, err)
		}
	}
	d.Source = mnt
	return nil
}

// Paths are the real mount points, the paths to back up.
func (f *Frozen) Paths() []string {
	out := make([]string, len(f.Datasets))
	for i, d := range f.Datasets {
		out[i] = d.Mountpoint
	}
	return out
}

// Redirects make the archiver read the frozen content.
func (f *Frozen) Redirects() []archiver.Redirect {
	out := make([]archiver.Redirect, len(f.Datasets))
	for i, d := range f.Datasets {
		out[i] = archiver.Redirect{Path: d.Mountpoint, Source: d.Source}
	}
	return out
}

// Tags name the ZFS snapshots, for the restic snapshot's tags
// ("zfs-snapshot=rpool/home@hbackup-...").
func (f *Frozen) Tags() []string {
	out := make([]string, len(f.Datasets))
	for i, d := range f.Datasets {
		out[i] = "zfs-snapshot=" + d.Snapshot
	}
	return out
}

// Release unmounts and destroys the clones, releases the holds and, unless
// Options.Keep, destroys the snapshots. It runs to the end even if ctx is
// cancelled (an interrupted backup must still clean up) and returns every
// error it met.
func (f *Frozen) Release(ctx context.Context) error {
	return f.release(context.WithoutCancel(ctx), !f.keep)
}

func (f *Frozen) release(ctx context.Context, destroy bool) error {
	var errs []error
	for _, d := range f.Datasets {
		if d.Clone != "" {
			if err := f.z.Destroy(ctx, d.Clone, zfs.DestroyOptions{}); err != nil && !errors.Is(err, zfs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("destroy clone %s: %w", d.Clone, err))
			}
		}
	}
	var held []string
	for _, d := range f.Datasets {
		held = append(held, d.Snapshot)
	}
	for _, s := range held {
		if err := f.z.Release(ctx, HoldTag, s); err != nil && !errors.Is(err, zfs.ErrNotExist) && !isNoSuchHold(err) {
			errs = append(errs, fmt.Errorf("release %s: %w", s, err))
		}
	}
	if destroy {
		for _, s := range held {
			if err := f.z.Destroy(ctx, s, zfs.DestroyOptions{}); err != nil && !errors.Is(err, zfs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("destroy snapshot %s: %w", s, err))
			}
		}
	}
	return errors.Join(errs...)
}

func snapshotPart(full string) string {
	_, s, _ := strings.Cut(full, "@")
	return s
}

// cloneName is the clone dataset's name below the pool: unique per
// snapshot, recognisable as hbackup's.
func cloneName(snapshot string) string {
	r := strings.NewReplacer("/", "_", "@", "_")
	return "hbackup-clone_" + r.Replace(snapshot)
}

func owner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// isNoSuchHold reports a release of a hold that is not there, which is
// what we want anyway.
func isNoSuchHold(err error) bool {
	var ce *zfs.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, "no such tag")
}
