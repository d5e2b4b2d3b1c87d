package job

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/errclass"
	"github.com/hbackup/hbackup/job/eventlog"
	"github.com/hbackup/hbackup/job/metrics"
	"github.com/hbackup/hbackup/job/notify"
)

// Reporters builds the reporters the configuration asks for: the
// JSON-lines logs (always, in monitoring.log_dir), the Prometheus
// textfile, ntfy and Healthchecks. A reporter's own failure (a full log
// disk, ntfy down) is logged and never fails a job.
func Reporters(cfg *config.Config, log *slog.Logger) []Reporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := []Reporter{&eventReporter{log: eventlog.Log{Dir: cfg.Monitoring.LogDir}, warn: log}}
	if dir := cfg.Monitoring.Prometheus.TextfileDir; dir != "" {
		out = append(out, &metricsReporter{tf: metrics.Textfile{Dir: dir}, warn: log})
	}
	if n := cfg.Monitoring.Ntfy; n != nil {
		out = append(out, &ntfyReporter{cfg: n, warn: log})
	}
	out = append(out, &healthchecksReporter{cfg: cfg, warn: log, runIDs: map[string]string{}})
	return out
}

// --- JSON-lines logs ---

type eventReporter struct {
	log  eventlog.Log
	warn *slog.Logger
}

func (r *eventReporter) write(ctx context.Context, e eventlog.Event) {
	if err := r.log.Write(ctx, e); err != nil {
		r.warn.Warn("cannot write the job log", "err", err)
	}
}

func (r *eventReporter) JobStarted(ctx context.Context, o *Outcome) {
	r.write(ctx, eventlog.Event{Event: eventlog.BackupStart, Time: o.Start, Job: o.Job, Repository: o.Repository, Hostname: o.Hostname})
}

func (r *eventReporter) JobFinished(ctx context.Context, o *Outcome) {
	name := map[Status]string{StatusSuccess: eventlog.BackupSuccess, StatusWarning: eventlog.BackupWarning, StatusFailure: eventlog.BackupFailure}[o.Status]
	e := eventlog.Event{Event: name, Time: o.End, Job: o.Job, Repository: o.Repository, Hostname: o.Hostname,
		Attempt: o.Attempts, DurationSeconds: o.Duration().Seconds(), SnapshotID: o.Backup.SnapshotID,
		BytesAdded: o.Backup.BytesAdded, BytesProcessed: o.Backup.BytesProcessed,
		FilesNew: o.Backup.FilesNew, FilesChanged: o.Backup.FilesChanged, FilesProcessed: o.Backup.FilesProcessed}
	if len(o.Errors) > 0 {
		e.Classify(o.Errors[len(o.Errors)-1].Class)
		e.Fields = map[string]any{"stage": string(stageOf(o.Err()))}
	}
	r.write(ctx, e)
	for i, f := range append(append([]Failure(nil), o.Retried...), o.Errors...) {
		ea := eventlog.Event{Event: eventlog.ErrorAnalysis, Time: o.End, Job: o.Job, Repository: o.Repository,
			Hostname: o.Hostname, Attempt: i + 1, Fields: map[string]any{"stage": string(stageOf(f.Err))}}
		ea.Classify(f.Class)
		r.write(ctx, ea)
	}
}

func (r *eventReporter) CheckFinished(ctx context.Context, c *CheckOutcome) {
	var start, end string
	switch c.Kind {
	case KindVerification:
		start, end = eventlog.VerificationStart, eventlog.VerificationSuccess
		if !c.Success {
			end = eventlog.VerificationFailure
		}
	default:
		start, end = eventlog.RestoreTestStart, eventlog.RestoreTestSuccess
		if !c.Success {
			end = eventlog.RestoreTestFailure
		}
	}
	base := eventlog.Event{Job: c.Job, Repository: c.Repository, Hostname: c.Hostname}
	s := base
	s.Event, s.Time = start, c.Start
	r.write(ctx, s)
	e := base
	e.Event, e.Time, e.DurationSeconds = end, c.End, c.End.Sub(c.Start).Seconds()
	e.Fields = map[string]any{"detail": c.Detail}
	if c.Kind == KindVerification {
		e.ReadDataSubset = strings.TrimPrefix(c.Detail, "read-data-subset ")
	}
	if len(c.Errors) > 0 {
		e.Classify(c.Errors[len(c.Errors)-1].Class)
	}
	r.write(ctx, e)
}

// --- Prometheus textfile ---

type metricsReporter struct {
	tf   metrics.Textfile
	warn *slog.Logger
}

func (r *metricsReporter) JobStarted(context.Context, *Outcome) {}

func (r *metricsReporter) JobFinished(ctx context.Context, o *Outcome) {
	r.mkdir()
	st := map[Status]metrics.Status{StatusSuccess: metrics.Success, StatusWarning: metrics.Warning, StatusFailure: metrics.Failure}[o.Status]
	b := metrics.Backup{Labels: metrics.Labels{Job: o.Job, Repository: o.Repository, Hostname: o.Hostname},
		Start: o.Start, End: o.End, Status: st, BytesAdded: o.Backup.BytesAdded, BytesProcessed: o.Backup.BytesProcessed,
		FilesAdded: o.Backup.FilesNew, FilesProcessed: o.Backup.FilesProcessed,
		Errors: classes(append(append([]Failure(nil), o.Retried...), o.Errors...))}
	if err := r.tf.RecordBackup(ctx, b); err != nil {
		r.warn.Warn("cannot write metrics", "err", err)
	}
}

func (r *metricsReporter) CheckFinished(ctx context.Context, c *CheckOutcome) {
	r.mkdir()
	// Verifications belong to a repository, not a job: their series are
	// in a file named after the repository.
	name := c.Job
	if name == "" {
		name = "verify-" + c.Repository
	}
	m := metrics.Check{Labels: metrics.Labels{Job: name, Repository: c.Repository, Hostname: c.Hostname},
		Time: c.End, Success: c.Success, Errors: classes(c.Errors)}
	var err error
	if c.Kind == KindVerification {
		err = r.tf.RecordVerification(ctx, m)
	} else {
		err = r.tf.RecordRestoreTest(ctx, m)
	}
	if err != nil {
		r.warn.Warn("cannot write metrics", "err", err)
	}
}

// mkdir creates the textfile directory when node_exporter is not set up
// yet, so the first runs' metrics are not lost.
func (r *metricsReporter) mkdir() {
	if err := os.MkdirAll(r.tf.Dir, 0o755); err != nil {
		r.warn.Warn("cannot create the metrics directory", "err", err)
	}
}

func classes(fs []Failure) []errclass.Result {
	out := make([]errclass.Result, len(fs))
	for i, f := range fs {
		out[i] = f.Class
	}
	return out
}

// --- ntfy ---

type ntfyReporter struct {
	cfg  *config.Ntfy
	warn *slog.Logger
}

func (r *ntfyReporter) client() (*notify.Ntfy, error) {
	n := &notify.Ntfy{URL: r.cfg.URL, Token: r.cfg.Token, Username: r.cfg.Username, Password: r.cfg.Password,
		Priority: map[notify.Outcome]int{}, On: []notify.Outcome{}, Logger: r.warn}
	var err error
	if r.cfg.TokenFile != "" {
		if n.Token, err = readSecret(r.cfg.TokenFile); err != nil {
			return nil, err
		}
	}
	if r.cfg.PasswordFile != "" {
		if n.Password, err = readSecret(r.cfg.PasswordFile); err != nil {
			return nil, err
		}
	}
	for _, o := range r.cfg.On {
		n.On = append(n.On, notify.Outcome(o))
	}
	for o, p := range r.cfg.Priority {
		n.Priority[notify.Outcome(o)] = p
	}
	return n, nil
}

func (r *ntfyReporter) send(ctx context.Context, m notify.Message) {
	n, err := r.client()
	if err == nil {
		err = n.Send(ctx, m)
	}
	if err != nil {
		r.warn.Warn("cannot send the ntfy notification", "err", err)
	}
}

func (r *ntfyReporter) JobStarted(ctx context.Context, o *Outcome) {
	r.send(ctx, notify.Message{Outcome: notify.Start, Job: o.Job, Hostname: o.Hostname,
		Body: fmt.Sprintf("backup of %s to %s started", o.Job, o.Repository)})
}

func (r *ntfyReporter) JobFinished(ctx context.Context, o *Outcome) {
	r.send(ctx, notify.Message{Outcome: notify.Outcome(o.Status), Job: o.Job, Hostname: o.Hostname,
		Body: summary(o), Tags: categoryTags(o.Errors)})
}

func (r *ntfyReporter) CheckFinished(ctx context.Context, c *CheckOutcome) {
	outcome := notify.Success
	if !c.Success {
		outcome = notify.Failure
	}
	name := c.Job
	if name == "" {
		name = c.Repository
	}
	body := string(c.Kind) + " of " + name + ": " + c.Detail
	for _, f := range c.Errors {
		body += "\n" + f.Err.Error()
	}
	r.send(ctx, notify.Message{Outcome: outcome, Job: name + " " + string(c.Kind), Hostname: c.Hostname, Body: body, Tags: categoryTags(c.Errors)})
}

// summary is the text of a finished job's notification.
func summary(o *Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s in %s", o.Job, o.Status, o.Duration().Round(1e9))
	if o.Backup.SnapshotID != "" {
		fmt.Fprintf(&b, ", snapshot %s in %s (%d files, %s added)", short(o.Backup.SnapshotID), o.Repository,
			o.Backup.FilesProcessed, formatBytes(uint64(o.Backup.BytesAdded)))
	}
	if o.Attempts > 1 {
		fmt.Fprintf(&b, ", %d attempts", o.Attempts)
	}
	if len(o.Errors) > 0 {
		f := o.Errors[len(o.Errors)-1]
		fmt.Fprintf(&b, "\n\nerror (%s, %s): %v", f.Class.Category, f.Class.Severity, f.Err)
		if f.Class.Advice != "" {
			fmt.Fprintf(&b, "\nadvice: %s", f.Class.Advice)
		}
	}
	return b.String()
}

func categoryTags(fs []Failure) []string {
	if len(fs) == 0 {
		return nil
	}
	return []string{string(fs[len(fs)-1].Class.Category)}
}

// --- Healthchecks ---

type healthchecksReporter struct {
	cfg    *config.Config
	warn   *slog.Logger
	runIDs map[string]string // job -> run ID of the run in progress
}

func (r *healthchecksReporter) check(job string) *notify.Healthchecks {
	j := r.cfg.Jobs[job]
	if j == nil || j.Healthchecks == nil {
		return nil
	}
	hc := j.Healthchecks
	h := &notify.Healthchecks{URL: hc.URL, BaseURL: hc.BaseURL, UUID: hc.UUID, RunID: r.runIDs[job], Logger: r.warn}
	if hc.UUIDFile != "" {
		uuid, err := notify.ReadUUIDFile(hc.UUIDFile)
		if err != nil {
			r.warn.Warn("healthchecks", "err", err)
			return nil
		}
		h.UUID = uuid
	}
	return h
}

func (r *healthchecksReporter) JobStarted(ctx context.Context, o *Outcome) {
	r.runIDs[o.Job] = newUUID()
	h := r.check(o.Job)
	if h == nil || !r.cfg.Jobs[o.Job].Healthchecks.Start {
		return
	}
	if err := h.Start(ctx); err != nil {
		r.warn.Warn("cannot ping healthchecks", "err", err)
	}
}

func (r *healthchecksReporter) JobFinished(ctx context.Context, o *Outcome) {
	h := r.check(o.Job)
	delete(r.runIDs, o.Job)
	if h == nil {
		return
	}
	lines := r.cfg.Jobs[o.Job].Healthchecks.LogLines
	body := summary(o) + "\n\n" + tailLines(o.Log, lines)
	var err error
	if o.Status == StatusFailure {
		err = h.Fail(ctx, body)
	} else {
		err = h.Success(ctx, body)
	}
	if err != nil {
		r.warn.Warn("cannot ping healthchecks", "err", err)
	}
}

func tailLines(s string, n int) string {
	if n <= 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
