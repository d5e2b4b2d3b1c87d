package job_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/job"
	"github.com/hbackup/hbackup/job/errclass"
)

const checkConfig = `
[repositories.primary]
url = "$DIR/primary"
password_file = "$PW"
[jobs.docs]
paths = ["$DIR/src"]
[monitoring]
log_dir = "$DIR/log"
[verification]
read_data_subset = "50%"
[restore_testing]
sample_files = 5
test_dir = "$DIR/restore-test"
`

// flipPackByte damages every data pack of the repository.
func flipPackByte(t *testing.T, repo string) {
	t.Helper()
	n := 0
	err := filepath.Walk(filepath.Join(repo, "data"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b[len(b)/3] ^= 0xff
		n++
		os.Chmod(p, 0o644)
		return os.WriteFile(p, b, 0o644)
	})
	if err != nil || n == 0 {
		t.Fatalf("damaging packs: %v (%d packs)", err, n)
	}
}

// Verification reads the repository in turns (50% = 2 parts: 1/2, 2/2,
// 1/2 ...) and a restore test restores and compares sample files; both
// catch a damaged pack.
func TestVerifyAndRestoreTest(t *testing.T) {
	e := newEnv(t)
	e.source()
	e.initRepo("primary")
	cfg := e.config(checkConfig)
	r := &job.Runner{Config: cfg, Exec: job.Binary{Path: hbackupBin}}
	ctx := context.Background()
	if o := r.RunJob(ctx, cfg.Jobs["docs"]); o.Status != job.StatusSuccess {
		t.Fatalf("backup: %v", o.Err())
	}

	var subsets []string
	for range 3 {
		c := r.Verify(ctx, "primary")
		if !c.Success {
			t.Fatalf("verify: %v\n%s", c.Errors, c.Log)
		}
		subsets = append(subsets, c.Detail)
	}
	if want := "read-data-subset 1/2,read-data-subset 2/2,read-data-subset 1/2"; strings.Join(subsets, ",") != want {
		t.Errorf("verification rotation %v, want %s", subsets, want)
	}

	rt := r.RestoreTest(ctx, cfg.Jobs["docs"])
	if !rt.Success || !strings.Contains(rt.Detail, "2 files restored and verified, 2 of them compared") {
		t.Fatalf("restore test: %+v", rt)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "restore-test")); len(entries) != 0 {
		t.Errorf("restore test left %d entries behind", len(entries))
	}

	flipPackByte(t, filepath.Join(e.dir, "primary"))
	rt = r.RestoreTest(ctx, cfg.Jobs["docs"])
	if rt.Success {
		t.Fatalf("restore test passed on a damaged repository: %s", rt.Detail)
	}
	if c := rt.Errors[0].Class.Category; c != errclass.RepositoryDamage {
		t.Errorf("restore test failure %v classified %s, want repository_damage", rt.Errors[0].Err, c)
	}
	cfg.Verification.ReadDataSubset = "100%"
	if c := r.Verify(ctx, "primary"); c.Success {
		t.Errorf("verification passed on a damaged repository: %s", c.Log)
	}
}
