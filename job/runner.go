package job

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/errclass"
)

// Reporter is told when a job starts and how it ended: metrics, logs and
// notifications implement it. Reporters must not fail the job; they log
// their own problems.
type Reporter interface {
	JobStarted(ctx context.Context, o *Outcome)
	JobFinished(ctx context.Context, o *Outcome)
}

// Runner runs the jobs of a configuration.
type Runner struct {
	Config    *config.Config
	Exec      Executor
	Reporters []Reporter
	// Log receives a human-readable account of the run; nil discards it.
	Log io.Writer
	// Now and Sleep default to the real clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// ZFSMounts resolves the mount points of ZFS datasets, which are the
	// paths a ZFS job's snapshots record (used to select them for
	// retention); nil asks the zfs command.
	ZFSMounts func(ctx context.Context, datasets []string) ([]string, error)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format, args...)
	}
}

func (r *Runner) hostname() string {
	if r.Config.Hostname != "" {
		return r.Config.Hostname
	}
	h, _ := os.Hostname()
	return h
}

func (r *Runner) classifier() *errclass.Classifier {
	ea := r.Config.Monitoring.ErrorAnalysis
	return errclass.New(ea.Rules, errclass.Options{DisableDefaults: ea.DisableDefaults})
}

// Run runs the named jobs (all jobs when names is empty) one after
// another and returns their outcomes. An unknown name is an error before
// anything runs.
func (r *Runner) Run(ctx context.Context, names []string) ([]*Outcome, error) {
	if len(names) == 0 {
		names = r.Config.JobNames()
	}
	for _, n := range names {
		if r.Config.Jobs[n] == nil {
			return nil, fmt.Errorf("no job %q in %s (jobs: %s)", n, r.Config.File, strings.Join(r.Config.JobNames(), ", "))
		}
	}
	var out []*Outcome
	for _, n := range names {
		if ctx.Err() != nil {
			break
		}
		out = append(out, r.RunJob(ctx, r.Config.Jobs[n]))
	}
	return out, ctx.Err()
}

// RunJob runs one job with its retries and reports it.
func (r *Runner) RunJob(ctx context.Context, j *config.Job) *Outcome {
	var log bytes.Buffer
	logw := io.Writer(&log)
	if r.Log != nil {
		logw = io.MultiWriter(&log, r.Log)
	}
	o := &Outcome{Job: j.Name, Repository: j.Repository, Hostname: r.hostname(), Start: r.now()}
	for _, rep := range r.Reporters {
		rep.JobStarted(ctx, o)
	}
	cls := r.classifier()
	for attempt := 1; ; attempt++ {
		o.Attempts = attempt
		fmt.Fprintf(logw, "job %s: attempt %d\n", j.Name, attempt)
		err := r.attempt(ctx, j, o, attempt, logw)
		if err == nil {
			// Earlier attempts' failures did not decide the outcome, but
			// they happened: metrics and the error log still count them.
			o.Retried, o.Errors = o.Errors, nil
			break
		}
		c := cls.Classify(err)
		if ctx.Err() != nil {
			c = cls.Classify(ctx.Err())
		}
		o.Errors = append(o.Errors, Failure{Err: err, Class: c})
		fmt.Fprintf(logw, "job %s: %v [%s, %s]\n", j.Name, err, c.Category, c.Severity)
		if !c.Retryable || attempt > j.Retries || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(logw, "job %s: retrying in %s (%s errors are retryable)\n", j.Name, j.RetryDelay, c.Category)
		if r.sleep(ctx, j.RetryDelay) != nil {
			break
		}
	}
	if len(o.Errors) > 0 {
		o.Status = StatusFailure
		env := append(r.hookEnv(j, o), "HBACKUP_OUTCOME=failure",
			"HBACKUP_ERROR="+o.Err().Error(),
			"HBACKUP_ERROR_CATEGORY="+string(o.Errors[len(o.Errors)-1].Class.Category))
		if err := runHook(context.WithoutCancel(ctx), "on_failure", j.OnFailure, env, logw); err != nil {
			fmt.Fprintf(logw, "job %s: %v\n", j.Name, err)
		}
	} else if o.Status == "" {
		o.Status = StatusSuccess
	}
	o.End = r.now()
	fmt.Fprintf(logw, "job %s: %s after %s\n", j.Name, o.Status, o.Duration().Round(time.Millisecond))
	o.Log = log.String()
	for _, rep := range r.Reporters {
		rep.JobFinished(context.WithoutCancel(ctx), o)
	}
	return o
}

// hookEnv describes the job to its hooks.
func (r *Runner) hookEnv(j *config.Job, o *Outcome) []string {
	env := []string{
		"HBACKUP_JOB=" + j.Name,
		"HBACKUP_REPOSITORY=" + j.Repository,
		"HBACKUP_HOSTNAME=" + o.Hostname,
		"HBACKUP_ATTEMPT=" + fmt.Sprint(o.Attempts),
		"HBACKUP_CONFIG=" + r.Config.File,
	}
	if o.Backup.SnapshotID != "" {
		env = append(env, "HBACKUP_SNAPSHOT_ID="+o.Backup.SnapshotID)
	}
	return env
}

// attempt runs the steps of a job once.
func (r *Runner) attempt(ctx context.Context, j *config.Job, o *Outcome, attempt int, log io.Writer) error {
	o.Status, o.Backup = "", BackupStats{}
	primary := r.Config.Repositories[j.Repository]
	if err := r.preflight(ctx, j, primary); err != nil {
		return &StageError{Stage: StagePreflight, Repository: j.Repository, Err: err}
	}
	if err := runHook(ctx, "pre_backup", j.PreBackup, r.hookEnv(j, o), log); err != nil {
		return &StageError{Stage: StagePreBackup, Err: err}
	}
	if err := r.backup(ctx, j, primary, o, log); err != nil {
		return err
	}
	env := append(r.hookEnv(j, o), "HBACKUP_OUTCOME="+string(o.Status))
	if err := runHook(ctx, "post_backup", j.PostBackup, env, log); err != nil {
		return &StageError{Stage: StagePostBackup, Err: err}
	}
	for _, name := range j.CopyTo {
		if err := r.copy(ctx, j, primary, r.Config.Repositories[name], o, log); err != nil {
			return err
		}
	}
	return r.retention(ctx, j, o, log)
}

// commandError turns a failed hbackup command into an error that carries
// its message (the "Fatal:" line restic-style commands print).
func commandError(stage Stage, repoName string, res CommandResult) error {
	msg := strings.TrimSpace(string(res.Stderr))
	var fatal []string
	for _, line := range strings.Split(msg, "\n") {
		l := strings.ToLower(line)
		if strings.HasPrefix(line, "Fatal:") || strings.HasPrefix(l, "error") || strings.HasPrefix(l, "ignoring error") {
			fatal = append(fatal, strings.TrimSpace(line))
		}
	}
	if len(fatal) > 5 {
		fatal = append(fatal[:4], fatal[len(fatal)-1])
	}
	if len(fatal) > 0 {
		msg = strings.Join(fatal, "; ")
	} else {
		msg = lastLines(msg, 3)
	}
	if msg == "" {
		msg = res.Err.Error()
	}
	return &StageError{Stage: stage, Repository: repoName, ExitCode: res.ExitCode, Err: fmt.Errorf("%s (exit code %d)", msg, res.ExitCode)}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
