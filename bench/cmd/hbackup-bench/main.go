// Command hbackup-bench compares hbackup with restic end to end: both tools
// back up, restore and check the same generated data in the same
// invocation, alternating run by run, and the table reports medians and
// their ratio. See bench/README.md.
//
//	go run ./bench/cmd/hbackup-bench -scale 1 -runs 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// config is the parsed command line.
type config struct {
	scale      float64
	seed       uint64
	runs       int
	work       string
	hbackup    string
	restic     string
	scenarios  []string
	named      bool // -scenarios was given: a scenario the machine cannot run fails instead of being skipped
	jsonOut    string
	dropCaches bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hbackup-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&c.scale, "scale", 0.1, "data set size: 1 is about 1.5 GB")
	fs.Uint64Var(&c.seed, "seed", 1, "data set seed")
	fs.IntVar(&c.runs, "runs", 5, "timed runs per scenario and tool")
	fs.StringVar(&c.work, "work", "", "work directory; the data set in it is reused (default: a temporary directory, removed at the end)")
	fs.StringVar(&c.hbackup, "hbackup", "", "hbackup binary (default: build ./cmd/hbackup into the work directory)")
	fs.StringVar(&c.restic, "restic", "", "restic binary (default: restic from PATH)")
	list := fs.String("scenarios", strings.Join(scenarioNames(), ","), "comma-separated scenarios to run")
	fs.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&c.dropCaches, "drop-caches", false, "sync and drop the page cache before every timed run (root only; slows the machine for everyone)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) { c.named = c.named || f.Name == "scenarios" })
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.scale <= 0 || c.runs < 1 {
		return c, errors.New("-scale must be positive and -runs at least 1")
	}
	for name := range strings.SplitSeq(*list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(scenarioNames(), name) {
			return c, fmt.Errorf("unknown scenario %q; known: %s", name, strings.Join(scenarioNames(), ", "))
		}
		c.scenarios = append(c.scenarios, name)
	}
	return c, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if req, ok := os.LookupEnv(boundEnv); ok {
		err := boundChildMain(ctx, req)
		stop()
		if err != nil {
			fmt.Fprintf(os.Stderr, "hbackup-bench bound: %v\n", err)
			os.Exit(1)
		}
		return
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: the table goes to stdout, progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "hbackup-bench: %v\n", err)
		return 2
	}
	b, cleanup, err := newBench(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "hbackup-bench: %v\n", err)
		return 1
	}
	defer cleanup()
	rep, err := b.runAll(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "hbackup-bench: FAILED: %v\n", err)
		return 1
	}
	if err := printReport(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "hbackup-bench: %v\n", err)
		return 1
	}
	if cfg.jsonOut != "" {
		if err := writeJSON(cfg.jsonOut, rep); err != nil {
			fmt.Fprintf(stderr, "hbackup-bench: %v\n", err)
			return 1
		}
	}
	return 0
}
