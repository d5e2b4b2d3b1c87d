package interop_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
)

type resticConfig struct {
	Version    int    `json:"version"`
	ID         string `json:"id"`
	Polynomial string `json:"chunker_polynomial"`
}

func catConfig(t *testing.T, r *testutil.Restic) resticConfig {
	t.Helper()
	var c resticConfig
	r.RunJSON(t, &c, "cat", "config")
	return c
}

// TestMigrateUpgradeRepoV2: a version 1 repository written by restic is
// upgraded by hbackup; ID and polynomial stay, restic checks every byte,
// backs up with compression afterwards, and both tools restore both
// snapshots. A second migration is refused, as restic refuses it.
func TestMigrateUpgradeRepoV2(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 5})
	noRawLink(t)(src)
	repoDir := filepath.Join(base, "repo")
	restic := testutil.NewRestic(t, repoDir, "geheim")
	hb := newHbackup(repoDir)
	resticInit(t, restic, "--repository-version", "1")
	restic.Run(t, "backup", "--host", "v1", src)
	old := catConfig(t, restic)
	if old.Version != 1 {
		t.Fatalf("restic wrote version %d", old.Version)
	}

	if out := hb.run(t, "migrate"); !strings.Contains(string(out), "upgrade_repo_v2") {
		t.Fatalf("migrate lists:\n%s", out)
	}
	out := hb.run(t, "migrate", "upgrade_repo_v2")
	for _, want := range []string{"checking repository integrity", "no errors were found", "migration upgrade_repo_v2: success"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("migrate output lacks %q:\n%s", want, out)
		}
	}
	now := catConfig(t, restic)
	if now.Version != 2 || now.ID != old.ID || now.Polynomial != old.Polynomial {
		t.Fatalf("config after migration %+v, before %+v", now, old)
	}
	requireResticCheck(t, restic)

	// restic compresses new data now: a text file of repeated lines.
	text := strings.Repeat("compress me, I repeat myself\n", 100000)
	if err := os.WriteFile(filepath.Join(src, "text-v2"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	restic.Run(t, "backup", "--host", "v2", "--compression", "max", src)
	requireResticCheck(t, restic)
	r := openRepo(t, repoDir)
	ctx := context.Background()
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	compressed := 0
	r.Index().Each(func(pb repo.PackedBlob) {
		if pb.UncompressedLength != 0 {
			compressed++
		}
	})
	if r.Config().Version != 2 || compressed == 0 {
		t.Fatalf("hbackup sees version %d and %d compressed blobs", r.Config().Version, compressed)
	}
	for _, sn := range resticSnapshots(t, restic) {
		restored := restoreBoth(t, restic, repoDir, sn.ID, src)
		if sn.Hostname == "v2" {
			testutil.CompareTrees(t, src, restored, testutil.CompareOptions{IgnoreRootMtime: true})
		}
	}
	hb.run(t, "backup", "-q", src)
	requireResticCheck(t, restic)

	if out := hb.run(t, "migrate"); strings.Contains(string(out), "upgrade_repo_v2") {
		t.Fatalf("migrate still offers the upgrade:\n%s", out)
	}
	_, stderr, code := hb.runErr("migrate", "upgrade_repo_v2")
	if code != 0 || !strings.Contains(string(stderr), "repository is already upgraded to version 2") {
		t.Fatalf("second migration: exit %d\n%s", code, stderr)
	}
}

// TestMigrateRefusesDamagedRepository: the check before the upgrade
// finds a missing pack, so the config stays at version 1.
func TestMigrateRefusesDamagedRepository(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteRandomFile(t, filepath.Join(src, "big"), 3<<20, 1)
	repoDir := filepath.Join(base, "repo")
	restic := testutil.NewRestic(t, repoDir, "geheim")
	resticInit(t, restic, "--repository-version", "1")
	restic.Run(t, "backup", src)
	sn := resticSnapshots(t, restic)[0]
	pack, _ := packOf(t, repoDir, sn.ID, src+"/big")
	removePack(t, repoDir, pack)

	_, stderr, code := newHbackup(repoDir).runErr("migrate", "upgrade_repo_v2")
	if code != 1 || !strings.Contains(string(stderr), "repository contains errors") {
		t.Fatalf("migrate of a damaged repository: exit %d\n%s", code, stderr)
	}
	if v := catConfig(t, restic).Version; v != 1 {
		t.Fatalf("config version %d after a refused migration", v)
	}
}
