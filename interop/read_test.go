package interop_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// TestResticWritesHbackupReads restores with hbackup what restic backed up.
func TestResticWritesHbackupReads(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		t.Run("v"+version, func(t *testing.T) {
			base := t.TempDir()
			src := filepath.Join(base, "src")
			info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 11, Special: true})
			repoDir := filepath.Join(base, "repo")
			restic := testutil.NewRestic(t, repoDir, "geheim")
			restic.Run(t, "init", "--repository-version", version)
			restic.Run(t, "backup", "--tag", "fromrestic", src)

			hb := newHbackup(repoDir)
			var sns []map[string]any
			if err := json.Unmarshal(hb.run(t, "snapshots", "--json"), &sns); err != nil {
				t.Fatal(err)
			}
			if len(sns) != 1 || sns[0]["tags"].([]any)[0] != "fromrestic" {
				t.Fatalf("hbackup snapshots --json: %v", sns)
			}
			target := filepath.Join(base, "restored")
			hb.run(t, "restore", "latest", "--target", target, "--verify")
			testutil.CompareTrees(t, src, filepath.Join(target, src), testutil.CompareOptions{
				Owner: info.Chown, Xattrs: info.Xattrs,
			})

			// Sub-folder restore puts the folder's content in the target.
			subTarget := filepath.Join(base, "sub")
			shortID := sns[0]["short_id"].(string)
			hb.run(t, "restore", shortID+":"+filepath.Join(src, "dir"), "--target", subTarget)
			testutil.CompareTrees(t, filepath.Join(src, "dir"), subTarget, testutil.CompareOptions{IgnoreRootMtime: true, Owner: info.Chown, Xattrs: info.Xattrs})
		})
	}
}

// TestMixedUse: restic backs up, hbackup backs up the same tree on top
// (no new data, identical tree IDs), then restic again on top of that.
func TestMixedUse(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 5, Special: true})
	repoDir := filepath.Join(base, "repo")
	restic := testutil.NewRestic(t, repoDir, "geheim")
	restic.Run(t, "init")
	restic.Run(t, "backup", "--host", "mixed", src)

	hb := newHbackup(repoDir)
	sum := hb.backupJSON(t, "--host", "mixed", src)
	if sum["data_blobs"].(float64) != 0 {
		t.Errorf("hbackup stored %v new data blobs for data restic already stored", sum["data_blobs"])
	}
	if sum["files_unmodified"].(float64) == 0 || sum["files_new"].(float64) != 0 {
		t.Errorf("hbackup did not use restic's snapshot as parent: %v", sum)
	}
	// With the parent ignored, every file is read again, and still no
	// new data and the same trees appear.
	sum = hb.backupJSON(t, "--host", "mixed", "--force", src)
	if sum["data_blobs"].(float64) != 0 {
		t.Errorf("forced hbackup backup stored %v new data blobs", sum["data_blobs"])
	}

	// Compare the tree IDs of the source directory in all snapshots.
	ctx := context.Background()
	be, err := local.New(repoDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, be, "geheim", repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sns, err := snapshot.LoadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sns) != 3 {
		t.Fatalf("want 3 snapshots, got %d", len(sns))
	}
	var ids []repo.ID
	for _, sn := range sns {
		id, err := snapshot.FindSubtree(ctx, r, *sn.Tree, src)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != ids[1] || ids[0] != ids[2] {
		t.Errorf("tree IDs of %s differ: restic %v, hbackup %v, hbackup --force %v", src, ids[0].Str(), ids[1].Str(), ids[2].Str())
	}

	out := restic.Run(t, "backup", "--host", "mixed", src)
	if !strings.Contains(string(out), "using parent snapshot "+sns[2].ID().Str()) {
		t.Errorf("restic did not use hbackup's snapshot as parent:\n%s", out)
	}
	if !strings.Contains(string(out), "0 new,") {
		t.Errorf("restic found new files after hbackup's backup:\n%s", out)
	}
	restic.Run(t, "check", "--read-data")
}
