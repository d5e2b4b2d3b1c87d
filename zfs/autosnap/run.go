package autosnap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hbackup/hbackup/zfs"
)

// Options controls TakeSnapshots and Prune.
type Options struct {
	Template Template
	DryRun   bool      // decide and report, change nothing
	Now      time.Time // zero means time.Now(); its location names the snapshots
	// Protect lists snapshots (full names) never to destroy, in addition
	// to held ones.
	Protect []string
	Logger  *slog.Logger
}

// Result lists what was done (or, with DryRun, would be).
type Result struct {
	Created   []string // full names
	Destroyed []string // full names
	Kept      []Kept   // expired but kept: held, protected, or busy
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// TakeSnapshots takes the snapshots that are due on each dataset. With
// Template.Recursive each is taken with zfs snapshot -r, atomically for
// the dataset and its descendants.
func TakeSnapshots(ctx context.Context, r *zfs.Runner, datasets []string, o Options) (Result, error) {
	var res Result
	if o.Template.NoAutosnap {
		return res, nil
	}
	t := o.Template
	t.NoAutoprune = true
	now := o.now()
	for _, ds := range datasets {
		snaps, err := r.Snapshots(ctx, ds, false)
		if err != nil {
			return res, fmt.Errorf("autosnap %s: %w", ds, err)
		}
		for _, name := range Decide(snaps, t, now).Create {
			full := ds + "@" + name
			if !o.DryRun {
				if err := r.Snapshot(ctx, []string{full}, t.Recursive, nil); err != nil {
					return res, fmt.Errorf("autosnap: %w", err)
				}
			}
			if o.Logger != nil {
				o.Logger.InfoContext(ctx, "snapshot taken", "snapshot", full, "dry_run", o.DryRun)
			}
			res.Created = append(res.Created, full)
		}
	}
	return res, nil
}

// Prune destroys the expired snapshots of each dataset (and with
// Template.Recursive of its descendants, each judged on its own
// snapshots). A snapshot that turns out busy (held meanwhile, or a clone's
// origin) is kept and reported, not an error.
func Prune(ctx context.Context, r *zfs.Runner, datasets []string, o Options) (Result, error) {
	var res Result
	if o.Template.NoAutoprune {
		return res, nil
	}
	t := o.Template
	t.NoAutosnap = true
	now := o.now()
	for _, root := range datasets {
		targets := []string{root}
		if t.Recursive {
			all, err := r.Datasets(ctx, root, true)
			if err != nil {
				return res, fmt.Errorf("autosnap prune %s: %w", root, err)
			}
			targets = targets[:0]
			for _, d := range all {
				targets = append(targets, d.Name)
			}
		}
		for _, ds := range targets {
			snaps, err := r.Snapshots(ctx, ds, false)
			if err != nil {
				return res, fmt.Errorf("autosnap prune %s: %w", ds, err)
			}
			plan := Decide(snaps, t, now, o.Protect...)
			res.Kept = append(res.Kept, plan.Kept...)
			for _, s := range plan.Destroy {
				if !o.DryRun {
					err := r.Destroy(ctx, s.FullName(), zfs.DestroyOptions{})
					if errors.Is(err, zfs.ErrBusy) {
						res.Kept = append(res.Kept, Kept{s, "busy"})
						continue
					}
					if err != nil && !errors.Is(err, zfs.ErrNotExist) {
						return res, fmt.Errorf("autosnap prune: %w", err)
					}
				}
				if o.Logger != nil {
					o.Logger.InfoContext(ctx, "snapshot destroyed", "snapshot", s.FullName(), "dry_run", o.DryRun)
				}
				res.Destroyed = append(res.Destroyed, s.FullName())
			}
		}
	}
	return res, nil
}
