package docs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/eventlog"
	"github.com/hbackup/hbackup/job/metrics"
)

func stateConfig(t *testing.T, logDir, textDir string) *config.Config {
	t.Helper()
	c, err := config.Parse("s.toml", []byte(`
hostname = "h"
timezone = "UTC"
[repositories.r]
url = "/srv/r"
password_file = "/etc/pw"
[jobs.j]
paths = ["/data"]
[documentation]
include_metrics = true
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Monitoring.LogDir = logDir
	c.Monitoring.Prometheus.TextfileDir = textDir
	return c
}

// The metrics written by job/metrics are the ones the runbook shows.
func TestStateFromMetricsWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	end := time.Date(2026, 11, 21, 3, 4, 5, 0, time.UTC)
	tf := metrics.Textfile{Dir: dir}
	labels := metrics.Labels{Job: "j", Repository: "r", Hostname: "h"}
	if err := tf.RecordBackup(ctx, metrics.Backup{Labels: labels, Start: end.Add(-time.Minute), End: end, Status: metrics.Warning, FilesProcessed: 7}); err != nil {
		t.Fatal(err)
	}
	if err := tf.RecordVerification(ctx, metrics.Check{Labels: labels, Time: end, Success: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hbackup_broken.prom"), []byte("not { metrics\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Render(ctx, &b, stateConfig(t, filepath.Join(dir, "no-logs"), dir), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	mustContain(t, out,
		"| restic_backup_status | hostname=\"h\", job=\"j\", repository=\"r\" | 2 |",
		"| restic_backup_files_processed | hostname=\"h\", job=\"j\", repository=\"r\" | 7 |",
		"(2026-11-21 03:04:05 UTC)",
		"restic_verification_status",
		"Unreadable metrics file: `"+filepath.Join(dir, "hbackup_broken.prom"),
		"No log at `"+filepath.Join(dir, "no-logs", "backup-jobs.jsonl")+"` yet.",
		"No job has logged a run yet.",
	)
}

func TestStateWithNothingYet(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	if err := Render(context.Background(), &b, stateConfig(t, dir, filepath.Join(dir, "missing")), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.String(), "No hbackup metrics in `"+filepath.Join(dir, "missing")+"` yet.")
	var c bytes.Buffer
	if err := Render(context.Background(), &c, stateConfig(t, dir, ""), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.String(), "No Prometheus textfile directory is configured.")
}

func TestLastEventWins(t *testing.T) {
	dir := t.TempDir()
	log := strings.Join([]string{
		`{"event":"backup_success","time":"2026-11-21T03:00:00Z","job":"j"}`,
		`{"event":"backup_failure","time":"2026-11-20T03:00:00Z","job":"j"}`, // older, written late
		`{"event":"restore_test_failure","time":"2026-11-19T03:00:00Z","job":"j","mismatches":3,"fields":{"x":1}}`,
		`{"event":"error_analysis","time":"2026-11-22T03:00:00Z","job":"j"}`,
		`[1,2,3]`,
		`{"event":"backup_start","time":"2026-11-21T02:00:00Z","job":"j"`, // cut short
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "backup-jobs.jsonl"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	events, notes, err := lastRuns(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || len(events) != 2 {
		t.Fatalf("events %+v, notes %v", events, notes)
	}
	if events[0].event != "backup_success" || events[1].kind != "restore_test" || events[1].details != "mismatches=3" {
		t.Errorf("events %+v", events)
	}
}

func TestWriteFile(t *testing.T) {
	c, err := config.Load("testdata/small.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "docs")
	path, err := WriteFile(context.Background(), dir, c, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "web1.md") {
		t.Errorf("path %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "# Backup runbook for web1\n") {
		t.Fatalf("%v: %.80s", err, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestUnreadableLogIsANote(t *testing.T) {
	dir := t.TempDir()
	// A directory where a file is expected: reading fails, not with ErrNotExist.
	if err := os.Mkdir(filepath.Join(dir, "backup-jobs.jsonl"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, notes, err := lastRuns(context.Background(), dir)
	if err != nil || len(notes) != 2 || !strings.HasPrefix(notes[0], "Could not read") {
		t.Fatalf("notes %v, err %v", notes, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := os.Remove(filepath.Join(dir, "backup-jobs.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backup-jobs.jsonl"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lastRuns(ctx, dir); err == nil {
		t.Error("a cancelled context did not stop the reading")
	}
}

// The events written by job/eventlog are the ones the runbook shows.
func TestStateFromEventWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := eventlog.Log{Dir: dir}
	at := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	for _, e := range []eventlog.Event{
		{Event: eventlog.BackupStart, Time: at, Job: "j", Repository: "r"},
		{Event: eventlog.BackupFailure, Time: at.Add(time.Minute), Job: "j", Repository: "r", Category: "network",
			Error: "dial rest:https://u:pw-123@h/: refused"},
		{Event: eventlog.RestoreTestSuccess, Time: at, Job: "j", SampleFiles: 10, FilesVerified: 10},
		{Event: eventlog.ErrorAnalysis, Time: at, Job: "j", Category: "network"},
	} {
		if err := log.Write(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := Render(ctx, &b, stateConfig(t, dir, ""), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	mustContain(t, out,
		"| j | backup | backup_failure | 2026-11-21 03:01:00 UTC | category=network error=dial rest:https://u:***@h/: refused repository=r |",
		"| j | restore_test | restore_test_success | 2026-11-21 03:00:00 UTC | files_verified=10 sample_files=10 |",
	)
	mustNotContain(t, out, "pw-123", "No log at")
}
