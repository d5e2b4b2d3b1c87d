package archiver_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/archiver"
)

func deviceOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Dev)
}

// A redirected path is recorded under its real name, with the content and
// metadata of the source, and the device ID of the live path.
func TestRedirectRecordsRealPath(t *testing.T) {
	ctx := context.Background()
	live := filepath.Join(t.TempDir(), "data")
	write(t, filepath.Join(live, "file.txt"), "live content")
	write(t, filepath.Join(live, "only-live"), "x")

	// The frozen copy lives on another file system where there is one
	// (/dev/shm is a tmpfs on Linux), so the device IDs differ.
	frozenBase := t.TempDir()
	if shm, err := os.MkdirTemp("/dev/shm", "hbackup-redirect-"); err == nil {
		frozenBase = shm
		t.Cleanup(func() { os.RemoveAll(shm) })
	}
	frozen := filepath.Join(frozenBase, "snap")
	write(t, filepath.Join(frozen, "file.txt"), "frozen content")
	write(t, filepath.Join(frozen, "sub", "deep.txt"), "deep")
	if err := os.Symlink("file.txt", filepath.Join(frozen, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(frozen, 0o750); err != nil {
		t.Fatal(err)
	}

	r, _ := newRepo(t)
	res, err := archiver.Backup(ctx, r, archiver.Options{
		Paths:     []string{live},
		Redirects: []archiver.Redirect{{Path: live, Source: frozen}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Snapshot.Paths; len(got) != 1 || got[0] != live {
		t.Fatalf("snapshot paths %v, want [%s]", got, live)
	}
	got := paths(t, r, *res.Snapshot.Tree, live)
	want := []string{"/file.txt", "/link", "/sub", "/sub/deep.txt"}
	if len(got) != len(want) {
		t.Fatalf("tree below %s: %v, want %v", live, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tree below %s: %v, want %v", live, got, want)
		}
	}

	// Walk to the target's node and check content, mode and device IDs.
	liveDev := deviceOf(t, live)
	var dataNode *snapshot.Node
	tree, err := snapshot.LoadTree(ctx, r, *res.Snapshot.Tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range splitPath(live) {
		n := tree.Find(comp)
		if n == nil {
			t.Fatalf("no node %q on the way to %s", comp, live)
		}
		dataNode = n
		if tree, err = snapshot.LoadTree(ctx, r, *n.Subtree); err != nil {
			t.Fatal(err)
		}
	}
	if dataNode.Mode.Perm() != 0o750 {
		t.Errorf("target mode %v, want the source's 0750", dataNode.Mode)
	}
	if dataNode.DeviceID != liveDev {
		t.Errorf("target device %d, want the live path's %d", dataNode.DeviceID, liveDev)
	}
	f := tree.Find("file.txt")
	if f == nil || f.Size != uint64(len("frozen content")) {
		t.Fatalf("file.txt node %+v, want the frozen copy's size", f)
	}
	if f.DeviceID != liveDev {
		t.Errorf("file device %d, want %d", f.DeviceID, liveDev)
	}
	if l := tree.Find("link"); l == nil || l.LinkTarget != "file.txt" {
		t.Errorf("symlink node %+v", l)
	}
	data, err := r.LoadBlob(ctx, repo.DataBlob, f.Content[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "frozen content" {
		t.Errorf("content %q, want the frozen copy's", data)
	}
}

// An explicit DeviceID is recorded for every node of the source.
func TestRedirectExplicitDevice(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	live := filepath.Join(base, "live")
	frozen := filepath.Join(base, "frozen")
	write(t, filepath.Join(frozen, "a"), "a")
	if err := os.Mkdir(live, 0o755); err != nil {
		t.Fatal(err)
	}
	r, _ := newRepo(t)
	res, err := archiver.Backup(ctx, r, archiver.Options{
		Paths:     []string{live},
		Redirects: []archiver.Redirect{{Path: live, Source: frozen, DeviceID: 4242}},
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	var walk func(id *snapshot.Node, path string)
	walk = func(n *snapshot.Node, path string) {
		if path == live || len(path) > len(live) && path[:len(live)+1] == live+"/" {
			seen++
			if n.DeviceID != 4242 {
				t.Errorf("%s: device %d, want 4242", path, n.DeviceID)
			}
		}
		if n.Subtree == nil {
			return
		}
		tr, err := snapshot.LoadTree(ctx, r, *n.Subtree)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tr.Nodes {
			walk(c, path+"/"+c.Name)
		}
	}
	walk(&snapshot.Node{Subtree: res.Snapshot.Tree}, "")
	if seen != 2 {
		t.Errorf("saw %d nodes below %s, want 2", seen, live)
	}
}

func TestRedirectNeedsAbsolutePaths(t *testing.T) {
	r, _ := newRepo(t)
	_, err := archiver.Backup(context.Background(), r, archiver.Options{
		Paths:     []string{t.TempDir()},
		Redirects: []archiver.Redirect{{Path: "rel", Source: t.TempDir()}},
	})
	if err == nil {
		t.Fatal("relative redirect accepted")
	}
}

func splitPath(p string) []string {
	var out []string
	for dir := filepath.Clean(p); dir != "/"; dir = filepath.Dir(dir) {
		out = append([]string{filepath.Base(dir)}, out...)
	}
	return out
}
