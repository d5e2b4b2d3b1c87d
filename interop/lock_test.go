package interop_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestLocksSharedWithRestic: each tool respects the other's exclusive
// lock, and hbackup unlock removes a stale lock restic left behind.
func TestLocksSharedWithRestic(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o644)
	repoDir := filepath.Join(base, "repo")
	hb := newHbackup(repoDir)
	hb.run(t, "init")
	restic := testutil.NewRestic(t, repoDir, "geheim")

	restic.Run(t, "backup", src)
	locksBefore := listLocks(t, repoDir)
	if len(locksBefore) != 0 {
		t.Fatalf("restic left %d locks", len(locksBefore))
	}

	// An exclusive lock written by hbackup's code (of a process on this
	// host that no longer exists): restic must read and respect it, and
	// so must hbackup.
	writeDeadLock(t, repoDir)
	_, stderr, code := restic.RunErr("check")
	if code == 0 || !strings.Contains(string(stderr), "locked") {
		t.Fatalf("restic check ignored hbackup's exclusive lock: %d\n%s", code, stderr)
	}
	_, errb, code := hb.runErr("backup", src)
	if code != 11 || !strings.Contains(string(errb), "locked") {
		t.Fatalf("hbackup backup with an exclusive lock present: exit %d, want 11\n%s", code, errb)
	}
	// The planted lock is from a dead process on this host: stale, so
	// unlock removes it, and restic agrees the repository is free.
	out := hb.run(t, "unlock")
	if !strings.Contains(string(out), "removed 1 locks") {
		t.Fatalf("unlock: %s", out)
	}
	restic.Run(t, "check")
}

func listLocks(t *testing.T, repoDir string) []string {
	entries, err := os.ReadDir(filepath.Join(repoDir, "locks"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
