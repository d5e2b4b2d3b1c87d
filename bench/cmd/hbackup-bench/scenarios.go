package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hbackup/hbackup/bench/dataset"
)

// scenario is one line of the table. Only run is timed.
type scenario struct {
	name    string
	title   string
	command string // the tool command run times; a tool without it shows n/a
	// setup runs once before the runs, with the tools that take part.
	setup func(ctx context.Context, tools []*tool) error
	// beforeRun runs before each run's pair of processes.
	beforeRun func(ctx context.Context, run int) error
	run       func(ctx context.Context, t *tool, run int) (sample, error)
	// unavailable says why this machine cannot run the scenario (nil when
	// it can): it is skipped then, or fails when -scenarios names it.
	unavailable func() error
	// finish runs after the last run: correctness guards and notes.
	finish func(ctx context.Context, res *scenarioResult) error
	// cleanup always runs, even after a failure.
	cleanup func() error
	// bound, if set, is measured in every run between the two tools.
	bound *interleavedBound
}

// interleavedBound is a bound line that must meet the machine in the
// state the tools meet, so it runs inside their scenario (see writeLine).
type interleavedBound struct {
	line  boundLine
	title string
	run   func(ctx context.Context, run int) (sample, error)
}

// scenarioNames lists every scenario in the order they run. The order
// matters: the bounds read the data before anything changes it; restore
// and check read the repositories the backups left, and must run before
// backup-changed adds a snapshot of changed data; forget-prune and copy
// come last, as their history changes the data set (and restores it).
// backup-sftp has a data set of its own.
func scenarioNames() []string {
	return []string{"bound-read", "bound-pipeline", "bound-verify", "bound-kdf",
		"backup-auto", "backup-off", "backup-nochange", "restore", "check", "backup-changed", "backup-small",
		"backup-sftp", "forget-prune", "copy"}
}

func (b *bench) scenarios() []scenario {
	withBase := func(ctx context.Context, tools []*tool) error {
		for _, t := range tools {
			if _, err := b.baseRepo(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}
	guardBase := func(what string) func(context.Context, *scenarioResult) error {
		return func(ctx context.Context, _ *scenarioResult) error {
			if repo := b.base[b.hbackup]; repo != "" {
				return b.guardRepo(ctx, repo, what)
			}
			return nil
		}
	}
	small := filepath.Join(b.dataDir, "small")
	n := historyLength(b.cfg.scale)
	withHistory := func(ctx context.Context, _ []*tool) error {
		_, err := b.history(ctx)
		return err
	}
	withCopyDst := func(ctx context.Context, tools []*tool) error {
		if err := withHistory(ctx, tools); err != nil || b.copyDst != "" {
			return err
		}
		// An init of its own, not a copy of newRepo's template (which
		// the history came from): copy's source and destination stay
		// distinct repositories, as in use. Made once, copied per run.
		var err error
		b.copyDst, err = b.initRepo(ctx, b.restic)
		return err
	}
	mut := &mutation{b: b}
	sftp := &sftpScenario{b: b}
	return []scenario{
		{name: "backup-auto", title: "first backup, --compression auto", command: "backup",
			run: func(ctx context.Context, t *tool, r int) (sample, error) {
				return b.firstBackup(ctx, t, r, "backup-auto", "auto", b.dataDir, true)
			}},
		{name: "backup-off", title: "first backup, --compression off", command: "backup",
			run: func(ctx context.Context, t *tool, r int) (sample, error) {
				return b.firstBackup(ctx, t, r, "backup-off", "off", b.dataDir, false)
			}},
		{name: "backup-nochange", title: "second backup, nothing changed", command: "backup",
			setup: withBase, run: b.baseBackup, finish: guardBase("backup-nochange")},
		{name: "restore", title: "restore latest snapshot to an empty directory", command: "restore",
			setup: withBase, run: b.restore,
			bound: &interleavedBound{line: writeLine, title: writeTitle(workers()), run: b.writeBound}},
		{name: "check", title: "check --read-data", command: "check",
			setup: withBase, run: b.check},
		{name: "backup-changed", title: "backup after ~5% of the files changed", command: "backup",
			setup: withBase, beforeRun: mut.apply, run: b.baseBackup, finish: mut.finish, cleanup: mut.undo},
		{name: "backup-small", title: "first backup of the small files only", command: "backup",
			run: func(ctx context.Context, t *tool, r int) (sample, error) {
				s, err := b.firstBackup(ctx, t, r, "backup-small", "auto", small, false)
				s.Bytes = subtreeBytes(b.data, "small")
				return s, err
			}},
		{name: "backup-sftp", title: "first backup of the data set at a quarter of its size to an SFTP repository on 127.0.0.1",
			command: "backup", unavailable: sftpUnavailable, setup: sftp.setup, run: sftp.run, finish: sftp.finish, cleanup: sftp.cleanup},
		{name: "forget-prune", title: fmt.Sprintf("forget --keep-last %d --prune after %d backups, each after ~5%% changed", n/4, n),
			command: "forget", setup: withHistory, run: b.forgetPrune},
		{name: "copy", title: fmt.Sprintf("copy all %d snapshots of the history to an empty repository", n),
			command: "copy", setup: withCopyDst, run: b.copySnapshots},
	}
}

// firstBackup times a backup of src into a new repository. hbackup's
// repository of the first run is checked by restic; with keepBase the
// first run's repositories become the base for later scenarios.
func (b *bench) firstBackup(ctx context.Context, t *tool, r int, name, compression, src string, keepBase bool) (sample, error) {
	repo, err := b.newRepo(ctx, t)
	if err != nil {
		return sample{}, err
	}
	res, err := b.timed(ctx, t, b.backupArgs(t, repo, compression, src)...)
	if err != nil {
		return sample{}, err
	}
	size, err := dirSize(repo)
	if err != nil {
		return sample{}, err
	}
	s := sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS, Bytes: b.data.Bytes, RepoSize: size,
		Summary: parseSummary(res.stdout)}
	if t == b.hbackup && r == 0 {
		if err := b.guardRepo(ctx, repo, name); err != nil {
			return s, err
		}
	}
	if keepBase && b.base[t] == "" {
		b.base[t] = repo
		return s, nil
	}
	return s, os.RemoveAll(repo)
}

// baseBackup times a backup of the data into the tool's base repository,
// whose latest snapshot is the parent.
func (b *bench) baseBackup(ctx context.Context, t *tool, _ int) (sample, error) {
	res, err := b.timed(ctx, t, b.backupArgs(t, b.base[t], "auto", b.dataDir)...)
	if err != nil {
		return sample{}, err
	}
	return sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS, Summary: parseSummary(res.stdout)}, nil
}

// restore times a restore of the latest snapshot of the base repository
// into a new directory and verifies the result against the source.
func (b *bench) restore(ctx context.Context, t *tool, _ int) (sample, error) {
	target := b.fresh("restore-" + t.name)
	res, err := b.timed(ctx, t, "-r", b.base[t], "--cache-dir", b.freshCache(t), "restore", "latest", "--target", target)
	if err != nil {
		return sample{}, err
	}
	s := sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS, Bytes: b.data.Bytes}
	if err := b.verifyRestore(t.name, target); err != nil {
		return s, err
	}
	return s, os.RemoveAll(target)
}

// writeBound measures bound-write into a new directory, after the same
// flush as a tool's run; its tree is checked and deleted like a restore's.
func (b *bench) writeBound(ctx context.Context, _ int) (sample, error) {
	target := b.fresh("restore-bound")
	b.quiesce()
	s, err := b.boundChildOut(ctx, writeLine, target)
	if err != nil {
		return s, err
	}
	s.Bytes = b.data.Bytes
	if err := b.verifyRestore(writeLine.Name, target); err != nil {
		return s, err
	}
	return s, os.RemoveAll(target)
}

// check times `check --read-data` of the tool's base repository.
func (b *bench) check(ctx context.Context, t *tool, _ int) (sample, error) {
	res, err := b.timed(ctx, t, "-r", b.base[t], "--cache-dir", b.freshCache(t), "check", "--read-data")
	if err != nil {
		return sample{}, err
	}
	size, err := dirSize(b.base[t])
	return sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS, Bytes: size, RepoSize: size}, err
}

// mutation changes the data before each run of backup-changed (round
// run+1, on top of the earlier rounds) and restores it afterwards.
type mutation struct {
	b       *bench
	touched map[string]bool
	counts  []int // files changed per run
}

func (m *mutation) apply(_ context.Context, r int) error {
	changes, err := dataset.Mutate(m.b.dataDir, dataset.Params{Seed: m.b.cfg.seed, Scale: m.b.cfg.scale}, r+1)
	if m.touched == nil {
		m.touched = map[string]bool{}
	}
	for _, c := range changes {
		m.touched[c.Rel] = true
	}
	if err != nil {
		return err
	}
	kinds := map[dataset.ChangeKind]int{}
	for _, c := range changes {
		kinds[c.Kind]++
	}
	m.counts = append(m.counts, len(changes))
	fmt.Fprintf(m.b.log, "mutated %d files (%d appends, %d overwrites)\n", len(changes), kinds[dataset.Append], kinds[dataset.Overwrite])
	return nil
}

// finish checks hbackup's repository and notes how many changed files
// each tool saw.
func (m *mutation) finish(ctx context.Context, res *scenarioResult) error {
	seen := func(tr *toolResult) string {
		var out []string
		for _, s := range tr.Samples {
			if s.Summary == nil {
				out = append(out, "?")
				continue
			}
			out = append(out, fmt.Sprint(s.Summary.FilesChanged+s.Summary.FilesNew))
		}
		return strings.Join(out, " ")
	}
	res.Notes = append(res.Notes, fmt.Sprintf("files changed per run: %v; changed files reported by restic: [%s], by hbackup: [%s]",
		m.counts, seen(res.Restic), seen(res.Hbackup)))
	if repo := m.b.base[m.b.hbackup]; repo != "" {
		return m.b.guardRepo(ctx, repo, "backup-changed")
	}
	return nil
}

// undo rewrites the changed files and verifies the data is the original
// again, so the next scenario (and the next invocation) sees it unchanged.
func (m *mutation) undo() error {
	if len(m.touched) == 0 {
		return nil
	}
	rels := make([]string, 0, len(m.touched))
	for rel := range m.touched {
		rels = append(rels, rel)
	}
	if err := dataset.Reset(m.b.dataDir, dataset.Params{Seed: m.b.cfg.seed, Scale: m.b.cfg.scale}, rels); err != nil {
		return err
	}
	got, err := dataset.Scan(m.b.dataDir)
	if err != nil {
		return err
	}
	if got.Sum != m.b.data.Sum {
		return fmt.Errorf("the data set differs after undoing the changes:\n%s", strings.Join(dataset.Diff(m.b.data, got), "\n"))
	}
	return nil
}
