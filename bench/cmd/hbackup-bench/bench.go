package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hbackup/hbackup/bench/dataset"
	"github.com/hbackup/hbackup/bench/internal/hbuild"
)

// bench holds the state of one harness invocation.
type bench struct {
	cfg      config
	log      io.Writer // progress, on stderr
	work     string
	scratch  string // repositories, caches and restore targets; emptied at start and end
	dataDir  string
	data     *dataset.Manifest
	restic   *tool
	hbackup  *tool
	base     map[*tool]string // a repository per tool holding a backup of the data
	hist     *history         // the history forget-prune and copy start from
	copyDst  string           // an empty repository copy's destinations are copied from
	template string           // the empty repository newRepo copies
	password string           // the password file both tools use
	seq      int              // numbers scratch paths
	notes    []string
	dropErr  error // why -drop-caches could not drop, once it failed
}

// newBench prepares the work directory, the tools and the data. cleanup
// removes what this invocation created that is not worth keeping.
func newBench(ctx context.Context, cfg config, log io.Writer) (b *bench, cleanup func(), err error) {
	work, removeWork := cfg.work, false
	if work == "" {
		if work, err = os.MkdirTemp("", "hbackup-bench-"); err != nil {
			return nil, nil, fmt.Errorf("creating the work directory: %w", err)
		}
		removeWork = true
	}
	if work, err = filepath.Abs(work); err != nil {
		return nil, nil, fmt.Errorf("work directory: %w", err)
	}
	b = &bench{cfg: cfg, log: log, work: work, scratch: filepath.Join(work, "scratch"), base: map[*tool]string{}}
	cleanup = func() {
		if removeWork {
			_ = os.RemoveAll(work)
		} else {
			_ = os.RemoveAll(b.scratch)
		}
	}
	if err := b.setup(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	return b, cleanup, nil
}

func (b *bench) setup(ctx context.Context) error {
	if err := os.RemoveAll(b.scratch); err != nil {
		return fmt.Errorf("emptying %s: %w", b.scratch, err)
	}
	if err := os.MkdirAll(filepath.Join(b.work, "bin"), 0o755); err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	pw := filepath.Join(b.work, "password")
	if err := os.WriteFile(pw, []byte("hbackup-bench\n"), 0o600); err != nil {
		return fmt.Errorf("writing the password file: %w", err)
	}
	resticBin := b.cfg.restic
	if resticBin == "" {
		p, err := exec.LookPath("restic")
		if err != nil {
			return fmt.Errorf("restic not found in PATH (pass -restic): %w", err)
		}
		resticBin = p
	}
	hbackupBin := b.cfg.hbackup
	if hbackupBin == "" {
		fmt.Fprintf(b.log, "building %s\n", hbuild.Package)
		p, err := hbuild.Build(ctx, filepath.Join(b.work, "bin"))
		if err != nil {
			return err
		}
		hbackupBin = p
	}
	b.password = pw
	b.restic = newTool("restic", resticBin, pw)
	b.hbackup = newTool("hbackup", hbackupBin, pw)
	for _, t := range b.tools() {
		if err := t.probeVersion(ctx); err != nil {
			return err
		}
	}
	var err error
	b.dataDir, b.data, err = prepareData(filepath.Join(b.work, "data"), dataset.Params{Seed: b.cfg.seed, Scale: b.cfg.scale}, b.log)
	return err
}

func (b *bench) tools() []*tool { return []*tool{b.restic, b.hbackup} }

// fresh returns a new, not yet existing path in the scratch directory.
func (b *bench) fresh(prefix string) string {
	b.seq++
	return filepath.Join(b.scratch, fmt.Sprintf("%04d-%s", b.seq, prefix))
}

// freshCache is a new cache directory for one process. restic normally keeps
// a cache; a fresh one per run makes runs comparable (each starts cold) and
// keeps the tools from sharing anything.
func (b *bench) freshCache(t *tool) string { return b.fresh("cache-" + t.name) }

// timed runs one measured process after flushing the page cache's dirty
// pages (and dropping the cache with -drop-caches).
func (b *bench) timed(ctx context.Context, t *tool, args ...string) (proc, error) {
	b.quiesce()
	return t.exec(ctx, args...)
}

// quiesce flushes dirty pages before a timed run, and drops the page cache
// with -drop-caches until that fails once (said once, then warm).
func (b *bench) quiesce() {
	if err := quiesce(b.cfg.dropCaches && b.dropErr == nil); err != nil {
		b.dropErr = err
		fmt.Fprintf(b.log, "warning: -drop-caches: %v; the page cache stays warm\n", err)
	}
}

// initRepo initialises an empty repository with the tool itself (untimed).
func (b *bench) initRepo(ctx context.Context, t *tool) (string, error) {
	repo := b.fresh("repo-" + t.name)
	_, err := t.exec(ctx, "-r", repo, "--cache-dir", b.freshCache(t), "init")
	return repo, err
}

// templateNote says which scrypt parameters newRepo's copies share.
func templateNote(template string) string {
	const what = "repositories: copies of one restic init, so both tools open the same key"
	keys, err := filepath.Glob(filepath.Join(template, "keys", "*"))
	if err != nil || len(keys) != 1 {
		return what
	}
	data, err := os.ReadFile(keys[0])
	var kdf struct{ N, R, P int }
	if err == nil {
		err = json.Unmarshal(data, &kdf)
	}
	if err != nil {
		return what
	}
	return fmt.Sprintf("%s (scrypt N=%d, r=%d, p=%d) and chunk with the same polynomial", what, kdf.N, kdf.R, kdf.P)
}

// newRepo returns a new empty repository for the tool: a copy of one that
// restic initialised once for the whole run (untimed). Both tools thus open
// keys with the same scrypt parameters and cut chunks with the same
// polynomial. Each init calibrates scrypt by timing it, so two inits pick
// different parameters (restic 0.14 picks p=5..8 lanes here from one init
// to the next, ~70 ms CPU each at every open), which would time the
// calibration's noise along with the tools.
func (b *bench) newRepo(ctx context.Context, t *tool) (string, error) {
	if err := b.makeTemplate(ctx); err != nil {
		return "", err
	}
	repo := b.fresh("repo-" + t.name)
	return repo, copyRepo(ctx, b.template, repo)
}

// makeTemplate makes newRepo's template once per run.
func (b *bench) makeTemplate(ctx context.Context) error {
	if b.template != "" {
		return nil
	}
	tmpl, err := b.initRepo(ctx, b.restic)
	if err != nil {
		return err
	}
	b.template = tmpl
	return nil
}

// templateKey returns the path of the template's key file, for bound-kdf.
func (b *bench) templateKey(ctx context.Context) (string, error) {
	if err := b.makeTemplate(ctx); err != nil {
		return "", err
	}
	keys, err := filepath.Glob(filepath.Join(b.template, "keys", "*"))
	if err != nil || len(keys) != 1 {
		return "", fmt.Errorf("the template repository %s should have one key file, has %d (%v)", b.template, len(keys), err)
	}
	return keys[0], nil
}

// backupArgs are the arguments of every backup, timed or not.
func (b *bench) backupArgs(t *tool, repo, compression, src string) []string {
	return []string{"-r", repo, "--cache-dir", b.freshCache(t), "--compression", compression, "backup", "-q", "--json", src}
}

// baseRepo returns the tool's repository holding a backup of the data,
// making one (untimed) if no earlier scenario left one.
func (b *bench) baseRepo(ctx context.Context, t *tool) (string, error) {
	if repo := b.base[t]; repo != "" {
		return repo, nil
	}
	repo, err := b.newRepo(ctx, t)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(b.log, "%s: initial backup (untimed)\n", t.name)
	if _, err := t.exec(ctx, b.backupArgs(t, repo, "auto", b.dataDir)...); err != nil {
		return "", err
	}
	if t == b.hbackup {
		if err := b.guardRepo(ctx, repo, "the initial backup"); err != nil {
			return "", err
		}
	}
	b.base[t] = repo
	return repo, nil
}

// guardRepo runs `restic check --read-data` on a repository hbackup wrote,
// so that a fast but broken hbackup cannot win.
func (b *bench) guardRepo(ctx context.Context, repo, what string) error {
	return b.guardRepoVia(ctx, b.restic, repo, what)
}

// guardRepoVia is guardRepo with restic set up for the repository's
// transport (see tool.via).
func (b *bench) guardRepoVia(ctx context.Context, restic *tool, repo, what string) error {
	fmt.Fprintf(b.log, "guard: restic check --read-data on hbackup's repository after %s\n", what)
	if _, err := restic.exec(ctx, "-r", repo, "--cache-dir", b.freshCache(b.restic), "check", "--read-data"); err != nil {
		return fmt.Errorf("CORRECTNESS: restic check --read-data failed on the repository hbackup wrote in %s: %w", what, err)
	}
	return nil
}

// verifyRestore compares a tree that who restored with the source data.
func (b *bench) verifyRestore(who, target string) error {
	// Both tools restore a snapshot's absolute path below the target.
	got, err := dataset.Scan(filepath.Join(target, b.dataDir))
	if err != nil {
		return fmt.Errorf("CORRECTNESS: %s restored nothing readable: %w", who, err)
	}
	if got.Sum == b.data.Sum {
		return nil
	}
	diffs := dataset.Diff(b.data, got)
	shown := diffs[:min(len(diffs), 20)]
	return fmt.Errorf("CORRECTNESS: the tree %s restored differs from the source in %d places:\n%s",
		who, len(diffs), strings.Join(shown, "\n"))
}

// parseSummary finds the summary line of `backup --json`.
func parseSummary(stdout []byte) *backupSummary {
	for line := range bytes.Lines(stdout) {
		if !bytes.Contains(line, []byte(`"summary"`)) {
			continue
		}
		var s backupSummary
		if json.Unmarshal(line, &s) == nil {
			return &s
		}
	}
	return nil
}

// runScenario runs every run of one scenario with both tools alternating:
// restic first on even runs, hbackup first on odd runs. A scenario's
// interleaved bound runs between them, and its result comes back as bound.
func (b *bench) runScenario(ctx context.Context, sc scenario) (res *scenarioResult, bound *boundResult, err error) {
	if sc.unavailable != nil {
		if why := sc.unavailable(); why != nil {
			if b.cfg.named {
				return nil, nil, fmt.Errorf("%s, asked for with -scenarios, cannot run on this machine: %w", sc.name, why)
			}
			fmt.Fprintf(b.log, "%s: skipped: %v\n", sc.name, why)
			return skipped(sc, why), nil, nil
		}
	}
	res = &scenarioResult{Name: sc.name, Title: sc.title, Restic: &toolResult{}, Hbackup: &toolResult{}}
	resultOf := map[*tool]*toolResult{b.restic: res.Restic, b.hbackup: res.Hbackup}
	var active []*tool
	for _, t := range b.tools() {
		if t.hasCommand(ctx, sc.command) {
			active = append(active, t)
			continue
		}
		resultOf[t].NA = fmt.Sprintf("%s has no %q command", t.name, sc.command)
		res.Notes = append(res.Notes, fmt.Sprintf("n/a for %s: no %q command (probed with `%s %s --help`)",
			t.name, sc.command, t.name, sc.command))
	}
	if sc.cleanup != nil {
		defer func() {
			if cerr := sc.cleanup(); err == nil && cerr != nil {
				err = cerr
			}
		}()
	}
	if sc.setup != nil {
		if err := sc.setup(ctx, active); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", sc.name, err)
		}
	}
	if sc.bound != nil {
		bound = &boundResult{Name: sc.bound.line.Name, Scenario: sc.name, Title: sc.bound.title, Result: &toolResult{}}
	}
	for r := range b.cfg.runs {
		if sc.beforeRun != nil {
			if err := sc.beforeRun(ctx, r); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", sc.name, err)
			}
		}
		order := slices.Clone(active)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for i, t := range order {
			if bound != nil && i == len(order)/2 {
				s, err := sc.bound.run(ctx, r)
				if err != nil {
					return nil, nil, fmt.Errorf("%s, run %d, %s: %w", sc.name, r+1, bound.Name, err)
				}
				s.Run = r
				bound.Result.Samples = append(bound.Result.Samples, s)
				fmt.Fprintf(b.log, "%-16s run %d/%d  %-8s %7.2fs  CPU %.2fs (bound)\n", sc.name, r+1, b.cfg.runs, bound.Name, s.Seconds, s.CPU)
			}
			s, err := sc.run(ctx, t, r)
			if err != nil {
				return nil, nil, fmt.Errorf("%s, run %d: %w", sc.name, r+1, err)
			}
			s.Run, s.First = r, i == 0
			resultOf[t].Samples = append(resultOf[t].Samples, s)
			fmt.Fprintf(b.log, "%-16s run %d/%d  %-8s %7.2fs  peak RSS %4.0f MiB\n",
				sc.name, r+1, b.cfg.runs, t.name, s.Seconds, float64(s.MaxRSS)/mib)
		}
	}
	if sc.finish != nil {
		if err := sc.finish(ctx, res); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", sc.name, err)
		}
	}
	res.finish()
	if bound != nil {
		bound.Result.finish()
	}
	return res, bound, nil
}

// skipped is the line of a scenario this machine cannot run: not a
// failure, but said in the table and in a note.
func skipped(sc scenario, why error) *scenarioResult {
	na := "skipped: " + why.Error()
	res := &scenarioResult{Name: sc.name, Title: sc.title, Skipped: why.Error(), Restic: &toolResult{NA: na}, Hbackup: &toolResult{NA: na}}
	res.Notes = append(res.Notes, fmt.Sprintf("SKIPPED: %v (not a failure; with -scenarios %s it is one)", why, sc.name))
	return res
}

// runAll runs the selected scenarios in their fixed order and assembles the
// report.
func (b *bench) runAll(ctx context.Context) (*report, error) {
	rep := &report{Machine: probeMachine(), Runs: b.cfg.runs, DropCaches: b.cfg.dropCaches}
	rep.Machine.Restic, rep.Machine.Hbackup = b.restic.version, b.hbackup.version
	rep.Data = dataInfo{Path: b.dataDir, Scale: b.cfg.scale, Seed: b.cfg.seed, Files: b.data.Files,
		Dirs: b.data.Dirs, Symlinks: b.data.Symlinks, Bytes: b.data.Bytes, Digest: b.data.Sum}
	for _, name := range scenarioNames() {
		if !slices.Contains(b.cfg.scenarios, name) {
			continue
		}
		if i := slices.IndexFunc(boundScenarios(), func(bs boundScenario) bool { return bs.name == name }); i >= 0 {
			res, err := b.runBound(ctx, boundScenarios()[i])
			if err != nil {
				return rep, err
			}
			rep.Bounds = append(rep.Bounds, res...)
			continue
		}
		i := slices.IndexFunc(b.scenarios(), func(sc scenario) bool { return sc.name == name })
		res, bound, err := b.runScenario(ctx, b.scenarios()[i])
		if err != nil {
			return rep, err
		}
		rep.Scenarios = append(rep.Scenarios, res)
		if bound != nil {
			rep.Bounds = append(rep.Bounds, bound)
		}
	}
	rep.Machine.LoadEnd = loadAvg()
	rep.DropCaches = b.cfg.dropCaches && b.dropErr == nil
	rep.Notes = slices.Clone(b.notes)
	if b.template != "" {
		rep.Notes = append(rep.Notes, templateNote(b.template))
	}
	rep.Notes = append(rep.Notes,
		"ratio = restic median / hbackup median: above 1 hbackup is faster. min-max and peak RSS are over all runs.",
		"restic runs with its cache on (its normal mode) but in a fresh --cache-dir for every process, so each run starts with a cold cache; hbackup gets its own fresh --cache-dir too.",
		"MB/s is the source data over the median time (for check: the tool's repository size).")
	if b.dropErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("-drop-caches failed (%v): the page cache was warm instead.", b.dropErr))
	}
	return rep, nil
}
