package interop_test

import (
	"context"

	"encoding/json"
	"github.com/hbackup/hbackup/repo"
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
			checkIndexAgainstPacks(t, repoDir)
			if len(hbSnaps) != len(resticSnaps) {
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
				compareRestored(t, restic, want, got, testutil.CompareOptions{IgnoreRootMtime: true, Owner: testutil.IsRoot()})
			}
		})
	}
}

// TestDamagedFixtures: restoring a snapshot whose data is missing fails
// with a message naming what is missing, and never panics; snapshots that
// are intact still restore.
func TestDamagedFixtures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		wantBroken bool // at least one snapshot cannot be restored
	}{
		{"repo-data-missing", true},
		{"repo-index-missing-blob", true},
		{"repo-index-missing", true},
		{"repo-unused-data-missing", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testutil.Fixture(t, tc.name)
			hb := newHbackup(filepath.Join(dir, "repo"))
			var snaps []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(hb.run(t, "snapshots", "--json"), &snaps); err != nil {
				t.Fatal(err)
			}
			broken := 0
			for _, sn := range snaps {
				out, errb, code := hb.runErr("restore", sn.ID, "--target", filepath.Join(t.TempDir(), "out"))
				if strings.Contains(string(errb), "panic") || strings.Contains(string(errb), "goroutine ") {
					t.Fatalf("hbackup panicked:\n%s", errb)
				}
				if code == 0 {
					continue
				}
				broken++
				if code != 1 || !(strings.Contains(string(errb), "not found") || strings.Contains(string(errb), "does not exist")) {
					t.Errorf("restore %s: exit %d; the error does not say what is missing:\n%s%s", sn.ID[:8], code, out, errb)
				}
			}
			if tc.wantBroken && broken == 0 {
				t.Errorf("every snapshot of a damaged repository restored without error")
			}
			if !tc.wantBroken && broken > 0 {
				t.Errorf("%d snapshots failed although only unused data is missing", broken)
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

// checkIndexAgainstPacks opens a repository with the library and checks
// that every indexed blob is in its pack's header at the same place.
func checkIndexAgainstPacks(t *testing.T, repoDir string) {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, repoDir)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	indexed := 0
	for packID := range r.Index().Packs() {
		hdr, err := r.ReadPackHeader(ctx, packID, 0)
		if err != nil {
			t.Errorf("pack %v: %v", packID.Str(), err)
			continue
		}
		inHeader := map[repo.PackedBlob]bool{}
		for _, pb := range hdr {
			inHeader[pb] = true
		}
		r.Index().Each(func(pb repo.PackedBlob) {
			if pb.PackID == packID {
				indexed++
				if !inHeader[pb] {
					t.Errorf("index entry %+v not in pack header", pb)
				}
			}
		})
	}
	if indexed == 0 {
		t.Error("index lists no blobs")
	}
}
