// Command index-memory measures how much memory restic and hbackup need
// to hold the index of a large repository, end to end, on the same
// synthetic repository.
//
// It creates a restic repository (format version 2) whose index/ files
// reference -blobs data blobs, 100 per pack, at most 50,000 per index file,
// with random-looking IDs; no pack files are written. A second repository
// with no index files is the baseline. Each tool then runs two commands,
// alternating with the other tool, -runs times on each repository:
//
//   - `list blobs`, whose output must have exactly one line per blob. It
//     checks that both tools read the whole synthetic index. hbackup loads
//     the whole index first; restic (0.14 and later) decodes and prints one
//     index file at a time and never holds the whole index.
//   - `stats --mode raw-data`: both tools load the whole index into memory
//     and, the repository having no snapshots, do nothing else. This is
//     the in-memory index figure the two tools can be compared on.
//
// The table reports the median peak RSS of each process (from wait4's
// rusage) with and without the index, their difference per blob, and the
// median wall time. Peak RSS is what a user sees: it includes decoding
// buffers, the runtime and garbage-collector slack, not only the index (for
// the bare heap of hbackup's index see BenchmarkIndexMemory in repo/).
//
// Each tool is started by a small copy of this program: on Linux a child's
// peak RSS starts at its parent's (exec keeps the forking process's high
// water mark), and this program's own RSS after writing the index would
// hide a tool's baseline.
//
//	go run ./bench/cmd/index-memory -blobs 10000000 -runs 3
//	go run ./bench/cmd/index-memory -blobs 200000 -runs 1 -work /var/tmp/im
//
// The table goes to stdout, progress to stderr. At 10 million blobs the
// index files take about 460 MiB in the work directory, and a tool up to
// about 1.6 GiB of memory (restic); three runs take several minutes.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hbackup/hbackup/bench/internal/hbuild"
)

// config is the parsed command line.
type config struct {
	restic, hbackup, work string
	blobs, runs           int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("index-memory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.restic, "restic", "restic", "restic binary")
	fs.StringVar(&c.hbackup, "hbackup", "", "hbackup binary (default: build ./cmd/hbackup into the work directory)")
	fs.IntVar(&c.blobs, "blobs", 10_000_000, "data blobs in the synthetic index")
	fs.IntVar(&c.runs, "runs", 3, "runs per tool, command and repository")
	fs.StringVar(&c.work, "work", "", "work directory (default: a temporary directory, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.blobs < 1 || c.runs < 1 {
		return c, errors.New("-blobs and -runs must be at least 1")
	}
	return c, nil
}

func main() {
	if os.Getenv(launcherEnv) != "" {
		os.Exit(launcherMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "index-memory: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole program: the table goes to stdout, progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	work, cleanup, err := workDir(cfg.work)
	if err != nil {
		return err
	}
	defer cleanup()
	tools, err := setupTools(ctx, cfg, work, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "writing a synthetic index of %d blobs...\n", cfg.blobs)
	start := time.Now()
	big, err := createRepo(ctx, filepath.Join(work, "repo-index"), cfg.blobs)
	if err != nil {
		return err
	}
	if _, err := createRepo(ctx, filepath.Join(work, "repo-baseline"), 0); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "  %d index files, %.0f MiB, in %.1f s\n", big.files, mib(big.bytes), time.Since(start).Seconds())
	rows, err := measureAll(ctx, cfg, work, tools, stderr)
	if err != nil {
		return err
	}
	return printTable(stdout, cfg, big, tools, rows)
}

// workDir returns the work directory and what to do at the end.
func workDir(dir string) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("work directory: %w", err)
		}
		return dir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "index-memory-")
	if err != nil {
		return "", nil, fmt.Errorf("work directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// tool is one of the two programs under test.
type tool struct {
	name    string // "restic" or "hbackup"
	bin     string
	version string // first line of `BIN version`
}

func setupTools(ctx context.Context, cfg config, work string, log io.Writer) ([]*tool, error) {
	restic, err := exec.LookPath(cfg.restic)
	if err != nil {
		return nil, fmt.Errorf("restic binary: %w", err)
	}
	hbackup := cfg.hbackup
	if hbackup == "" {
		fmt.Fprintln(log, "building hbackup...")
		if hbackup, err = hbuild.Build(ctx, work); err != nil {
			return nil, err
		}
	}
	tools := []*tool{{name: "restic", bin: restic}, {name: "hbackup", bin: hbackup}}
	for _, t := range tools {
		if t.version, err = toolVersion(ctx, t.bin); err != nil {
			return nil, err
		}
	}
	return tools, nil
}

func toolVersion(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %w", bin, err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first, nil
}

// probe is one command measured for each tool.
type probe struct {
	name  string
	args  []string // after -r REPO --no-cache
	lists bool     // prints one line per blob, which is checked
}

var probes = []probe{
	{name: "list blobs", args: []string{"list", "blobs"}, lists: true},
	{name: "stats raw-data", args: []string{"stats", "--mode", "raw-data"}},
}

// sample is the outcome of one process.
type sample struct {
	maxRSS int64 // bytes
	floor  int64 // bytes: the launcher's peak RSS, below which maxRSS cannot go
	wall   time.Duration
	lines  int // lines on stdout
}

// measure runs `BIN -r REPO --no-cache ARGS` through the launcher. Without
// a cache both tools read the index files straight from the repository,
// and no run finds another's cache.
func measure(ctx context.Context, t *tool, p probe, repoDir string) (sample, error) {
	self, err := os.Executable()
	if err != nil {
		return sample{}, fmt.Errorf("find own executable for the launcher: %w", err)
	}
	args := append([]string{t.bin, "-r", repoDir, "--no-cache"}, p.args...)
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(toolEnv(), launcherEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%s %s: %w\n%s", t.name, strings.Join(args[1:], " "), err, tail(stderr.Bytes(), 2000))
	}
	s, err := parseLauncherResult(stdout.String())
	if err != nil {
		return s, err
	}
	if s.maxRSS <= s.floor {
		return s, fmt.Errorf("%s %s: peak RSS %d is not above the launcher's %d: not measurable", t.name, p.name, s.maxRSS, s.floor)
	}
	return s, nil
}

// toolEnv is the inherited environment with the password added and the
// settings that would skew one tool removed: RESTIC_* (repository,
// compression, cache, ...) and the Go runtime's GC and memory limits.
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(key, "RESTIC_") || key == "GOGC" || key == "GOMEMLIMIT" || key == "GODEBUG" || key == launcherEnv {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "RESTIC_PASSWORD="+password)
}

// launcherEnv, when set, makes this program the launcher: it runs the
// command line it is given, counting its output lines, and prints the
// result for the parent on one line.
const launcherEnv = "INDEX_MEMORY_LAUNCHER"

const launcherFormat = "peak=%d floor=%d wall=%d lines=%d\n"

// launcherMain runs args[0] with args[1:]. Its stderr goes to ours; the
// result line to stdout.
func launcherMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "launcher: no command")
		return 2
	}
	floor, err := ownPeakRSS()
	if err != nil {
		fmt.Fprintf(stderr, "launcher: %v\n", err)
		return 1
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = toolEnv()
	// The tool dies with its launcher, e.g. when the parent is interrupted.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var lines lineCounter
	cmd.Stdout, cmd.Stderr = &lines, stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintf(stderr, "launcher: %v\n", err)
		return 1
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(stderr, "launcher: no rusage: peak RSS needs Linux")
		return 1
	}
	fmt.Fprintf(stdout, launcherFormat, ru.Maxrss*1024, floor, wall, int(lines)) // Linux reports KiB
	return 0
}

func parseLauncherResult(out string) (sample, error) {
	var s sample
	var wall int64
	if _, err := fmt.Sscanf(out, launcherFormat, &s.maxRSS, &s.floor, &wall, &s.lines); err != nil {
		return s, fmt.Errorf("launcher result %q: %w", out, err)
	}
	s.wall = time.Duration(wall)
	return s, nil
}

// ownPeakRSS reads VmHWM: the child's peak RSS starts there.
func ownPeakRSS() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("own peak RSS: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("own peak RSS %q: %w", line, err)
			}
			return kib * 1024, nil
		}
	}
	return 0, errors.New("own peak RSS: no VmHWM in /proc/self/status")
}

// lineCounter is an io.Writer that only counts newlines.
type lineCounter int

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = append([]byte("..."), b[len(b)-n:]...)
	}
	return string(b)
}

// row is one tool's samples of one probe on both repositories.
type row struct {
	tool          *tool
	probe         probe
	baseline, big []sample
}

// measureAll alternates the tools run by run, so that drifting load on the
// machine hits both alike. A listing must have exactly one line per blob.
func measureAll(ctx context.Context, cfg config, work string, tools []*tool, log io.Writer) ([]*row, error) {
	var rows []*row
	for _, p := range probes {
		for _, t := range tools {
			rows = append(rows, &row{tool: t, probe: p})
		}
	}
	repos := []struct {
		dir   string
		blobs int
		big   bool
	}{
		{filepath.Join(work, "repo-baseline"), 0, false},
		{filepath.Join(work, "repo-index"), cfg.blobs, true},
	}
	for run := range cfg.runs {
		order := slices.Clone(rows)
		if run%2 == 1 {
			slices.Reverse(order)
		}
		for _, rp := range repos {
			for _, r := range order {
				s, err := measure(ctx, r.tool, r.probe, rp.dir)
				if err != nil {
					return nil, err
				}
				if r.probe.lists && s.lines != rp.blobs {
					return nil, fmt.Errorf("%s listed %d blobs in %s, want %d", r.tool.name, s.lines, rp.dir, rp.blobs)
				}
				fmt.Fprintf(log, "  run %d %-7s %-14s %8d blobs: peak RSS %7.1f MiB, %6.2f s\n",
					run+1, r.tool.name, r.probe.name, rp.blobs, mib(s.maxRSS), s.wall.Seconds())
				if rp.big {
					r.big = append(r.big, s)
				} else {
					r.baseline = append(r.baseline, s)
				}
			}
		}
	}
	return rows, nil
}

// median of the samples' field f.
func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func rss(s sample) float64  { return float64(s.maxRSS) }
func wall(s sample) float64 { return s.wall.Seconds() }

func mib[T int64 | float64](b T) float64 { return float64(b) / (1 << 20) }

func printTable(w io.Writer, cfg config, idx synthIndex, tools []*tool, rows []*row) error {
	fmt.Fprintf(w, "index memory: %d blobs in %d packs, %d index files (%.0f MiB); median of %d runs\n",
		idx.blobs, idx.packs, idx.files, mib(idx.bytes), cfg.runs)
	for _, t := range tools {
		fmt.Fprintf(w, "%-8s %s\n", t.name+":", t.version)
	}
	fmt.Fprintln(w, "Peak RSS of one process (wait4 maxrss), without and with the index: it includes decoding")
	fmt.Fprintln(w, "buffers and garbage-collector slack, it is not a heap count. bytes/blob = (index - baseline) / blobs.")
	fmt.Fprintln(w, "stats raw-data: both tools load the whole index (no snapshots, nothing else to do).")
	fmt.Fprintln(w, "list blobs: hbackup loads the whole index and lists it; restic decodes and lists one index file at a time.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tcommand\tbaseline MiB\tindex MiB\tbytes/blob\tbaseline s\tindex s\tlisted\t")
	var floor int64
	for _, r := range rows {
		base, big := median(r.baseline, rss), median(r.big, rss)
		listed := "-"
		if r.probe.lists {
			listed = fmt.Sprint(r.big[0].lines) // all runs listed the same, as measureAll checked
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%s\t\n", r.tool.name, r.probe.name, mib(base), mib(big),
			(big-base)/float64(idx.blobs), median(r.baseline, wall), median(r.big, wall), listed)
		for _, s := range slices.Concat(r.baseline, r.big) {
			floor = max(floor, s.floor)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "(each tool was started by a launcher of %.1f MiB peak RSS, the floor of any figure above)\n", mib(floor))
	return err
}
