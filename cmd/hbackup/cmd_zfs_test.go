package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/zfs"
)

func TestZFSEndpoint(t *testing.T) {
	tests := []struct{ in, host, ds string }{
		{"pool/ds", "", "pool/ds"},
		{"nas:tank/backup", "nas", "tank/backup"},
		{"backup@nas.lan:tank/b", "backup@nas.lan", "tank/b"},
		{"pool/ds:with:colons", "", "pool/ds:with:colons"},
		{"host:", "", "host:"},
		{":pool", "", ":pool"},
	}
	for _, tt := range tests {
		if h, ds := zfsEndpoint(tt.in); h != tt.host || ds != tt.ds {
			t.Errorf("zfsEndpoint(%q) = %q, %q; want %q, %q", tt.in, h, ds, tt.host, tt.ds)
		}
	}
	r := zfsRunner(&globalOptions{}, zfsOptions{ssh: "ssh -p 2222", sshConfig: "/cfg"}, "u@h")
	if !slices.Equal(r.Wrapper, []string{"ssh", "-p", "2222", "-F", "/cfg", "u@h"}) {
		t.Fatalf("wrapper %q", r.Wrapper)
	}
}

func zfsSnapNames(t *testing.T, r *zfs.Runner, ds string) []string {
	t.Helper()
	snaps, err := r.Snapshots(context.Background(), ds, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range snaps {
		out = append(out, s.Name)
	}
	return out
}

func TestZFSSnapshotAndPruneCommands(t *testing.T) {
	ctx := context.Background()
	p := testutil.NewZFSPool(t)
	ds := p.CreateDataset(t, "home", nil)

	out := mustRun(t, nil, "zfs", "snapshot", "--dry-run", "--hourly", "2", "--daily", "1", "--weekly", "0", "--monthly", "0", ds)
	if strings.Count(out, "would be created "+ds+"@autosnap_") != 2 || len(zfsSnapNames(t, p.Runner, ds)) != 0 {
		t.Fatalf("dry run:\n%s", out)
	}
	var plan zfsPlanJSON
	out = mustRun(t, nil, "zfs", "snapshot", "--json", "--utc", "--hourly", "2", "--daily", "1", "--weekly", "0", "--monthly", "0", ds)
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Created) != 2 {
		t.Fatalf("snapshot --json: %v\n%s", err, out)
	}
	if got := zfsSnapNames(t, p.Runner, ds); len(got) != 2 || !strings.HasSuffix(got[0], "_hourly") || !strings.HasSuffix(got[1], "_daily") {
		t.Fatalf("snapshots %v", got)
	}
	// Run again in the same hour: nothing is due. (Only checked when the
	// hour did not turn between the runs.)
	hour := time.Now().UTC().Format("2006-01-02_15")
	out = mustRun(t, nil, "zfs", "snapshot", "--utc", "--hourly", "2", "--daily", "1", "--weekly", "0", "--monthly", "0", ds)
	if sameHour := strings.Contains(plan.Created[0], hour) && time.Now().UTC().Format("2006-01-02_15") == hour; sameHour && out != "" {
		t.Fatalf("second run in the hour:\n%s", out)
	}
	// Older hourly snapshots, one of them held.
	for _, n := range []string{"autosnap_2026-01-01_00:00:00_hourly", "autosnap_2026-01-01_01:00:00_hourly", "autosnap_2026-01-01_02:00:00_hourly"} {
		if err := p.Runner.Snapshot(ctx, []string{ds + "@" + n}, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Runner.Hold(ctx, "keep", ds+"@autosnap_2026-01-01_00:00:00_hourly"); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, nil, "zfs", "prune", "--hourly", "2", "--daily", "1", ds)
	// Kept: today's hourly and the newest old one; 00:00 is held.
	wantOut := "destroyed " + ds + "@autosnap_2026-01-01_01:00:00_hourly\n" +
		"kept " + ds + "@autosnap_2026-01-01_00:00:00_hourly (held)\n"
	if out != wantOut {
		t.Fatalf("prune output:\n%s\nwant:\n%s", out, wantOut)
	}
	if got := zfsSnapNames(t, p.Runner, ds); len(got) != 4 || !slices.Contains(got, "autosnap_2026-01-01_00:00:00_hourly") ||
		!slices.Contains(got, "autosnap_2026-01-01_02:00:00_hourly") || slices.Contains(got, "autosnap_2026-01-01_01:00:00_hourly") {
		t.Fatalf("after prune %v", got)
	}
	if _, errb, code := runCLI(t, nil, "zfs", "snapshot", p.Name+"/missing"); code != exitFatal || !strings.Contains(errb, "does not exist") {
		t.Fatalf("missing dataset: exit %d: %s", code, errb)
	}
	if _, errb, code := runCLI(t, nil, "zfs", "frobnicate"); code != exitFatal || !strings.Contains(errb, "unknown zfs subcommand") {
		t.Fatalf("unknown subcommand: exit %d: %s", code, errb)
	}
}

func TestZFSReplicateCommand(t *testing.T) {
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	src := sp.CreateDataset(t, "data", nil)
	dst := dp.Name + "/copy"
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("data"), "f"), 1<<20, 5)

	out := mustRun(t, nil, "zfs", "replicate", "--bwlimit", "100000", src, dst)
	if !strings.Contains(out, src+" -> "+dst+": full, latest @hbackup-repl_") {
		t.Fatalf("first replicate:\n%s", out)
	}
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("data"), "g"), 1<<10, 6)
	var res zfsReplicateJSON
	out = mustRun(t, nil, "zfs", "replicate", "--json", src, dst)
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Full || res.Common == "" || res.Bytes == 0 {
		t.Fatalf("second replicate: %v\n%s", err, out)
	}
	testutil.CompareTrees(t, sp.Path("data"), dp.Path("copy"), testutil.CompareOptions{IgnoreRootMtime: true})

	// A target with unrelated snapshots is refused, and nothing is left behind.
	other := dp.CreateDataset(t, "other", nil)
	if err := dp.Runner.Snapshot(context.Background(), []string{other + "@mine"}, false, nil); err != nil {
		t.Fatal(err)
	}
	before := zfsSnapNames(t, sp.Runner, src)
	_, errb, code := runCLI(t, nil, "zfs", "replicate", src, other)
	if code != exitFatal || !strings.Contains(errb, "none in common") || !strings.Contains(errb, "force") {
		t.Fatalf("no common snapshot: exit %d: %s", code, errb)
	}
	if after := zfsSnapNames(t, sp.Runner, src); !slices.Equal(before, after) {
		t.Fatalf("stray snapshots: before %v, after %v", before, after)
	}
	if _, errb, code := runCLI(t, nil, "zfs", "replicate", sp.Name+"/missing", dst); code != exitFatal || !strings.Contains(errb, "does not exist") {
		t.Fatalf("missing source: exit %d: %s", code, errb)
	}
	if _, errb, code := runCLI(t, nil, "zfs", "replicate", "--raw", src, dst); code != exitFatal {
		t.Fatalf("--raw: exit %d: %s", code, errb)
	} else {
		caps, _ := sp.Runner.Capabilities(context.Background())
		if !caps.RawSend && !strings.Contains(errb, "raw sends") {
			t.Fatalf("--raw on zfs-fuse: %s", errb)
		}
	}
}

func TestZFSReplicateCommandOverSSH(t *testing.T) {
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	sshd := testutil.StartSSHD(t, testutil.SSHDOptions{})
	src := sp.CreateDataset(t, "data", nil)
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("data"), "f"), 512<<10, 9)
	if err := sp.Runner.Snapshot(context.Background(), []string{src + "@only"}, false, nil); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, nil, "zfs", "replicate", "--no-snapshot", "-F", sshd.SSHConfigFile, src, sshd.Alias+":"+dp.Name+"/remote")
	if !strings.Contains(out, "full, latest @only") {
		t.Fatalf("replicate over ssh:\n%s", out)
	}
	if got := zfsSnapNames(t, dp.Runner, dp.Name+"/remote"); !slices.Equal(got, []string{"only"}) {
		t.Fatalf("remote snapshots %v", got)
	}
	testutil.CompareTrees(t, sp.Path("data"), dp.Path("remote"), testutil.CompareOptions{IgnoreRootMtime: true})
}
