package interop_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// snapInfo is what the repair and rewrite tests read of restic's
// `snapshots --json`.
type snapInfo struct {
	ID       string   `json:"id"`
	Tree     string   `json:"tree"`
	Hostname string   `json:"hostname"`
	Paths    []string `json:"paths"`
	Tags     []string `json:"tags"`
	Original string   `json:"original"`
	Time     string   `json:"time"`
}

func resticSnapshots(t *testing.T, r *testutil.Restic, args ...string) []snapInfo {
	t.Helper()
	var sns []snapInfo
	r.RunJSON(t, &sns, append([]string{"snapshots"}, args...)...)
	return sns
}

// requireResticCheck runs restic check --read-data and fails unless it
// finds no errors; it returns restic's stdout.
func requireResticCheck(t *testing.T, r *testutil.Restic) string {
	t.Helper()
	stdout, stderr, code := r.RunErr("check", "--read-data")
	if code != 0 || !strings.Contains(string(stdout), "no errors were found") {
		t.Fatalf("restic check --read-data: exit %d\n%s%s", code, stdout, stderr)
	}
	return string(stdout)
}

// restoreBoth restores snapshot id with restic and with hbackup, checks
// that both give the same tree and returns restic's restore of src.
func restoreBoth(t *testing.T, r *testutil.Restic, repoDir, id, src string) string {
	t.Helper()
	rTarget, hTarget := t.TempDir(), t.TempDir()
	r.Run(t, "restore", id, "--target", rTarget)
	newHbackup(repoDir).run(t, "restore", id, "--target", hTarget)
	testutil.CompareTrees(t, filepath.Join(rTarget, src), filepath.Join(hTarget, src), testutil.CompareOptions{})
	return filepath.Join(rTarget, src)
}

// listFiles returns the names of the files of type t in the repository.
func listFiles(t *testing.T, repoDir string, ft backend.FileType) []string {
	t.Helper()
	r := openRepo(t, repoDir)
	var out []string
	if err := r.List(context.Background(), ft, func(id repo.ID, _ int64) error {
		out = append(out, id.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// packOf returns the pack holding the first blob of the file at p (a
// path inside the snapshot's tree, such as "/tmp/x/src/big"), and the
// paths of all files of the snapshot with a blob in that pack.
func packOf(t *testing.T, repoDir, snapID, p string) (pack string, damaged []string) {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, repoDir)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := r.FindID(ctx, backend.SnapshotFile, snapID)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := snapshot.Load(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	n, err := snapshot.FindNode(ctx, r, *sn.Tree, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Content) == 0 {
		t.Fatalf("%s has no content", p)
	}
	pb := r.Index().Lookup(repo.BlobHandle{ID: n.Content[0], Type: repo.DataBlob})
	packID := pb[0].PackID
	err = snapshot.Walk(ctx, r, *sn.Tree, "/", func(fp string, n *snapshot.Node) (bool, error) {
		for _, b := range n.Content {
			for _, c := range r.Index().Lookup(repo.BlobHandle{ID: b, Type: repo.DataBlob}) {
				if c.PackID == packID && !slices.Contains(damaged, fp) {
					damaged = append(damaged, fp)
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return packID.String(), damaged
}

// removePack deletes data/xx/<id>.
func removePack(t *testing.T, repoDir, id string) {
	t.Helper()
	if err := os.Remove(filepath.Join(repoDir, "data", id[:2], id)); err != nil {
		t.Fatal(err)
	}
}

// noRawLink removes the symlink with a non-UTF-8 target, which restic
// 0.14 restores lossily (it predates linktarget_raw), so that trees
// restored by both tools compare equal.
func noRawLink(t *testing.T) func(src string) {
	return func(src string) {
		if err := os.Remove(filepath.Join(src, "links", "non-utf8-target")); err != nil {
			t.Fatal(err)
		}
	}
}

// rootTreePack returns the pack holding the root tree of a snapshot.
func rootTreePack(t *testing.T, repoDir, snapID string) string {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, repoDir)
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := r.FindID(ctx, backend.SnapshotFile, snapID)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := snapshot.Load(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	pb := r.Index().Lookup(repo.BlobHandle{ID: *sn.Tree, Type: repo.TreeBlob})
	if len(pb) == 0 {
		t.Fatal("root tree not indexed")
	}
	return pb[0].PackID.String()
}
