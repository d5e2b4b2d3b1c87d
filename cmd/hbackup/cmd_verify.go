package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/hbackup/hbackup/job"
	"github.com/hbackup/hbackup/job/config"
	"github.com/spf13/pflag"
)

var errChecksFailed = errors.New("at least one check failed")

func verifyCommand() *command {
	return &command{
		name:  "verify",
		usage: "[REPOSITORY] ...",
		short: "Check the configured repositories, reading the next part of their data",
		long: `The "verify" command runs "check" on the named repositories of the
configuration file (default: all), with --read-data-subset taken from
verification.read_data_subset: a percentage such as "5%" is read as the
next of 20 parts on each run, so successive runs read the whole
repository. Results go to the metrics, logs and notifications.

EXIT STATUS
Exit status is 0 if every check passed, 1 otherwise.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			cfgPath := configFlag(fs)
			return func(ctx context.Context, args []string) error {
				r, names, err := runnerForRepositories(*cfgPath, g, args)
				if err != nil {
					return err
				}
				var outs []*job.CheckOutcome
				for _, n := range names {
					outs = append(outs, r.Verify(ctx, n))
				}
				return summarizeChecks(g, outs)
			}
		},
	}
}

func restoreTestCommand() *command {
	return &command{
		name:  "restore-test",
		usage: "[JOB] ...",
		short: "Restore sample files of the jobs' latest snapshots and compare them",
		long: `The "restore-test" command restores restore_testing.sample_files random
files of each named job's latest snapshot (default: all jobs) into
restore_testing.test_dir, verifies every restored byte against the
snapshot, and compares each file with its source when the source is
unchanged since the snapshot.

EXIT STATUS
Exit status is 0 if every test passed, 1 otherwise.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			cfgPath := configFlag(fs)
			return func(ctx context.Context, args []string) error {
				r, names, err := runnerForJobs(*cfgPath, g, args)
				if err != nil {
					return err
				}
				var outs []*job.CheckOutcome
				for _, n := range names {
					outs = append(outs, r.RestoreTest(ctx, r.Config.Jobs[n]))
				}
				return summarizeChecks(g, outs)
			}
		},
	}
}

// newJobRunner loads the configuration and makes a runner that runs this
// executable for repository work.
func newJobRunner(cfgPath string, g *globalOptions) (*job.Runner, error) {
	cfg, err := loadJobConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the hbackup executable to run jobs with: %w", err)
	}
	return &job.Runner{Config: cfg, Exec: job.Binary{Path: self}, Reporters: reporters(cfg, g), Log: g.stderr}, nil
}

func summarizeChecks(g *globalOptions, outs []*job.CheckOutcome) error {
	failed := 0
	for _, c := range outs {
		name := c.Repository
		if c.Job != "" {
			name = c.Job
		}
		status := "ok"
		if !c.Success {
			status = "FAILED"
			failed++
		}
		line := fmt.Sprintf("%-20s %-7s %s", name, status, c.Detail)
		for _, f := range c.Errors {
			line += fmt.Sprintf("\n  %v [%s]", f.Err, f.Class.Category)
		}
		g.printf("%s\n", line)
	}
	if failed > 0 {
		return fmt.Errorf("%w (%d of %d)", errChecksFailed, failed, len(outs))
	}
	return nil
}

// configFlag declares --config, shared by the commands that read
// hbackup.toml.
func configFlag(fs *pflag.FlagSet) *string {
	return fs.String("config", "", "configuration `file` (default: $HBACKUP_CONFIG or "+configDefault+")")
}

// runnerForJobs is newJobRunner followed by pickNames of the jobs args
// names: the start of the commands that work on configured jobs.
func runnerForJobs(cfgPath string, g *globalOptions, args []string) (*job.Runner, []string, error) {
	return runnerFor(cfgPath, g, args, "job", (*config.Config).JobNames)
}

// runnerForRepositories is runnerForJobs for configured repositories.
func runnerForRepositories(cfgPath string, g *globalOptions, args []string) (*job.Runner, []string, error) {
	return runnerFor(cfgPath, g, args, "repository", (*config.Config).RepositoryNames)
}

func runnerFor(cfgPath string, g *globalOptions, args []string, what string, all func(*config.Config) []string) (*job.Runner, []string, error) {
	r, err := newJobRunner(cfgPath, g)
	if err != nil {
		return nil, nil, err
	}
	names, err := pickNames(args, all(r.Config), what, r.Config.File)
	if err != nil {
		return nil, nil, err
	}
	return r, names, nil
}

// pickNames returns args, or all when args is empty, after checking that
// every name is one of all; what names the kind ("job", "repository").
func pickNames(args, all []string, what, file string) ([]string, error) {
	if len(args) == 0 {
		return all, nil
	}
	for _, n := range args {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("no %s %q in %s", what, n, file)
		}
	}
	return args, nil
}
