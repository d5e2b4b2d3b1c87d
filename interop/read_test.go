package interop_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
			resticInit(t, restic, "--repository-version", version)
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
			compareRestored(t, restic, src, filepath.Join(target, src), testutil.CompareOptions{
				Owner: info.Chown, Xattrs: info.Xattrs,
			})

			// Sub-folder restore puts the folder's content in the target.
			subTarget := filepath.Join(base, "sub")
			shortID := sns[0]["short_id"].(string)
			hb.run(t, "restore", shortID+":"+filepath.Join(src, "dirs"), "--target", subTarget)
			// The target directory itself is created 0700, as restic does;
			// only its content comes from the snapshot.
			if err := os.Chmod(subTarget, 0o755); err != nil {
				t.Fatal(err)
			}
			testutil.CompareTrees(t, filepath.Join(src, "dirs"), subTarget, testutil.CompareOptions{IgnoreRootMtime: true, Owner: info.Chown, Xattrs: info.Xattrs})
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
	resticInit(t, restic)
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
	r := openRepo(t, repoDir)
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
	// Every directory's tree must be byte-identical to restic's, except
	// nodes restic older than 0.16 cannot store exactly (linktarget_raw),
	// and the directories above them.
	var srcTrees []repo.ID
	for _, sn := range sns {
		id, err := snapshot.FindSubtree(ctx, r, *sn.Tree, src)
		if err != nil {
			t.Fatal(err)
		}
		srcTrees = append(srcTrees, id)
	}
	if srcTrees[1] != srcTrees[2] {
		t.Errorf("hbackup with and without parent wrote different trees: %v, %v", srcTrees[1].Str(), srcTrees[2].Str())
	}
	diffs, err := diffTrees(ctx, r, srcTrees[0], srcTrees[1], src)
	if err != nil {
		t.Fatal(err)
	}
	oldRestic := !storesRawLinkTargets(t, restic)
	for _, d := range diffs {
		rawLink := strings.Contains(d, `"linktarget_raw"`) && strings.HasPrefix(d, src+"/links/non-utf8-target:")
		if oldRestic && rawLink {
			continue
		}
		t.Errorf("tree differs from restic's: %s", d)
	}
	if oldRestic && len(diffs) != 1 {
		t.Errorf("expected exactly the non-UTF-8 symlink to differ from restic %s, got %d differences", restic.Version(t), len(diffs))
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
