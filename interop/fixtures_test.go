package interop_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestFixtureRepositories reads every repository restic's own test suite
// ships (and one from restic 0.19.1): hbackup lists and restores each
// intact one exactly as restic does, and reports damage without a panic.
func TestFixtureRepositories(t *testing.T) {
	intact := []string{"small-repo", "repo-layout-default", "repo-mixed", "repo-same-timestamps",
		"repo-restore-permissions-test", "repo-duplicates", "duplicate-packs-in-index-test-repo",
		"repo-obsolete-index", "copy-unstable-json", "repo-unreferenced-data", "restic-0.19.1-v2"}
	for _, name := range intact {
		t.Run(name, func(t *testing.T) {
			dir := testutil.Fixture(t, name)
			repoDir := filepath.Join(dir, "repo")
			hb := newHbackup(repoDir)
			restic := testutil.NewRestic(t, repoDir, "geheim")
			var hbSnaps, resticSnaps []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(hb.run(t, "snapshots", "--json"), &hbSnaps); err != nil {
				t.Fatal(err)
			}
			restic.RunJSON(t, &resticSnaps, "snapshots")
			if len(hbSnaps) != len(resticSnaps) || len(hbSnaps) == 0 {
				t.Fatalf("hbackup lists %d snapshots, restic %d", len(hbSnaps), len(resticSnaps))
			}
			for i := range hbSnaps {
				if hbSnaps[i].ID != resticSnaps[i].ID {
					t.Errorf("snapshot %d: hbackup %s, restic %s", i, hbSnaps[i].ID, resticSnaps[i].ID)
				}
			}
			// Restore every snapshot with both tools and compare.
			for _, sn := range hbSnaps {
				want := filepath.Join(t.TempDir(), "restic")
				got := filepath.Join(t.TempDir(), "hbackup")
				restic.Run(t, "restore", sn.ID, "--target", want)
				hb.run(t, "restore", sn.ID, "--target", got)
				testutil.CompareTrees(t, want, got, testutil.CompareOptions{IgnoreRootMtime: true, Owner: testutil.IsRoot()})
			}
		})
	}
}

// TestDamagedFixtures: hbackup fails with a message naming what is wrong,
// and never panics.
func TestDamagedFixtures(t *testing.T) {
	for _, name := range []string{"repo-data-missing", "repo-index-missing-blob", "repo-unused-data-missing", "repo-index-missing"} {
		t.Run(name, func(t *testing.T) {
			dir := testutil.Fixture(t, name)
			hb := newHbackup(filepath.Join(dir, "repo"))
			hb.run(t, "snapshots")
			out, errb, code := hb.runErr("restore", "latest", "--target", filepath.Join(t.TempDir(), "out"))
			if strings.Contains(string(errb), "panic") || strings.Contains(string(errb), "goroutine ") {
				t.Fatalf("hbackup panicked:\n%s", errb)
			}
			switch name {
			case "repo-unused-data-missing":
				// Only unused data is missing: the restore must succeed.
				if code != 0 {
					t.Fatalf("restore failed (%d):\n%s%s", code, out, errb)
				}
			default:
				if code == 0 {
					t.Fatalf("restore of damaged repository succeeded:\n%s", out)
				}
				if !strings.Contains(string(errb), "not found") && !strings.Contains(string(errb), "does not exist") && !strings.Contains(string(errb), "no such file") {
					t.Errorf("error does not say what is missing:\n%s", errb)
				}
			}
		})
	}
}

// TestExitCodes checks restic's documented exit codes.
func TestExitCodes(t *testing.T) {
	base := t.TempDir()
	repoDir := filepath.Join(base, "repo")
	hb := newHbackup(repoDir)
	if _, errb, code := hb.runErr("snapshots"); code != 10 {
		t.Errorf("missing repository: exit %d, want 10\n%s", code, errb)
	}
	hb.run(t, "init")
	wrong := &hbackup{repo: repoDir, password: "wrong"}
	if _, errb, code := wrong.runErr("snapshots"); code != 12 || !strings.Contains(string(errb), "wrong password") {
		t.Errorf("wrong password: exit %d, want 12\n%s", code, errb)
	}
	if _, errb, code := hb.runErr("backup", filepath.Join(base, "does-not-exist")); code != 1 || !strings.Contains(string(errb), "does-not-exist") {
		t.Errorf("missing source: exit %d, want 1 naming the path\n%s", code, errb)
	}
	if _, _, code := hb.runErr("no-such-command"); code != 1 {
		t.Errorf("unknown command: exit %d, want 1", code)
	}
	_ = os.WriteFile(filepath.Join(base, "pw"), []byte("geheim\n"), 0o600)
	viaFile := &hbackup{repo: repoDir, env: []string{"RESTIC_PASSWORD_FILE=" + filepath.Join(base, "pw")}}
	if _, errb, code := viaFile.runErr("snapshots"); code != 0 {
		t.Errorf("RESTIC_PASSWORD_FILE: exit %d\n%s", code, errb)
	}
}
