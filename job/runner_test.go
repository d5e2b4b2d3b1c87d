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
	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/errclass"
)

// env is a test's directory with a password file and helpers to make
// repositories and configs.
type env struct {
	t        *testing.T
	dir      string
	password string // path of the password file
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("geheim\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, password: pw}
}

// hb runs the hbackup binary against a repository.
func (e *env) hb(repo string, args ...string) []byte {
	e.t.Helper()
	cmd := exec.Command(hbackupBin, append([]string{"-r", repo, "--password-file", e.password}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("hbackup %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func (e *env) initRepo(name string) string {
	e.t.Helper()
	repo := filepath.Join(e.dir, name)
	e.hb(repo, "init")
	return repo
}

func (e *env) snapshots(repo string) []map[string]any {
	e.t.Helper()
	var sns []map[string]any
	if err := json.Unmarshal(e.hb(repo, "snapshots", "--json"), &sns); err != nil {
		e.t.Fatal(err)
	}
	return sns
}

func (e *env) config(text string) *config.Config {
	e.t.Helper()
	r := strings.NewReplacer("$DIR", e.dir, "$PW", e.password)
	cfg, err := config.Parse(filepath.Join(e.dir, "hbackup.toml"), []byte(r.Replace(text)))
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	return cfg
}

func (e *env) source() string {
	e.t.Helper()
	src := filepath.Join(e.dir, "src")
	for _, f := range []string{"a.txt", "sub/b.txt"} {
		p := filepath.Join(src, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+f), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return src
}

// recorder is a Reporter that keeps what it was told.
type recorder struct{ started, finished []*job.Outcome }

func (r *recorder) JobStarted(_ context.Context, o *job.Outcome) { r.started = append(r.started, o) }
func (r *recorder) JobFinished(_ context.Context, o *job.Outcome) {
	r.finished = append(r.finished, o)
}

// A job backs up, runs its hooks with the job's environment, copies the
// snapshot to the secondary and applies retention: after three runs the
// primary keeps two snapshots, the append-only secondary all three.
func TestJobEndToEnd(t *testing.T) {
	e := newEnv(t)
	src := e.source()
	e.initRepo("primary")
	e.initRepo("secondary")
	cfg := e.config(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[repositories.secondary]
url = "$DIR/secondary"
password_file = "$PW"
append_only = true
[jobs.docs]
paths = ["$DIR/src"]
repository = "primary"
copy_to = ["secondary"]
tags = ["docs"]
exclude = ["*.tmp"]
pre_backup = "echo pre $HBACKUP_JOB > $DIR/src/dump.txt"
post_backup = "echo $HBACKUP_OUTCOME $HBACKUP_SNAPSHOT_ID >> $DIR/post.log"
[jobs.docs.retention]
last = 2
daily = 0
weekly = 0
monthly = 0
yearly = 0
`)
	if err := os.WriteFile(filepath.Join(src, "skip.tmp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	var log bytes.Buffer
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}, Reporters: []job.Reporter{rec}, Log: &log}
	for i := range 3 {
		outs, err := r.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		o := outs[0]
		if o.Status != job.StatusSuccess || o.Attempts != 1 {
			t.Fatalf("run %d: %s after %d attempts: %v\n%s", i, o.Status, o.Attempts, o.Err(), log.String())
		}
		if o.Backup.SnapshotID == "" || o.Backup.FilesProcessed != 3 {
			t.Errorf("run %d: backup stats %+v, want a snapshot of 3 files", i, o.Backup)
		}
	}
	if len(rec.started) != 3 || len(rec.finished) != 3 {
		t.Errorf("reporter saw %d starts and %d finishes, want 3 each", len(rec.started), len(rec.finished))
	}
	primary := e.snapshots(filepath.Join(e.dir, "primary"))
	secondary := e.snapshots(filepath.Join(e.dir, "secondary"))
	if len(primary) != 2 || len(secondary) != 3 {
		t.Fatalf("snapshots: primary %d (want 2, retention last=2), append-only secondary %d (want 3)", len(primary), len(secondary))
	}
	if tags, _ := primary[0]["tags"].([]any); len(tags) != 1 || tags[0] != "docs" {
		t.Errorf("tags %v, want [docs]", primary[0]["tags"])
	}
	ls := string(e.hb(filepath.Join(e.dir, "primary"), "ls", "latest"))
	if !strings.Contains(ls, "dump.txt") || strings.Contains(ls, "skip.tmp") {
		t.Errorf("latest snapshot: pre_backup output missing or exclude ignored:\n%s", ls)
	}
	post, err := os.ReadFile(filepath.Join(e.dir, "post.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(post)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "success ") || len(lines[2]) != len("success ")+64 {
		t.Errorf("post_backup saw %q, want 3 lines of outcome and snapshot ID", lines)
	}
}

// A failing pre_backup hook fails the job without a backup, is not
// retried, and runs on_failure with the error in its environment.
func TestFailingHook(t *testing.T) {
	e := newEnv(t)
	e.source()
	e.initRepo("primary")
	cfg := e.config(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.db]
paths = ["$DIR/src"]
pre_backup = "echo dump failed >&2; exit 7"
on_failure = "echo $HBACKUP_ERROR_CATEGORY: $HBACKUP_ERROR > $DIR/failure.txt"
retries = 3
retry_delay = "1s"
`)
	var slept []time.Duration
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin},
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	outs, err := r.Run(context.Background(), []string{"db"})
	if err != nil {
		t.Fatal(err)
	}
	o := outs[0]
	if o.Status != job.StatusFailure || o.Attempts != 1 || len(slept) != 0 {
		t.Fatalf("status %s, %d attempts, slept %v: want one failed attempt", o.Status, o.Attempts, slept)
	}
	c := o.Errors[0].Class
	if c.Category != errclass.Hook {
		t.Errorf("category %s, want hook", c.Category)
	}
	var he *job.HookError
	if !asHookError(o.Err(), &he) || he.ExitCode != 7 || !strings.Contains(he.Output, "dump failed") {
		t.Errorf("error %v, want a HookError with exit code 7 and the hook's output", o.Err())
	}
	got, err := os.ReadFile(filepath.Join(e.dir, "failure.txt"))
	if err != nil || !strings.HasPrefix(string(got), "hook: ") || !strings.Contains(string(got), "exit status 7") {
		t.Errorf("on_failure wrote %q (%v)", got, err)
	}
	if n := len(e.snapshots(filepath.Join(e.dir, "primary"))); n != 0 {
		t.Errorf("%d snapshots after a failed pre_backup, want 0", n)
	}
}

// An unreachable repository is a network error: retried after the
// configured delay, then reported as a failure.
func TestUnreachableRepositoryIsRetried(t *testing.T) {
	e := newEnv(t)
	e.source()
	cfg := e.config(`
[repositories.nas]
url = "rest:http://127.0.0.1:1/repo"
password_file = "$PW"
[jobs.home]
paths = ["$DIR/src"]
retries = 2
retry_delay = "3m"
[validation]
network_timeout = "20s"
`)
	var slept []time.Duration
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin},
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	outs, err := r.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := outs[0]
	if o.Status != job.StatusFailure || o.Attempts != 3 {
		t.Fatalf("status %s after %d attempts, want failure after 3: %v", o.Status, o.Attempts, o.Err())
	}
	if len(slept) != 2 || slept[0] != 3*time.Minute {
		t.Errorf("slept %v, want 2×3m", slept)
	}
	if c := o.Errors[len(o.Errors)-1].Class; c.Category != errclass.Network || !c.Retryable {
		t.Errorf("classified %+v, want a retryable network error", c)
	}
	if job.StageOf(o.Err()) != job.StagePreflight {
		t.Errorf("failed in stage %q, want preflight: %v", job.StageOf(o.Err()), o.Err())
	}
}

// A local repository on a file system with less free space than
// validation.min_free_space fails the pre-flight check as a storage error.
func TestMinFreeSpace(t *testing.T) {
	e := newEnv(t)
	e.source()
	e.initRepo("primary")
	cfg := e.config(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.home]
paths = ["$DIR/src"]
retries = 0
[validation]
min_free_space = "1000000TiB"
`)
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}}
	outs, _ := r.Run(context.Background(), nil)
	o := outs[0]
	if o.Status != job.StatusFailure || o.Errors[0].Class.Category != errclass.Storage {
		t.Fatalf("status %s, error %v [%s], want a storage failure", o.Status, o.Err(), o.Errors[0].Class.Category)
	}
	if !strings.Contains(o.Err().Error(), "min_free_space") {
		t.Errorf("message %q does not name the setting", o.Err())
	}
}
