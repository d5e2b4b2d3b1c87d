package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

// forgetOptions are forget's flags, named as in restic 0.14.
type forgetOptions struct {
	policy   snapshot.ExpirePolicy
	keepTags []string
	hosts    []string
	tags     []string
	paths    []string
	compact  bool
	groupBy  snapshot.GroupBy
	dryRun   bool
	prune    bool
	pruneOpt pruneOptions // prune's flags, for --prune
}

func (o *forgetOptions) register(fs *pflag.FlagSet) {
	p := &o.policy
	fs.IntVarP(&p.Last, "keep-last", "l", 0, "keep the last `n` snapshots")
	fs.IntVarP(&p.Hourly, "keep-hourly", "H", 0, "keep the last `n` hourly snapshots")
	fs.IntVarP(&p.Daily, "keep-daily", "d", 0, "keep the last `n` daily snapshots")
	fs.IntVarP(&p.Weekly, "keep-weekly", "w", 0, "keep the last `n` weekly snapshots")
	fs.IntVarP(&p.Monthly, "keep-monthly", "m", 0, "keep the last `n` monthly snapshots")
	fs.IntVarP(&p.Yearly, "keep-yearly", "y", 0, "keep the last `n` yearly snapshots")
	const rel = "newer than `duration` (eg. 1y5m7d2h) relative to the latest snapshot"
	fs.Var(&p.Within, "keep-within", "keep snapshots that are "+rel)
	fs.Var(&p.WithinHourly, "keep-within-hourly", "keep hourly snapshots that are "+rel)
	fs.Var(&p.WithinDaily, "keep-within-daily", "keep daily snapshots that are "+rel)
	fs.Var(&p.WithinWeekly, "keep-within-weekly", "keep weekly snapshots that are "+rel)
	fs.Var(&p.WithinMonthly, "keep-within-monthly", "keep monthly snapshots that are "+rel)
	fs.Var(&p.WithinYearly, "keep-within-yearly", "keep yearly snapshots that are "+rel)
	fs.StringArrayVar(&o.keepTags, "keep-tag", nil, "keep snapshots with this `taglist` (can be specified multiple times)")
	// No -H for --host here: it is --keep-hourly, as in restic.
	fs.StringArrayVar(&o.hosts, "host", nil, "only consider snapshots with the given `host` (can be specified multiple times)")
	fs.StringArrayVar(&o.hosts, "hostname", nil, "only consider snapshots with the given `hostname` (can be specified multiple times)")
	_ = fs.MarkDeprecated("hostname", "use --host")
	fs.StringArrayVar(&o.tags, "tag", nil, "only consider snapshots which include this `taglist` in the format `tag[,tag,...]` (can be specified multiple times)")
	fs.StringArrayVar(&o.paths, "path", nil, "only consider snapshots which include this (absolute) `path` (can be specified multiple times)")
	fs.BoolVarP(&o.compact, "compact", "c", false, "use compact output format")
	o.groupBy = snapshot.DefaultGroupBy()
	fs.VarP(&o.groupBy, "group-by", "g", "`group` snapshots by host, paths and/or tags, separated by comma (disable grouping with '')")
	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "do not delete anything, just print what would be done")
	fs.BoolVar(&o.prune, "prune", false, "automatically run the 'prune' command if snapshots have been removed")
	o.pruneOpt.registerPolicy(fs)
}

func forgetCommand() *command {
	return &command{
		name:  "forget",
		usage: "[snapshot ID] [...]",
		short: "Remove snapshots from the repository",
		long: `
Forget removes snapshots: those given as arguments, or else those that a
policy does not keep. Snapshots are first divided into groups by --group-by,
then the --keep-* policy is applied to each group on its own. The decisions
are those of restic 0.14.

Only snapshot files are deleted; the data they refer to stays in the
repository until it is pruned: --prune runs prune afterwards (with
--dry-run, it only reports what prune would do).`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var o forgetOptions
			o.register(fs)
			return func(ctx context.Context, args []string) error { return runForget(ctx, g, &o, args) }
		},
	}
}

func runForget(ctx context.Context, g *globalOptions, o *forgetOptions, args []string) error {
	if o.prune {
		// Bad prune flags must fail before any snapshot is forgotten.
		if _, err := o.pruneOpt.options(); err != nil {
			return err
		}
	}
	for _, n := range []int{o.policy.Last, o.policy.Hourly, o.policy.Daily, o.policy.Weekly, o.policy.Monthly, o.policy.Yearly} {
		// restic 0.14 accepts negative counts and then keeps nothing.
		if n < 0 {
			return errors.New("negative values are not allowed for --keep-*")
		}
	}
	for _, l := range o.keepTags {
		o.policy.Tags = append(o.policy.Tags, snapshot.SplitTagList(l))
	}
	if g.noLock && !o.dryRun {
		return errors.New("--no-lock is only applicable in combination with --dry-run for forget command")
	}
	r, done, err := g.openRepository(ctx, exclusiveLock)
	if err != nil {
		return err
	}
	defer done()

	var remove []repo.ID
	var groups []forgetGroupJSON
	if len(args) > 0 {
		if remove, err = forgetArgs(ctx, g, o, r, args); err != nil {
			return err
		}
	} else if o.policy.Empty() {
		g.printf("no policy was specified, no snapshots will be removed\n")
	} else {
		g.printf("Applying Policy: %v\n", o.policy)
		sns, err := loadForForget(ctx, g, o, r)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, grp := range snapshot.GroupSnapshots(sns, o.groupBy) {
			keep, rm, reasons := snapshot.ApplyPolicy(grp.Snapshots, o.policy, now)
			printForgetGroup(g, o, grp.Key, keep, rm, reasons)
			groups = append(groups, forgetGroupJSON{
				Tags: grp.Key.Tags, Host: grp.Key.Hostname, Paths: grp.Key.Paths,
				Keep: toSnapshotJSON(keep), Remove: toSnapshotJSON(rm), Reasons: reasons,
			})
			for _, sn := range rm {
				remove = append(remove, sn.ID())
			}
		}
	}

	slices.SortFunc(remove, func(a, b repo.ID) int { return slices.Compare(a[:], b[:]) })
	remove = slices.Compact(remove)
	if len(remove) > 0 {
		if o.dryRun {
			if !g.json {
				fmt.Fprintf(g.stdout, "Would have removed the following snapshots:\n%s\n\n", idSetString(remove))
			}
		} else if err := removeSnapshots(ctx, g, r, remove); err != nil {
			return err
		}
	}
	if g.json && len(groups) > 0 {
		if err := writeJSON(g.stdout, groups); err != nil {
			return err
		}
	}
	if len(remove) > 0 && o.prune {
		g.printf("%d snapshots have been removed, running prune\n", len(remove))
		o.pruneOpt.dryRun = o.dryRun
		// In a dry run the snapshots still exist: plan as if they did not.
		return runPrune(ctx, g, &o.pruneOpt, r, remove)
	}
	return nil
}

// loadForForget loads the snapshots that pass the filters, newest first
// with equal times by descending ID, so ties resolve as "latest" does.
// As restic, it sorts each snapshot's paths in place (the JSON and table
// show them sorted), and its tags too when grouping by tags.
func loadForForget(ctx context.Context, g *globalOptions, o *forgetOptions, r *repo.Repository) ([]*snapshot.Snapshot, error) {
	all, err := snapshot.LoadAllFunc(ctx, r, g.warnSnapshot)
	if err != nil {
		return nil, err
	}
	var out []*snapshot.Snapshot
	for _, sn := range slices.Backward(all) {
		if !forgetFilterMatch(o, sn) {
			continue
		}
		slices.Sort(sn.Paths)
		if o.groupBy.Tags {
			slices.Sort(sn.Tags)
		}
		out = append(out, sn)
	}
	return out, nil
}

// forgetFilterMatch applies --host, --path and --tag; tag lists are parsed
// and matched as restic does (SplitTagList, TagList.Match).
func forgetFilterMatch(o *forgetOptions, sn *snapshot.Snapshot) bool {
	if !sn.HasHostname(o.hosts) || !sn.HasPaths(o.paths) {
		return false
	}
	if len(o.tags) == 0 {
		return true
	}
	for _, t := range o.tags {
		if snapshot.SplitTagList(t).Match(sn) {
			return true
		}
	}
	return false
}

// forgetArgs resolves explicit snapshot arguments. As restic, arguments
// that match nothing are reported and skipped, and the filters only apply
// to "latest".
func forgetArgs(ctx context.Context, g *globalOptions, o *forgetOptions, r *repo.Repository, args []string) ([]repo.ID, error) {
	var ids []repo.ID
	usedFilter := false
	for _, a := range args {
		if a != "latest" {
			sn, err := snapshot.Find(ctx, r, a, snapshot.Filter{})
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				fmt.Fprintf(g.stderr, "Ignoring %q: %v\n", a, err)
				continue
			}
			ids = append(ids, sn.ID())
			continue
		}
		usedFilter = true
		sns, err := loadForForget(ctx, g, o, r)
		if err != nil {
			return nil, err
		}
		if len(sns) == 0 {
			fmt.Fprintf(g.stderr, "Ignoring \"latest\", no snapshot matched given filter (Paths:%v Tags:%v Hosts:%v)\n", o.paths, o.tags, o.hosts)
			continue
		}
		ids = append(ids, sns[0].ID())
	}
	if !usedFilter && (len(o.hosts) > 0 || len(o.tags) > 0 || len(o.paths) > 0) {
		fmt.Fprintf(g.stderr, "Ignoring filters as there are explicit snapshot ids given\n")
	}
	return ids, nil
}

// removeSnapshots deletes the snapshot files; the data stays for prune.
func removeSnapshots(ctx context.Context, g *globalOptions, r *repo.Repository, ids []repo.ID) error {
	start := time.Now()
	for _, id := range ids {
		h := backend.Handle{Type: backend.SnapshotFile, Name: id.String()}
		if err := r.Backend().Remove(ctx, h); err != nil {
			return fmt.Errorf("remove snapshot %s: %w", id.Str(), err)
		}
		if g.verbose >= 2 && !g.json {
			fmt.Fprintf(g.stdout, "removed snapshot %s\n", id)
		}
	}
	// restic's final progress line.
	g.printf("[%s] 100.00%%  %d / %d files deleted\n", formatDuration(time.Since(start)), len(ids), len(ids))
	return nil
}

// idSetString formats IDs as restic prints an ID set: "{0f46d785 89ea4a89}".
func idSetString(ids []repo.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Str()
	}
	return "{" + strings.Join(s, " ") + "}"
}

// forgetGroupJSON is one group in forget --json, in restic's shape.
type forgetGroupJSON struct {
	Tags    []string              `json:"tags"`
	Host    string                `json:"host"`
	Paths   []string              `json:"paths"`
	Keep    []snapshotJSON        `json:"keep"`
	Remove  []snapshotJSON        `json:"remove"`
	Reasons []snapshot.KeepReason `json:"reasons"`
}

func toSnapshotJSON(list []*snapshot.Snapshot) []snapshotJSON {
	var out []snapshotJSON // null when empty, as restic
	for _, sn := range list {
		out = append(out, snapshotJSON{Snapshot: sn, ID: sn.ID(), ShortID: sn.ID().Str()})
	}
	return out
}

// printForgetGroup prints one group's header (with -v) and its keep and
// remove tables, as restic does.
func printForgetGroup(g *globalOptions, o *forgetOptions, key snapshot.GroupKey, keep, remove []*snapshot.Snapshot, reasons []snapshot.KeepReason) {
	if g.json {
		return
	}
	if g.verbose >= 1 {
		printGroupHeader(g.stdout, key)
	}
	if g.quiet {
		return
	}
	if len(keep) > 0 {
		fmt.Fprintf(g.stdout, "keep %d snapshots:\n", len(keep))
		printForgetTable(g.stdout, keep, reasons, o.compact)
		fmt.Fprintln(g.stdout)
	}
	if len(remove) > 0 {
		fmt.Fprintf(g.stdout, "remove %d snapshots:\n", len(remove))
		printForgetTable(g.stdout, remove, nil, o.compact)
		fmt.Fprintln(g.stdout)
	}
}

// printGroupHeader prints "snapshots for (host [h], tags [a, b], paths
// [/x]):"; nothing when the key is empty (no grouping).
func printGroupHeader(w io.Writer, k snapshot.GroupKey) {
	var parts []string
	if k.Hostname != "" {
		parts = append(parts, "host ["+k.Hostname+"]")
	}
	if k.Tags != nil {
		parts = append(parts, "tags ["+strings.Join(k.Tags, ", ")+"]")
	}
	if k.Paths != nil {
		parts = append(parts, "paths ["+strings.Join(k.Paths, ", ")+"]")
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "snapshots for (%s):\n", strings.Join(parts, ", "))
	}
}

// printForgetTable prints snapshots oldest first in restic's table, with
// a Reasons column when reasons (parallel to list) are given.
func printForgetTable(w io.Writer, list []*snapshot.Snapshot, reasons []snapshot.KeepReason, compact bool) {
	why := map[*snapshot.Snapshot][]string{}
	for i, kr := range reasons {
		why[list[i]] = kr.Matches
	}
	sorted := slices.Clone(list)
	slices.SortStableFunc(sorted, func(a, b *snapshot.Snapshot) int { return a.Time.Compare(b.Time) })

	headers := []string{"ID", "Time", "Host      ", "Tags      "}
	if compact {
		headers = []string{"ID", "Time", "Host", "Tags  "}
	} else {
		if len(reasons) > 0 {
			headers = append(headers, "Reasons")
		}
		headers = append(headers, "Paths")
	}
	var rows [][]string
	multiline := false
	for _, sn := range sorted {
		row := []string{sn.ID().Str(), sn.Time.Local().Format("2006-01-02 15:04:05"), sn.Hostname}
		if compact {
			rows = append(rows, append(row, strings.Join(sn.Tags, "\n")))
			continue
		}
		row = append(row, strings.Join(sn.Tags, ","))
		if len(reasons) > 0 {
			row = append(row, strings.Join(why[sn], "\n"))
		}
		rows = append(rows, append(row, strings.Join(sn.Paths, "\n")))
		multiline = multiline || len(sn.Paths) > 1
	}
	writeTable(w, headers, rows, fmt.Sprintf("%d snapshots", len(list)), multiline)
}

// writeTable prints restic's text table: cells padded to the widest line
// of their column and separated by two spaces, trailing spaces trimmed,
// dashed rules around the rows, the footer last. Cells may hold several
// lines. With blankBetween an empty line separates the rows.
func writeTable(w io.Writer, headers []string, rows [][]string, footer string, blankBetween bool) {
	widths := make([]int, len(headers))
	for _, row := range append([][]string{headers}, rows...) {
		for i, cell := range row {
			for _, line := range strings.Split(cell, "\n") {
				widths[i] = max(widths[i], len(line))
			}
		}
	}
	total := 2 * (len(widths) - 1)
	for _, wd := range widths {
		total += wd
	}
	rule := strings.Repeat("-", total)
	printRow := func(row []string) {
		cells := make([][]string, len(row))
		lines := 1
		for i, c := range row {
			cells[i] = strings.Split(c, "\n")
			lines = max(lines, len(cells[i]))
		}
		for l := 0; l < lines; l++ {
			var b strings.Builder
			for i, c := range cells {
				if i > 0 {
					b.WriteString("  ")
				}
				v := ""
				if l < len(c) {
					v = c[l]
				}
				b.WriteString(v + strings.Repeat(" ", max(0, widths[i]-len(v))))
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
	}
	printRow(headers)
	fmt.Fprintln(w, rule)
	for i, row := range rows {
		if blankBetween && i > 0 {
			fmt.Fprintln(w)
		}
		printRow(row)
	}
	fmt.Fprintln(w, rule)
	fmt.Fprintln(w, footer)
}
