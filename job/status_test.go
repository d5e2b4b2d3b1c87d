package job_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/job"
)

const statusConfig = `
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.nightly]
paths = ["$DIR/src"]
schedule = "*-*-* 02:00:00"
[jobs.manual]
paths = ["$DIR/src"]
[monitoring]
log_dir = "$DIR/log"
[validation]
max_age = "1h"
min_backups = 2
`

// A scheduled job that never ran is due; after it ran it is due again at
// its next scheduled time. Jobs without a schedule run only when named.
func TestDueAndStatus(t *testing.T) {
	e := newEnv(t)
	e.source()
	e.initRepo("primary")
	cfg := e.config(statusConfig)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.Local)
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}, Reporters: job.Reporters(cfg, nil),
		Now: func() time.Time { return now }}
	ctx := context.Background()
	due, err := r.Due(ctx)
	if err != nil || strings.Join(due, ",") != "nightly" {
		t.Fatalf("due before any run: %v (%v), want [nightly]", due, err)
	}
	if _, err := r.Run(ctx, due); err != nil {
		t.Fatal(err)
	}
	if due, _ := r.Due(ctx); len(due) != 0 {
		t.Errorf("due right after the run: %v", due)
	}
	now = time.Date(2026, 11, 23, 2, 0, 1, 0, time.Local)
	if due, _ := r.Due(ctx); strings.Join(due, ",") != "nightly" {
		t.Errorf("due after 02:00 the next day: %v, want [nightly]", due)
	}
	sts, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 || sts[0].Job != "manual" || sts[0].LastEnd != nil || sts[0].Scheduled {
		t.Errorf("manual job status %+v", sts[0])
	}
	n := sts[1]
	if n.LastEnd == nil || n.LastEnd.Event != "backup_success" || !n.NextRun.Equal(time.Date(2026, 11, 23, 2, 0, 0, 0, time.Local)) {
		t.Errorf("nightly status %+v, next %v", n, n.NextRun)
	}
}

// health: one snapshot is fewer than min_backups (warning); a snapshot
// older than max_age is critical; exit codes 1 and 2 follow.
func TestHealth(t *testing.T) {
	e := newEnv(t)
	src := e.source()
	repo := e.initRepo("primary")
	cfgPath := filepath.Join(e.dir, "hbackup.toml")
	if err := os.WriteFile(cfgPath, []byte(strings.NewReplacer("$DIR", e.dir, "$PW", e.password).Replace(statusConfig)), 0o644); err != nil {
		t.Fatal(err)
	}
	health := func() (int, []map[string]any) {
		cmd := exec.Command(hbackupBin, "health", "--json", "--config", cfgPath, "nightly")
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		var hs []map[string]any
		if jerr := json.Unmarshal(out.Bytes(), &hs); jerr != nil {
			t.Fatalf("health --json: %v\n%s", jerr, out.String())
		}
		return code, hs
	}
	if code, hs := health(); code != 2 || hs[0]["level"] != "critical" || !strings.Contains(hs[0]["problems"].([]any)[0].(string), "no snapshot") {
		t.Errorf("no snapshots: exit %d, %v; want 2 and a critical problem", code, hs)
	}
	host, _ := os.Hostname()
	e.hb(repo, "backup", "--host", host, src)
	if code, hs := health(); code != 1 || hs[0]["level"] != "warning" || hs[0]["snapshots"] != 1.0 {
		t.Errorf("one fresh snapshot, min_backups 2: exit %d, %v; want 1, a warning", code, hs)
	}
	e.hb(repo, "backup", "--host", host, "--time", time.Now().Add(-3*time.Hour).Format("2006-01-02 15:04:05"), src)
	e.hb(repo, "forget", "--keep-last", "1", "--host", host) // leaves only the newest: the fresh one
	e.hb(repo, "backup", "--host", host, "--time", time.Now().Add(-2*time.Hour).Format("2006-01-02 15:04:05"), src)
	e.hb(repo, "forget", "latest")
	if code, hs := health(); code != 2 {
		t.Errorf("last snapshot 2h old, max_age 1h: exit %d, %v; want 2", code, hs)
	}
}

// status --json and health --json use snake_case names, as the job log
// does, and name health levels.
func TestStatusAndHealthJSON(t *testing.T) {
	st, err := json.Marshal(job.JobStatus{Job: "j", Scheduled: true})
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(st, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"job", "last_start", "last_end", "next_run", "scheduled"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("status JSON %s has no %q", st, k)
		}
	}
	h, err := json.Marshal(job.Health{Job: "j", Level: job.LevelWarning})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h), `"level":"warning"`) || !strings.Contains(string(h), `"last_snapshot":`) {
		t.Errorf("health JSON %s", h)
	}
	var back job.Health
	if err := json.Unmarshal(h, &back); err != nil || back.Level != job.LevelWarning {
		t.Errorf("health JSON read back: level %v, %v", back.Level, err)
	}
	if err := json.Unmarshal([]byte(`{"level":"bad"}`), &back); err == nil {
		t.Error("unknown level accepted")
	}
}
