package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestSmoke runs the whole harness once on a tiny data set with the real
// restic and the hbackup built from ./cmd/hbackup.
func TestSmoke(t *testing.T) {
	resticBin := testutil.RequireBinary(t, "restic")
	work := t.TempDir()
	jsonOut := filepath.Join(work, "results.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-scale", "0.0005", "-runs", "1", "-restic", resticBin,
		"-scenarios", "backup-auto,restore", "-work", work, "-json", jsonOut}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"scenario", "backup-auto", "restore", "restic 0.", "hbackup "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "guard: restic check --read-data") {
		t.Errorf("no correctness guard ran:\n%s", stderr.String())
	}
	data, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 2 {
		t.Fatalf("%d scenarios in the JSON, want 2", len(rep.Scenarios))
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
	if rep.Scenarios[0].Hbackup.RepoSize <= 0 {
		t.Error("no repository size for backup-auto")
	}
	if _, err := os.Stat(filepath.Join(work, "scratch")); !os.IsNotExist(err) {
		t.Errorf("the scratch directory was left behind (%v)", err)
	}
}
