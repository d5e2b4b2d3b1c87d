package job_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/job"
	"github.com/hbackup/hbackup/job/errclass"
	"github.com/hbackup/hbackup/repo"
)

// hbEnv runs the hbackup binary with extra environment variables.
func (e *env) hbEnv(extra []string, repoURL string, args ...string) []byte {
	e.t.Helper()
	cmd := exec.Command(hbackupBin, append([]string{"-r", repoURL, "--password-file", e.password}, args...)...)
	cmd.Env = append(os.Environ(), extra...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("hbackup %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// A job backs up to a NAS over SFTP (real sshd; the repository's
// environment file points ssh at its config) and copies to an
// append-only REST server (rclone): retention runs on the NAS and is
// skipped on the append-only copy.
func TestJobSFTPAndREST(t *testing.T) {
	e := newEnv(t)
	e.source()
	s := testutil.StartSSHD(t, testutil.SSHDOptions{})
	rest := testutil.StartRclone(t, testutil.RcloneOptions{AppendOnly: true})
	home := filepath.Join(e.dir, "home")
	s.WriteHome(t, home)
	envFile := filepath.Join(e.dir, "nas.env")
	sshEnv := []string{"HOME=" + home, "SSH_AUTH_SOCK="}
	if err := os.WriteFile(envFile, []byte("# ssh config and known_hosts of the backup user\nexport HOME="+home+"\nSSH_AUTH_SOCK=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nasURL := "sftp:" + s.Alias + ":" + filepath.Join(e.dir, "nas-repo")
	restURL := "rest:" + rest.URL + "offsite"
	e.hbEnv(sshEnv, nasURL, "init")
	e.hbEnv(nil, restURL, "init")
	cfg := e.config(`
[repositories.nas]
url = "` + nasURL + `"
password_file = "$PW"
environment_file = "` + envFile + `"
[repositories.offsite]
url = "` + restURL + `"
password_file = "$PW"
append_only = true
[jobs.home]
paths = ["$DIR/src"]
repository = "nas"
copy_to = ["offsite"]
[jobs.home.retention]
last = 1
`)
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}}
	for i := range 2 {
		o := r.RunJob(context.Background(), cfg.Jobs["home"])
		if o.Status != job.StatusSuccess {
			t.Fatalf("run %d: %s: %v", i, o.Status, o.Err())
		}
	}
	count := func(extra []string, url string) int {
		var sns []any
		if err := json.Unmarshal(e.hbEnv(extra, url, "snapshots", "--json"), &sns); err != nil {
			t.Fatal(err)
		}
		return len(sns)
	}
	if n, m := count(sshEnv, nasURL), count(nil, restURL); n != 1 || m != 2 {
		t.Errorf("snapshots: NAS %d (want 1: retention last=1), append-only offsite %d (want 2)", n, m)
	}
}

// A repository locked by another process is a lock error, retried after
// the delay; once the lock is gone the retry succeeds.
func TestLockedRepositoryIsRetried(t *testing.T) {
	e := newEnv(t)
	e.source()
	repoDir := e.initRepo("primary")
	cfg := e.config(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.home]
paths = ["$DIR/src"]
retries = 2
retry_delay = "10m"
`)
	ctx := context.Background()
	be, err := local.New(repoDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := repo.Open(ctx, be, "geheim", repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	lock, err := rp.Lock(ctx, true) // as a running prune would hold it
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}, Sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return lock.Unlock(ctx) // the other process finishes
	}}
	o := r.RunJob(ctx, cfg.Jobs["home"])
	if o.Status != job.StatusSuccess || o.Attempts != 2 || len(slept) != 1 || slept[0] != 10*time.Minute {
		t.Fatalf("status %s after %d attempts, slept %v: %v", o.Status, o.Attempts, slept, o.Err())
	}
	// The first attempt's failure is not reported once a retry succeeded,
	// but the log says what happened.
	if !strings.Contains(o.Log, "locked") || !strings.Contains(o.Log, "[lock, ") {
		t.Errorf("log does not show the lock failure:\n%s", o.Log)
	}
	if len(o.Errors) != 0 || len(o.Retried) != 1 || o.Retried[0].Class.Category != errclass.Lock || !o.Retried[0].Class.Retryable {
		t.Errorf("errors %v, retried %v: want the first attempt's retryable lock failure kept as retried", o.Errors, o.Retried)
	}
}

// A ZFS job: backed up from a snapshot of the dataset, so the second run
// reads only the changed file; retention selects the job's snapshots by
// the dataset's mount point; no ZFS snapshot is left behind.
func TestJobZFS(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "data", nil)
	live := pool.Path("data")
	for _, f := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(live, f), []byte("file "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t)
	e.initRepo("primary")
	cfg := e.config(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.tank]
zfs = ["` + ds + `"]
[jobs.tank.retention]
last = 1
`)
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}}
	ctx := context.Background()
	o1 := r.RunJob(ctx, cfg.Jobs["tank"])
	if o1.Status != job.StatusSuccess || o1.Backup.FilesNew != 3 {
		t.Fatalf("first run: %s, %+v: %v\n%s", o1.Status, o1.Backup, o1.Err(), o1.Log)
	}
	if err := os.WriteFile(filepath.Join(live, "b"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // ZFS snapshot names have one-second resolution
	o2 := r.RunJob(ctx, cfg.Jobs["tank"])
	if o2.Status != job.StatusSuccess || o2.Backup.FilesChanged != 1 || o2.Backup.FilesNew != 0 {
		t.Fatalf("second run: %s, %+v: %v", o2.Status, o2.Backup, o2.Err())
	}
	var sns []struct {
		ID    string   `json:"id"`
		Paths []string `json:"paths"`
		Tags  []string `json:"tags"`
	}
	if err := json.Unmarshal(e.hb(filepath.Join(e.dir, "primary"), "snapshots", "--json"), &sns); err != nil {
		t.Fatal(err)
	}
	if len(sns) != 1 || sns[0].ID != o2.Backup.SnapshotID || len(sns[0].Paths) != 1 || sns[0].Paths[0] != live {
		t.Errorf("snapshots after retention last=1: %+v, want only %s of %s", sns, o2.Backup.SnapshotID, live)
	}
	snaps, err := pool.Runner.Snapshots(ctx, ds, false)
	if err != nil || len(snaps) != 0 {
		t.Errorf("ZFS snapshots left: %v (%v)", snaps, err)
	}
}

// A repository on a full file system (a 2 MiB tmpfs) fails the backup as
// a storage error, which is not retried; the repository stays usable.
func TestFullDisk(t *testing.T) {
	testutil.RequireRoot(t)
	e := newEnv(t)
	src := e.source()
	big := make([]byte, 4<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(big) // incompressible
	if err := os.WriteFile(filepath.Join(src, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(e.dir, "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	e.hb(filepath.Join(mnt, "repo"), "init")
	cfg := e.config(`
[repositories.small]
url = "$DIR/small/repo"
password_file = "$PW"
[jobs.home]
paths = ["$DIR/src"]
retries = 2
`)
	var slept int
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin},
		Sleep: func(context.Context, time.Duration) error { slept++; return nil }}
	o := r.RunJob(context.Background(), cfg.Jobs["home"])
	if o.Status != job.StatusFailure || slept != 0 {
		t.Fatalf("status %s, %d retries: %v", o.Status, slept, o.Err())
	}
	if c := o.Errors[0].Class; c.Category != errclass.Storage {
		t.Errorf("full disk classified %s (%v), want storage", c.Category, o.Err())
	}
	e.hb(filepath.Join(mnt, "repo"), "check")
}

// A lock left by a killed process (here `key passwd`, killed while it
// waits for the new password) is a lock error: retried, then reported as
// a failure that says how to remove it. After `unlock` the job runs.
func TestStaleLock(t *testing.T) {
	e := newEnv(t)
	e.source()
	repoDir := e.initRepo("primary")
	cmd := exec.Command(hbackupBin, "-r", repoDir, "--password-file", e.password, "key", "passwd")
	stdin, err := cmd.StdinPipe() // never written: the command waits, holding its lock
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	locks := filepath.Join(repoDir, "locks")
	for i := 0; ; i++ {
		// A finished lock file, not the temporary file it is written to
		// first: killed before the rename, the process leaves no lock.
		if entries, _ := os.ReadDir(locks); slices.ContainsFunc(entries, func(e os.DirEntry) bool {
			_, err := repo.ParseID(e.Name())
			return err == nil
		}) {
			break
		}
		if i == 600 {
			cmd.Process.Kill()
			t.Fatal("key passwd took no lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()

	cfg := e.config(`
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.home]
paths = ["$DIR/src"]
retries = 1
`)
	var slept int
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin},
		Sleep: func(context.Context, time.Duration) error { slept++; return nil }}
	o := r.RunJob(context.Background(), cfg.Jobs["home"])
	if o.Status != job.StatusFailure || o.Attempts != 2 || slept != 1 {
		t.Fatalf("status %s after %d attempts (%d sleeps), want a failure after a retry: %v", o.Status, o.Attempts, slept, o.Err())
	}
	c := o.Errors[len(o.Errors)-1].Class
	if c.Category != errclass.Lock || !c.Retryable {
		t.Errorf("stale lock classified %+v, want a retryable lock error", c)
	}
	if !strings.Contains(o.Err().Error(), "unlock") {
		t.Errorf("error %q does not say how to remove the lock", o.Err())
	}
	e.hb(repoDir, "unlock")
	if o := r.RunJob(context.Background(), cfg.Jobs["home"]); o.Status != job.StatusSuccess {
		t.Errorf("after unlock: %s: %v", o.Status, o.Err())
	}
}
