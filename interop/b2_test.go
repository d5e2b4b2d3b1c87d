package interop_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// b2Faults are the transient faults the end-to-end test injects.
var b2Faults = []testutil.B2FaultKind{
	testutil.B2Fault503, testutil.B2Fault429, testutil.B2Fault500, testutil.B2FaultExpireToken,
	testutil.B2FaultDropConnection, testutil.B2FaultTruncateDownload, testutil.B2FaultCorruptUpload,
	testutil.B2FaultCorruptDownload,
}

// newB2Hbackup runs the CLI against the emulator: restic's b2:bucket:path
// location, credentials in restic's variables, the endpoint as an option.
func newB2Hbackup(emu *testutil.B2Emulator, loc string) (*hbackup, []string) {
	hb := newHbackup(loc)
	hb.env = []string{"B2_ACCOUNT_ID=" + emu.AccountID, "B2_ACCOUNT_KEY=" + emu.Key}
	return hb, []string{"-o", "b2.endpoint=" + emu.URL, "-o", "b2.connections=3"}
}

// TestB2BackupRestoreWithFaults: init, backup and restore through the
// CLI against the B2 emulator while it injects every transient fault
// kind; the restored tree equals the source. restic cannot be pointed at
// the emulator (it only talks to B2's own endpoints), so compatibility
// with restic rests on the shared repository format, which the other
// interop tests prove backend by backend.
func TestB2BackupRestoreWithFaults(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{Buckets: []string{"hass-backup"}, RestrictToBucket: "hass-backup"})
	base := t.TempDir()
	src := filepath.Join(base, "src")
	info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 41})
	hb, opts := newB2Hbackup(emu, "b2:hass-backup:/host")

	hb.run(t, append(opts, "init")...)
	// Each kind at least once (the next request it applies to), then
	// at random.
	for _, k := range b2Faults {
		emu.Inject(k, "", 1)
	}
	emu.InjectRandom(0.05, 41, b2Faults...)
	sum := hb.backupJSON(t, append(opts, "--tag", "b2", src)...)
	if sum["files_new"].(float64) == 0 {
		t.Fatalf("backup stored no files: %v", sum)
	}
	target := filepath.Join(base, "restored")
	hb.run(t, append(opts, "restore", "latest", "--target", target, "--verify")...)
	testutil.CompareTrees(t, src, filepath.Join(target, src), testutil.CompareOptions{Owner: info.Chown, Xattrs: info.Xattrs})

	var sns []map[string]any
	if err := json.Unmarshal(hb.run(t, append(opts, "snapshots", "--json")...), &sns); err != nil || len(sns) != 1 {
		t.Fatalf("snapshots --json: %v, %v", sns, err)
	}
	observed := 0
	for _, k := range b2Faults {
		if emu.Observed(k) == 0 {
			t.Errorf("no %v fault was injected", k)
		}
		observed += emu.Observed(k)
	}
	t.Logf("%d faults injected", observed)
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("hbackup broke B2's rules: %v", v)
	}
	for _, name := range emu.Names("hass-backup") {
		if !strings.HasPrefix(name, "host/") {
			t.Errorf("file %q outside the repository prefix", name)
		}
	}
	// The lock of every command was removed with all its versions.
	for _, name := range emu.Names("hass-backup") {
		if strings.HasPrefix(name, "host/locks/") {
			t.Errorf("lock %s left behind: %v", name, emu.Versions("hass-backup", name))
		}
	}
}

// TestB2Errors: an existing repository is not re-created, missing
// credentials and a key for another bucket fail clearly, and an empty
// location reports a missing repository with restic's exit code.
func TestB2Errors(t *testing.T) {
	emu := testutil.StartB2Emulator(t, testutil.B2EmuOptions{Buckets: []string{"b1", "b2"}, RestrictToBucket: "b1"})
	hb, opts := newB2Hbackup(emu, "b2:b1")
	hb.run(t, append(opts, "init")...)
	if _, stderr, code := hb.runErr(append(opts, "init")...); code == 0 {
		t.Errorf("second init succeeded:\n%s", stderr)
	}

	other, _ := newB2Hbackup(emu, "b2:b2:repo")
	_, stderr, code := other.runErr(append(opts, "snapshots")...)
	if code == 0 || !strings.Contains(string(stderr), "restricted to bucket") {
		t.Errorf("key for another bucket: exit %d, stderr:\n%s", code, stderr)
	}

	empty, _ := newB2Hbackup(emu, "b2:b1:nothing-here")
	if _, stderr, code := empty.runErr(append(opts, "snapshots")...); code != 10 {
		t.Errorf("snapshots of a missing repository: exit %d, want 10; stderr:\n%s", code, stderr)
	}

	noCreds, _ := newB2Hbackup(emu, "b2:b1")
	noCreds.env = []string{"B2_ACCOUNT_ID=", "B2_ACCOUNT_KEY="}
	if _, stderr, code := noCreds.runErr(append(opts, "snapshots")...); code == 0 || !strings.Contains(string(stderr), "B2_ACCOUNT_ID") {
		t.Errorf("without credentials: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(string(stderr), emu.Key) {
		t.Errorf("an error shows the key:\n%s", stderr)
	}
}
