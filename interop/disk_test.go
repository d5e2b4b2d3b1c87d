package interop_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// mountTmpfs mounts a small tmpfs at dir for the test's duration.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// TestFullAndReadOnlyRepository: a backup into a repository whose disk
// fills up fails with a message saying so, and leaves the repository
// consistent for restic; a read-only repository is reported clearly.
func TestFullAndReadOnlyRepository(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		testutil.WriteRandomFile(t, filepath.Join(src, "f"+string(rune('a'+i))), 3<<20, int64(i))
	}
	mnt := filepath.Join(base, "disk")
	mountTmpfs(t, mnt, "8m")
	repoDir := filepath.Join(mnt, "repo")
	hb := newHbackup(repoDir)
	hb.run(t, "init")
	restic := testutil.NewRestic(t, repoDir, "geheim")
	restic.Run(t, "backup", filepath.Join(src, "fa")) // some data that must survive

	_, errb, code := hb.runErr("backup", "--pack-size", "4", src)
	if code != 1 || !strings.Contains(string(errb), "no space left on device") {
		t.Fatalf("backup onto a full disk: exit %d, want 1 with the reason\n%s", code, errb)
	}
	if n := countTemp(t, repoDir); n != 0 {
		t.Errorf("%d temporary files left in the repository", n)
	}
	out := restic.Run(t, "check", "--read-data")
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check after a full disk:\n%s", out)
	}
	restic.Run(t, "restore", "latest", "--target", filepath.Join(base, "out"))

	// Read-only: remount and try again.
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	_, errb, code = hb.runErr("backup", filepath.Join(src, "fb"))
	if code != 1 || !strings.Contains(string(errb), "read-only file system") {
		t.Fatalf("backup into a read-only repository: exit %d\n%s", code, errb)
	}
	// Reading still works.
	hb.run(t, "snapshots", "--no-lock")
}

func countTemp(t *testing.T, dir string) int {
	n := 0
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), "-tmp-") {
			n++
		}
		return nil
	})
	return n
}
