package interop_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestInterruptedBackup stops a backup halfway with SIGINT and with
// SIGKILL: restic check passes afterwards, and the next backup completes
// and reuses what an orderly interrupt uploaded.
func TestInterruptedBackup(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			base := t.TempDir()
			src := filepath.Join(base, "src")
			if err := os.MkdirAll(src, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 40; i++ {
				testutil.WriteRandomFile(t, filepath.Join(src, "f"+string(rune('A'+i))), 3<<20, int64(i))
			}
			repoDir := filepath.Join(base, "repo")
			hb := newHbackup(repoDir)
			hb.run(t, "init")
			restic := testutil.NewRestic(t, repoDir, "geheim")

			cmd := exec.Command(hbackupBin, "-r", repoDir, "backup", "--pack-size", "4", src)
			cmd.Env = append(cleanEnv(), "RESTIC_PASSWORD=geheim")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until a few packs are on disk, then interrupt.
			deadline := time.Now().Add(60 * time.Second)
			for countPacks(t, repoDir) < 3 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			_ = cmd.Process.Signal(sig)
			err := cmd.Wait()
			if err == nil {
				t.Skip("backup finished before it could be interrupted")
			}
			if sig == syscall.SIGINT {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
					t.Fatalf("interrupted backup: %v, want exit 130\n%s", err, stderr.String())
				}
			}
			snaps := restic.Run(t, "snapshots", "--json")
			if strings.TrimSpace(string(snaps)) != "[]" {
				t.Fatalf("interrupted backup left a snapshot: %s", snaps)
			}
			if sig == syscall.SIGKILL {
				// A killed process leaves its lock behind, as restic does.
				restic.Run(t, "unlock")
			}
			out := restic.Run(t, "check", "--read-data")
			if !strings.Contains(string(out), "no errors were found") {
				t.Fatalf("restic check after interruption:\n%s", out)
			}
			sum := hb.backupJSON(t, src)
			if sig == syscall.SIGINT && sum["data_added"].(float64) >= float64(40*3<<20) {
				t.Errorf("second backup re-uploaded everything (%v bytes): data uploaded before the interrupt was not indexed", sum["data_added"])
			}
			restic.Run(t, "check")
			target := filepath.Join(base, "out")
			restic.Run(t, "restore", "latest", "--target", target)
			testutil.CompareTrees(t, src, filepath.Join(target, src), testutil.CompareOptions{})
		})
	}
}

func countPacks(t *testing.T, repoDir string) int {
	n := 0
	_ = filepath.Walk(filepath.Join(repoDir, "data"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && !strings.Contains(p, "-tmp-") {
			n++
		}
		return nil
	})
	return n
}

// TestUnreadableSourceExitCode3 runs a backup as an unprivileged user over
// a tree with an unreadable file: the snapshot is written, the file is
// named, and the exit code is 3, as restic's.
func TestUnreadableSourceExitCode3(t *testing.T) {
	setpriv := testutil.RequireBinary(t, "setpriv")
	if !testutil.IsRoot() {
		t.Skip("needs root to switch to an unprivileged user")
	}
	base, err := os.MkdirTemp("", "hbackup-exit3-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	bin := filepath.Join(base, "hbackup")
	data, err := os.ReadFile(hbackupBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(base, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(src, "readable"), []byte("ok"), 0o644)
	_ = os.WriteFile(filepath.Join(src, "unreadable"), []byte("no"), 0o000)
	repoDir := filepath.Join(base, "repo")
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	asNobody := func(args ...string) (string, int) {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin, "-r", repoDir}, args...)...)
		cmd.Env = append(cleanEnv(), "RESTIC_PASSWORD=geheim", "HOME="+base)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := asNobody("init"); code != 0 {
		t.Fatalf("init: %d\n%s", code, out)
	}
	out, code := asNobody("backup", src)
	if code != 3 || !strings.Contains(out, filepath.Join(src, "unreadable")) {
		t.Fatalf("backup with an unreadable file: exit %d, want 3 naming the file\n%s", code, out)
	}
	ls, code := asNobody("ls", "latest")
	if code != 0 || !strings.Contains(ls, "/readable") || strings.Contains(ls, "/unreadable") {
		t.Fatalf("snapshot content (exit %d):\n%s", code, ls)
	}
	restic := testutil.NewRestic(t, repoDir, "geheim")
	restic.Run(t, "check", "--read-data")
}
