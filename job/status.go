package job

import (
	"context"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/eventlog"
)

// JobStatus is what the logs say about a job. Its JSON (`status --json`)
// has snake_case names, as the job log's events do.
type JobStatus struct {
	Job       string          `json:"job"`
	LastStart time.Time       `json:"last_start"` // zero if it never ran
	LastEnd   *eventlog.Event `json:"last_end"`   // the last finished run, nil if none
	NextRun   time.Time       `json:"next_run"`   // zero for jobs without a schedule
	Scheduled bool            `json:"scheduled"`
}

// Status reads the job log and the schedules.
func (r *Runner) Status(ctx context.Context) ([]JobStatus, error) {
	log := eventlog.Log{Dir: r.Config.Monitoring.LogDir}
	starts, err := log.Last(ctx, eventlog.JobsFile, func(e eventlog.Event) bool { return e.Event == eventlog.BackupStart })
	if err != nil {
		return nil, err
	}
	ends, err := log.Last(ctx, eventlog.JobsFile, func(e eventlog.Event) bool {
		return e.Finished() && strings.HasPrefix(e.Event, "backup_")
	})
	if err != nil {
		return nil, err
	}
	now := r.now()
	var out []JobStatus
	for _, name := range r.Config.JobNames() {
		j := r.Config.Jobs[name]
		st := JobStatus{Job: name, LastStart: starts[name].Time}
		if e, ok := ends[name]; ok {
			st.LastEnd = &e
		}
		if j.Schedule != nil {
			st.Scheduled = true
			from := now
			if !st.LastStart.IsZero() {
				from = st.LastStart
			}
			st.NextRun = j.Schedule.Next(from)
		}
		out = append(out, st)
	}
	return out, nil
}

// Due returns the scheduled jobs whose next run, counted from their last
// start, has come; a scheduled job that never ran is due at once.
func (r *Runner) Due(ctx context.Context) ([]string, error) {
	sts, err := r.Status(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	var out []string
	for _, st := range sts {
		if st.Scheduled && (st.LastStart.IsZero() || !st.NextRun.After(now)) {
			out = append(out, st.Job)
		}
	}
	return out, nil
}
