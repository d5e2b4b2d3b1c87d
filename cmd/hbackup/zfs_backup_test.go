package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// `backup --zfs` records the dataset's mount point and the ZFS snapshot's
// name, and leaves no ZFS snapshot behind; the next run finds the parent.
func TestBackupZFS(t *testing.T) {
	pool := testutil.NewZFSPool(t)
	ds := pool.CreateDataset(t, "home", nil)
	live := pool.Path("home")
	if err := os.WriteFile(filepath.Join(live, "f"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{"RESTIC_REPOSITORY": filepath.Join(dir, "repo"), "RESTIC_PASSWORD": "pw"}
	if _, errb, code := runCLI(t, env, "init"); code != 0 {
		t.Fatalf("init: %d %s", code, errb)
	}
	mountDir := filepath.Join(dir, "mnt")
	for run := 1; run <= 2; run++ {
		out, errb, code := runCLI(t, env, "backup", "--json", "--zfs", ds, "--zfs-mount-dir", mountDir, "--time", "2026-01-0"+string(rune('0'+run))+" 10:00:00")
		if code != 0 {
			t.Fatalf("backup %d: %d\n%s", run, code, errb)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var sum map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
			t.Fatal(err)
		}
		if run == 2 && (sum["files_unmodified"] != 1.0 || sum["files_new"] != 0.0) {
			t.Errorf("second backup did not use the first as parent: %v", sum)
		}
	}
	out, _, code := runCLI(t, env, "snapshots", "--json")
	var sns []struct {
		Paths []string `json:"paths"`
		Tags  []string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &sns); err != nil || code != 0 || len(sns) != 2 {
		t.Fatalf("snapshots --json: %s (%v)", out, err)
	}
	if len(sns[0].Paths) != 1 || sns[0].Paths[0] != live {
		t.Errorf("paths %v, want [%s]", sns[0].Paths, live)
	}
	second, _ := time.ParseInLocation("2006-01-02 15:04:05", "2026-01-02 10:00:00", time.Local)
	if want := "zfs-snapshot=" + ds + "@hbackup-" + second.UTC().Format("20060102T150405Z"); len(sns[1].Tags) != 1 || sns[1].Tags[0] != want {
		t.Errorf("tags %v, want [%s]", sns[1].Tags, want)
	}
	snaps, err := pool.Runner.Snapshots(context.Background(), ds, false)
	if err != nil || len(snaps) != 0 {
		t.Errorf("ZFS snapshots left: %v (%v)", snaps, err)
	}

	// A missing dataset fails before anything is written.
	_, errb, code := runCLI(t, env, "backup", "--zfs", pool.Name+"/nope")
	if code != 1 || !strings.Contains(errb, pool.Name+"/nope") {
		t.Errorf("missing dataset: exit %d, %s", code, errb)
	}
}
