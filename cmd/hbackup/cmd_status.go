package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/job"
	"github.com/spf13/pflag"
)

func statusCommand() *command {
	return &command{
		name:  "status",
		short: "Show every job's last run, outcome and next run",
		long: `The "status" command prints a table of the jobs of the configuration file:
when each last ran, its outcome, how long it took, how much it added, and
when it runs next. It reads the job log in monitoring.log_dir and touches
no repository. With --json it prints a list of objects with job,
last_start, last_end (the job log's event of the last finished run),
next_run and scheduled.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			cfgPath := configFlag(fs)
			return func(ctx context.Context, args []string) error {
				r, err := newJobRunner(*cfgPath, g)
				if err != nil {
					return err
				}
				sts, err := r.Status(ctx)
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(g.stdout, sts)
				}
				fmt.Fprintf(g.stdout, "%-16s %-20s %-8s %10s %10s  %s\n", "JOB", "LAST RUN", "OUTCOME", "DURATION", "ADDED", "NEXT RUN")
				for _, st := range sts {
					last, outcome, dur, added := "never", "-", "-", "-"
					if e := st.LastEnd; e != nil {
						last = e.Time.Local().Format("2006-01-02 15:04:05")
						outcome = e.Event[len("backup_"):]
						dur = (time.Duration(e.DurationSeconds * float64(time.Second))).Round(time.Second).String()
						added = formatBytes(uint64(e.BytesAdded))
					}
					next := "manual"
					if st.Scheduled {
						next = st.NextRun.Local().Format("2006-01-02 15:04:05")
					}
					fmt.Fprintf(g.stdout, "%-16s %-20s %-8s %10s %10s  %s\n", st.Job, last, outcome, dur, added, next)
				}
				return nil
			}
		},
	}
}

// errUnhealthy carries the exit status of `health`.
type errUnhealthy struct{ level job.Level }

func (e errUnhealthy) Error() string { return "backups are not healthy: " + e.level.String() }

func healthCommand() *command {
	return &command{
		name:  "health",
		usage: "[JOB] ...",
		short: "Check the age and number of the jobs' snapshots, verifications and locks",
		long: `The "health" command checks each named job (default: all) against the
validation settings: the age of its last snapshot (max_age), the number
of snapshots (min_backups), the last verification of its repository, and
locks left in the repository. It is meant for monitoring systems; with
--json it prints a list of objects with job, repository, snapshots,
last_snapshot, locks, last_verification, level ("ok", "warning" or
"critical") and problems.

EXIT STATUS
Exit status is 0 if everything is healthy.
Exit status is 1 if there is a warning (few snapshots, locks present).
Exit status is 2 if there is a critical problem (no or too old snapshot,
failed verification, unreachable repository).`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			cfgPath := configFlag(fs)
			return func(ctx context.Context, args []string) error {
				r, names, err := runnerForJobs(*cfgPath, g, args)
				if err != nil {
					return err
				}
				var all []*job.Health
				worst := job.LevelOK
				for _, n := range names {
					h := r.Health(ctx, r.Config.Jobs[n])
					all = append(all, h)
					worst = max(worst, h.Level)
				}
				if g.json {
					if err := writeJSON(g.stdout, all); err != nil {
						return err
					}
				} else {
					for _, h := range all {
						last := "never"
						if !h.LastSnapshot.IsZero() {
							last = h.LastSnapshot.Local().Format("2006-01-02 15:04:05")
						}
						fmt.Fprintf(g.stdout, "%-16s %-8s %d snapshots, last %s, %d locks\n", h.Job, h.Level, h.Snapshots, last, h.Locks)
						for _, p := range h.Problems {
							fmt.Fprintf(g.stdout, "  %s\n", p)
						}
					}
				}
				if worst != job.LevelOK {
					return errUnhealthy{worst}
				}
				return nil
			}
		},
	}
}

// healthExitCode maps `health` results to exit codes 1 and 2.
func healthExitCode(err error) (int, bool) {
	var u errUnhealthy
	if errors.As(err, &u) {
		return int(u.level), true
	}
	return 0, false
}
