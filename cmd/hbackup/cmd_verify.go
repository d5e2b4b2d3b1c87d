package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hbackup/hbackup/job"
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
			cfgPath := fs.String("config", "", "configuration `file` (default: $HBACKUP_CONFIG or "+configDefault+")")
			return func(ctx context.Context, args []string) error {
				r, err := newJobRunner(*cfgPath, g)
				if err != nil {
					return err
				}
				names := args
				if len(names) == 0 {
					names = r.Config.RepositoryNames()
				}
				var outs []*job.CheckOutcome
				for _, n := range names {
					if r.Config.Repositories[n] == nil {
						return fmt.Errorf("no repository %q in %s", n, r.Config.File)
					}
				}
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
			cfgPath := fs.String("config", "", "configuration `file` (default: $HBACKUP_CONFIG or "+configDefault+")")
			return func(ctx context.Context, args []string) error {
				r, err := newJobRunner(*cfgPath, g)
				if err != nil {
					return err
				}
				names := args
				if len(names) == 0 {
					names = r.Config.JobNames()
				}
				for _, n := range names {
					if r.Config.Jobs[n] == nil {
						return fmt.Errorf("no job %q in %s", n, r.Config.File)
					}
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
