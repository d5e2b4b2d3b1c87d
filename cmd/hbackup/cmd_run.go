package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/job"
	"github.com/hbackup/hbackup/job/config"
	"github.com/spf13/pflag"
)

// errJobsFailed makes `run` exit with 1 after every job has run.
var errJobsFailed = errors.New("at least one job failed")

func runCommand() *command {
	return &command{
		name:  "run",
		usage: "[JOB] ...",
		short: "Run the backup jobs of the configuration file",
		long: `The "run" command runs the named jobs of the configuration file; without
names, the scheduled jobs that are due (their schedule's next time after
their last start has come, or they never ran), or with --all every job.
Each job runs its pre-flight checks, the pre_backup hook, the backup (from ZFS
snapshots where the job names datasets), the post_backup hook, copies to
the copy_to repositories, and forget/prune by the job's retention; then
it writes metrics and logs and sends notifications. A job whose error the
error analysis marks retryable is run again, up to its retries.

EXIT STATUS
Exit status is 0 if every job succeeded.
Exit status is 1 if a job failed, or the configuration is invalid.
Exit status is 3 if every job made its snapshot but some files could not be read.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			cfgPath := configFlag(fs)
			all := fs.Bool("all", false, "run every job, due or not")
			return func(ctx context.Context, args []string) error {
				r, err := newJobRunner(*cfgPath, g)
				if err != nil {
					return err
				}
				if len(args) == 0 && !*all {
					if args, err = r.Due(ctx); err != nil {
						return err
					}
					if len(args) == 0 {
						g.printf("no job is due\n")
						return nil
					}
				}
				outcomes, err := r.Run(ctx, args)
				if err != nil {
					return err
				}
				return summarize(g, outcomes)
			}
		},
	}
}

// configDefault is where the configuration lives unless told otherwise.
const configDefault = "/etc/hbackup/hbackup.toml"

// loadJobConfig loads the file named by the flag, $HBACKUP_CONFIG or the
// default, in that order.
func loadJobConfig(flagValue string) (*config.Config, error) {
	if flagValue == "" {
		flagValue = defaultConfigPath()
	}
	return loadConfigAbs(flagValue)
}

// summarize prints one line per job and turns the outcomes into the exit
// status.
func summarize(g *globalOptions, outcomes []*job.Outcome) error {
	failed, warned := 0, 0
	for _, o := range outcomes {
		line := fmt.Sprintf("%-20s %-8s %8s", o.Job, o.Status, o.Duration().Round(1e7))
		if o.Backup.SnapshotID != "" {
			line += " snapshot " + o.Backup.SnapshotID[:8]
		}
		if err := o.Err(); err != nil {
			line += ": " + err.Error()
		}
		g.printf("%s\n", line)
		switch o.Status {
		case job.StatusFailure:
			failed++
		case job.StatusWarning:
			warned++
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%w (%d of %d)", errJobsFailed, failed, len(outcomes))
	case warned > 0:
		return fmt.Errorf("%w (%d jobs)", errPartial, warned)
	}
	return nil
}

// reporters are the configured metrics, logs and notifications.
func reporters(cfg *config.Config, g *globalOptions) []job.Reporter {
	return job.Reporters(cfg, g.logger)
}
