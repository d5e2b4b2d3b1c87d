package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestSmoke runs the whole harness once on a tiny data set with the real
// restic and the hbackup built from ./cmd/hbackup: the bounds, a backup, a
// restore, and forget-prune and copy on a short history, and backup-sftp
// where sshd is installed.
func TestSmoke(t *testing.T) {
	resticBin := testutil.RequireBinary(t, "restic")
	work := t.TempDir()
	jsonOut := filepath.Join(work, "results.json")
	// forget-prune and copy first need a history of restic backups: most
	// of the test's time, so -short leaves them out.
	scenarios, wantScenarios, wantGuards := "bound-read,bound-pipeline,bound-kdf,backup-auto,restore,forget-prune,copy", 4, 3
	if testing.Short() {
		scenarios, wantScenarios, wantGuards = "bound-read,bound-pipeline,bound-kdf,backup-auto,restore", 2, 1
	}
	// backup-sftp needs sshd; named with -scenarios it must not skip.
	sftp := false
	if _, err := testutil.SSHDPath(); err == nil {
		scenarios, wantScenarios, wantGuards, sftp = scenarios+",backup-sftp", wantScenarios+1, wantGuards+1, true
	} else {
		t.Logf("without backup-sftp: %v", err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-scale", "0.0005", "-runs", "1", "-restic", resticBin,
		"-scenarios", scenarios, "-work", work, "-json", jsonOut}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"scenario", "backup-auto", "restore", "restic 0.", "hbackup ", "bounds:", "bound-pipeline off", "against the targets"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout.String())
		}
	}
	// backup-auto, forget-prune and copy each check hbackup's repository.
	if n := strings.Count(stderr.String(), "guard: restic check --read-data"); n != wantGuards {
		t.Errorf("%d correctness guards ran, want %d:\n%s", n, wantGuards, stderr.String())
	}
	data, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != wantScenarios {
		t.Fatalf("%d scenarios in the JSON, want %d", len(rep.Scenarios), wantScenarios)
	}
	for _, s := range rep.Scenarios {
		for name, r := range map[string]*toolResult{"restic": s.Restic, "hbackup": s.Hbackup} {
			if len(r.Samples) != 1 || r.Median <= 0 || r.CPU <= 0 || r.PeakRSS <= 0 {
				t.Errorf("%s/%s: %+v", s.Name, name, r)
			}
		}
		if s.Ratio <= 0 {
			t.Errorf("%s: no ratio", s.Name)
		}
	}
	// bound-read (3 lines with bound-stat), bound-pipeline (3), bound-kdf
	// and restore's bound-write.
	if len(rep.Bounds) != 8 {
		t.Fatalf("%d bound lines in the JSON, want 8", len(rep.Bounds))
	}
	if i := slices.IndexFunc(rep.Bounds, func(br *boundResult) bool { return br.Name == "bound-write" }); i < 0 || rep.Bounds[i].Scenario != "restore" {
		t.Errorf("no bound-write from the restore scenario: %+v", rep.Bounds)
	}
	if wall, _ := boundFor("restore", rep.Bounds, rep.Machine.CPUs); wall <= 0 {
		t.Error("no bound for restore")
	}
	for _, br := range rep.Bounds {
		movesData := br.Name != "bound-kdf" && br.Name != "bound-stat"
		if br.Result.Median <= 0 || (br.Result.MBps <= 0) == movesData {
			t.Errorf("bound %s: %+v", br.Name, br.Result)
		}
	}
	if wall, cpu := boundFor("backup-auto", rep.Bounds, rep.Machine.CPUs); wall <= 0 || cpu <= 0 {
		t.Error("no bound for backup-auto")
	}
	if rep.Scenarios[0].Hbackup.RepoSize <= 0 {
		t.Error("no repository size for backup-auto")
	}
	if sftp {
		i := slices.IndexFunc(rep.Scenarios, func(s *scenarioResult) bool { return s.Name == "backup-sftp" })
		if i < 0 || rep.Scenarios[i].Skipped != "" || rep.Scenarios[i].Hbackup.RepoSize <= 0 {
			t.Errorf("backup-sftp did not run: %+v", rep.Scenarios)
		} else if q := rep.Scenarios[i].Hbackup.Samples[0].Bytes; q*3 > rep.Data.Bytes {
			t.Errorf("backup-sftp backed up %d bytes of %d: more than a quarter", q, rep.Data.Bytes)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "scratch")); !os.IsNotExist(err) {
		t.Errorf("the scratch directory was left behind (%v)", err)
	}
}
