package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// A bound is work the harness does itself, with no tool and no
// repository: a lower limit on what any backup tool can take on this
// machine, against which hbackup's and restic's times are judged (issue 3).
// Bounds are not tools: they have their own table.
//
// Each bound runs in a child process (this program re-executed), so that
// its memory does not raise the harness's peak RSS, which the kernel
// passes on to every tool started afterwards as a floor of its ru_maxrss.

// boundLine is one measured line of a bound scenario, e.g. the pipeline
// with compression off over the whole data set.
type boundLine struct {
	Name  string `json:"name"`            // as printed, e.g. "bound-pipeline off"
	Kind  string `json:"kind"`            // "read", "stat", "pipeline", "verify", "kdf" or "write"
	Scope string `json:"scope,omitempty"` // "" for the whole data set, or a subtree such as "small"
	Mode  string `json:"mode,omitempty"`  // pipeline: compression "auto" or "off"; verify: "packs" or "blobs"
}

// boundScenario is a scenario measuring bound lines instead of tools.
type boundScenario struct {
	name  string
	lines []boundLine
	title func(l boundLine) string
}

func boundScenarios() []boundScenario {
	n := workers()
	of := func(l boundLine) string {
		if l.Scope == "" {
			return "the data set"
		}
		return l.Scope + "/"
	}
	return []boundScenario{
		{name: "bound-read",
			lines: []boundLine{{Name: "bound-read", Kind: "read"}, {Name: "bound-read small/", Kind: "read", Scope: "small"},
				{Name: "bound-stat", Kind: "stat"}},
			title: func(l boundLine) string {
				if l.Kind == "stat" {
					return fmt.Sprintf("list every directory of %s and lstat every entry, %d workers", of(l), n)
				}
				return fmt.Sprintf("read every file of %s once, %d readers, page cache as for the tools", of(l), n)
			}},
		{name: "bound-pipeline",
			lines: []boundLine{
				{Name: "bound-pipeline auto", Kind: "pipeline", Mode: "auto"},
				{Name: "bound-pipeline off", Kind: "pipeline", Mode: "off"},
				{Name: "bound-pipeline small/", Kind: "pipeline", Scope: "small", Mode: "auto"},
			},
			title: func(l boundLine) string {
				work := "chunk+sha256 (two at a time)+probe+zstd+seal+pack sha256 (two packs at a time)"
				if l.Mode == "off" {
					work = "chunk+sha256 (two at a time)+seal+pack sha256 (two packs at a time)"
				}
				return fmt.Sprintf("%s of %s, in memory (loaded before timing), %d workers", work, of(l), n)
			}},
		{name: "bound-verify",
			lines: []boundLine{
				{Name: "bound-verify packs", Kind: "verify", Mode: "packs"},
				{Name: "bound-verify blobs", Kind: "verify", Mode: "blobs"},
			},
			title: func(l boundLine) string {
				work := "open+unzstd+sha256 (two at a time) of every blob"
				if l.Mode == "packs" {
					work = "pack sha256, then " + work
				}
				return fmt.Sprintf("%s of %s backed up (auto), packs in memory, %d workers", work, of(l), n)
			}},
		{name: "bound-kdf",
			lines: []boundLine{{Name: "bound-kdf", Kind: "kdf"}},
			title: func(boundLine) string {
				return fmt.Sprintf("scrypt of the repositories' key (see repositories: below), as every command does before anything else, in a fresh process; hbackup's lanes, %d at a time", n)
			}},
	}
}

// boundResult aggregates one line's runs.
type boundResult struct {
	Name     string      `json:"name"`
	Scenario string      `json:"scenario"`
	Title    string      `json:"title"`
	Scope    string      `json:"scope,omitempty"` // subtree of the data; empty: all of it
	Mode     string      `json:"mode,omitempty"`
	Result   *toolResult `json:"result"`
}

// runBound runs every run of a bound scenario, each of its lines once per run.
func (b *bench) runBound(ctx context.Context, bs boundScenario) ([]*boundResult, error) {
	var res []*boundResult
	for _, l := range bs.lines {
		res = append(res, &boundResult{Name: l.Name, Scenario: bs.name, Title: bs.title(l), Scope: l.Scope, Mode: l.Mode, Result: &toolResult{}})
	}
	for r := range b.cfg.runs {
		for i, l := range bs.lines {
			b.quiesce()
			s, err := b.boundChild(ctx, l)
			if err != nil {
				return nil, fmt.Errorf("%s, run %d: %w", l.Name, r+1, err)
			}
			s.Run = r
			res[i].Result.Samples = append(res[i].Result.Samples, s)
			fmt.Fprintf(b.log, "%-22s run %d/%d  (bound)   %7.2fs  CPU %.2fs\n", l.Name, r+1, b.cfg.runs, s.Seconds, s.CPU)
		}
	}
	for _, br := range res {
		br.Result.finish()
	}
	return res, nil
}

// boundEnv carries a boundRequest to the child; its presence makes this
// program a bound child instead of the harness.
const boundEnv = "HBACKUP_BENCH_BOUND"

// boundRequest is what a child measures.
type boundRequest struct {
	Line    boundLine `json:"line"`
	Dir     string    `json:"dir"`
	Out     string    `json:"out,omitempty"` // write: where to write the data set
	Key     string    `json:"key,omitempty"` // kdf: the key file whose scrypt parameters to use
	Workers int       `json:"workers"`
}

// boundChild measures one line in a child process. Its CPU time is the
// child's own, around the timed part only (loading data is left out).
func (b *bench) boundChild(ctx context.Context, l boundLine) (sample, error) {
	return b.boundChildOut(ctx, l, "")
}

// boundChildOut is boundChild for a line that writes, into out.
func (b *bench) boundChildOut(ctx context.Context, l boundLine, out string) (sample, error) {
	exe, err := os.Executable()
	if err != nil {
		return sample{}, fmt.Errorf("finding the harness binary: %w", err)
	}
	var key string
	if l.Kind == "kdf" {
		if key, err = b.templateKey(ctx); err != nil {
			return sample{}, err
		}
	}
	req, err := json.Marshal(boundRequest{Line: l, Dir: b.dataDir, Out: out, Key: key, Workers: workers()})
	if err != nil {
		return sample{}, fmt.Errorf("encoding the bound request: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), boundEnv+"="+string(req))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("bound child: %w\n%s", err, tail(stderr.Bytes(), 2000))
	}
	var s sample
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		return sample{}, fmt.Errorf("bound child output: %w", err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024 // includes data loaded before timing
	}
	return s, nil
}

// boundChildMain is the child's whole program: measure the request in the
// environment and print the sample as JSON.
func boundChildMain(ctx context.Context, reqJSON string) error {
	var req boundRequest
	if err := json.Unmarshal([]byte(reqJSON), &req); err != nil {
		return fmt.Errorf("decoding %s: %w", boundEnv, err)
	}
	switch req.Line.Kind {
	case "write", "kdf", "stat":
		var s sample
		var err error
		switch req.Line.Kind {
		case "write":
			s, err = writeSample(ctx, req.Dir, req.Out, req.Workers)
		case "kdf":
			s, err = kdfSample(req.Key)
		case "stat":
			s, err = statSample(ctx, req.Dir, req.Workers)
		}
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(s)
	}
	files, err := sourceFiles(req.Dir, req.Line.Scope)
	if err != nil {
		return err
	}
	var s sample
	switch req.Line.Kind {
	case "read":
		s, err = measure(func() (int64, error) { return readAll(ctx, files, req.Workers) })
	case "pipeline":
		s, err = pipelineSample(ctx, files, req.Line.Mode, req.Workers)
	case "verify":
		s, err = verifySample(ctx, files, req.Line.Mode == "packs", req.Workers)
	default:
		err = fmt.Errorf("unknown bound kind %q", req.Line.Kind)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}

// measure times fn in this process: wall time, and user + system CPU of
// the whole process, which does nothing else meanwhile.
func measure(fn func() (int64, error)) (sample, error) {
	before, err := selfCPU()
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	n, err := fn()
	wall := time.Since(start)
	if err != nil {
		return sample{}, err
	}
	after, err := selfCPU()
	if err != nil {
		return sample{}, err
	}
	return sample{Seconds: wall.Seconds(), CPU: (after - before).Seconds(), Bytes: n}, nil
}

func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// sourceFile is a regular file of the data set.
type sourceFile struct {
	path string
	size int64
}

// sourceFiles lists the regular files under dir/scope, largest first, so
// that workers taking them in turn finish at about the same time.
func sourceFiles(dir, scope string) ([]sourceFile, error) {
	var out []sourceFile
	err := filepath.WalkDir(filepath.Join(dir, scope), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			out = append(out, sourceFile{path: path, size: info.Size()})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the data set: %w", err)
	}
	slices.SortStableFunc(out, func(x, y sourceFile) int { return cmp.Compare(y.size, x.size) })
	return out, nil
}

// workers is how many goroutines a bound uses: one per core, as a tool
// that keeps every core busy would.
func workers() int { return runtime.GOMAXPROCS(0) }
