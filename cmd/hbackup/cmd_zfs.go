package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/zfs"
	"github.com/hbackup/hbackup/zfs/autosnap"
	"github.com/spf13/pflag"
)

func zfsCommand() *command {
	return &command{
		name:  "zfs",
		usage: "snapshot|prune DATASET... | replicate SRC [user@host:]DST",
		short: "Manage and replicate ZFS snapshots",
		long: `The "zfs" command manages ZFS snapshots by policy, as sanoid does, and
replicates datasets, as syncoid does.

"snapshot DATASET..." takes the snapshots that are due under the template
(--frequently, --hourly, --daily, --weekly, --monthly, --yearly counts),
named like autosnap_2026-11-22_14:00:00_hourly; with --prune it then prunes.
"prune DATASET..." destroys the snapshots beyond those counts. Held
snapshots (including the last common snapshot of a replication) are never
destroyed. Run both from cron, for example every 15 minutes.

"replicate SRC [user@host:]DST" sends SRC to DST: everything the first time,
then incrementally (with intermediate snapshots) from the newest snapshot
both have. Either side may be remote; ssh (--ssh, --ssh-config and your
~/.ssh/config) runs zfs there. A target that shares no snapshot with the
source is an error unless --force, which destroys and re-sends it.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var o zfsOptions
			o.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return errors.New("no subcommand given: use snapshot, prune or replicate")
				}
				switch args[0] {
				case "snapshot", "prune":
					if len(args) < 2 {
						return fmt.Errorf("zfs %s needs at least one dataset", args[0])
					}
					return zfsSnapshotPrune(ctx, g, o, args[0], args[1:])
				case "replicate":
					if len(args) != 3 {
						return errors.New("zfs replicate needs a source and a target: SRC [user@host:]DST")
					}
					return zfsReplicate(ctx, g, o, args[1], args[2])
				}
				return fmt.Errorf("unknown zfs subcommand %q: use snapshot, prune or replicate", args[0])
			}
		},
	}
}

type zfsOptions struct {
	tmpl           autosnap.Template
	frequentPeriod int // minutes
	noAutosnap     bool
	noAutoprune    bool
	prune          bool
	dryRun         bool
	utc            bool
	zfsBin         string

	// replicate
	raw, noMount, force, noSnapshot bool
	bwlimit                         int64 // KiB/s
	ssh, sshConfig                  string
}

func (o *zfsOptions) register(fs *pflag.FlagSet) {
	def := autosnap.DefaultTemplate()
	fs.IntVar(&o.tmpl.Frequently, "frequently", def.Frequently, "snapshot: `count` of frequent snapshots to keep")
	fs.IntVar(&o.frequentPeriod, "frequent-period", 15, "snapshot: `minutes` between frequent snapshots")
	fs.IntVar(&o.tmpl.Hourly, "hourly", def.Hourly, "snapshot: `count` of hourly snapshots to keep")
	fs.IntVar(&o.tmpl.Daily, "daily", def.Daily, "snapshot: `count` of daily snapshots to keep")
	fs.IntVar(&o.tmpl.Weekly, "weekly", def.Weekly, "snapshot: `count` of weekly snapshots to keep")
	fs.IntVar(&o.tmpl.Monthly, "monthly", def.Monthly, "snapshot: `count` of monthly snapshots to keep")
	fs.IntVar(&o.tmpl.Yearly, "yearly", def.Yearly, "snapshot: `count` of yearly snapshots to keep")
	fs.BoolVar(&o.noAutosnap, "no-autosnap", false, "snapshot: take no snapshots (with --prune: only prune)")
	fs.BoolVar(&o.noAutoprune, "no-autoprune", false, "prune: destroy nothing")
	fs.BoolVar(&o.prune, "prune", false, "snapshot: prune after taking snapshots")
	fs.BoolVarP(&o.tmpl.Recursive, "recursive", "R", false, "snapshot/prune: include descendant datasets (atomic zfs snapshot -r)")
	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "snapshot/prune: only show what would be done")
	fs.BoolVar(&o.utc, "utc", false, "snapshot/prune: name snapshots in UTC instead of local time")
	fs.StringVar(&o.zfsBin, "zfs", "", "`path` of the zfs command (default: zfs from PATH)")
	fs.BoolVarP(&o.raw, "raw", "w", false, "replicate: raw sends (zfs send -w): encrypted data stays encrypted")
	fs.BoolVarP(&o.noMount, "no-mount", "u", false, "replicate: do not mount the target (zfs receive -u)")
	fs.BoolVar(&o.force, "force", false, "replicate: roll back or destroy target data that is not on the source")
	fs.BoolVar(&o.noSnapshot, "no-snapshot", false, "replicate: send existing snapshots only, take no new one")
	fs.Int64Var(&o.bwlimit, "bwlimit", 0, "replicate: limit the stream to `rate` KiB/s (default: unlimited)")
	fs.StringVarP(&o.ssh, "ssh", "e", "ssh", "replicate: ssh `command` (with options) for remote sides")
	fs.StringVarP(&o.sshConfig, "ssh-config", "F", "", "replicate: ssh configuration `file` (ssh -F)")
}

// zfsPlanJSON is the --json output of snapshot and prune.
type zfsPlanJSON struct {
	DryRun    bool          `json:"dry_run"`
	Created   []string      `json:"created"`
	Destroyed []string      `json:"destroyed"`
	Kept      []zfsKeptJSON `json:"kept"`
}

type zfsKeptJSON struct {
	Snapshot string `json:"snapshot"`
	Reason   string `json:"reason"`
}

func zfsSnapshotPrune(ctx context.Context, g *globalOptions, o zfsOptions, sub string, datasets []string) error {
	r := &zfs.Runner{ZFS: o.zfsBin, Logger: g.logger}
	tmpl := o.tmpl
	tmpl.FrequentPeriod = time.Duration(o.frequentPeriod) * time.Minute
	tmpl.NoAutosnap, tmpl.NoAutoprune = o.noAutosnap, o.noAutoprune
	now := time.Now()
	if o.utc {
		now = now.UTC()
	}
	opts := autosnap.Options{Template: tmpl, DryRun: o.dryRun, Now: now, Logger: g.logger}
	var res autosnap.Result
	if sub == "snapshot" {
		taken, err := autosnap.TakeSnapshots(ctx, r, datasets, opts)
		res.Created = taken.Created
		if err != nil {
			printZFSPlan(g, o.dryRun, res)
			return err
		}
	}
	if sub == "prune" || o.prune {
		pruned, err := autosnap.Prune(ctx, r, datasets, opts)
		res.Destroyed, res.Kept = pruned.Destroyed, pruned.Kept
		if err != nil {
			printZFSPlan(g, o.dryRun, res)
			return err
		}
	}
	printZFSPlan(g, o.dryRun, res)
	return nil
}

func printZFSPlan(g *globalOptions, dryRun bool, res autosnap.Result) {
	if g.json {
		out := zfsPlanJSON{DryRun: dryRun, Created: res.Created, Destroyed: res.Destroyed, Kept: []zfsKeptJSON{}}
		for _, k := range res.Kept {
			out.Kept = append(out.Kept, zfsKeptJSON{k.Snapshot.FullName(), k.Reason})
		}
		if out.Created == nil {
			out.Created = []string{}
		}
		if out.Destroyed == nil {
			out.Destroyed = []string{}
		}
		_ = json.NewEncoder(g.stdout).Encode(out)
		return
	}
	would := ""
	if dryRun {
		would = "would be "
	}
	for _, s := range res.Created {
		g.printf("%screated %s\n", would, s)
	}
	for _, s := range res.Destroyed {
		g.printf("%sdestroyed %s\n", would, s)
	}
	for _, k := range res.Kept {
		g.printf("kept %s (%s)\n", k.Snapshot.FullName(), k.Reason)
	}
}
