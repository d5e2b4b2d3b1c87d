package interop_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// copyRepo is one repository of a copy test with its own password.
type copyRepo struct {
	dir, password, pwFile string
	restic                *testutil.Restic
	hb                    *hbackup
}

func newCopyRepo(t *testing.T, base, name, password string) *copyRepo {
	t.Helper()
	c := &copyRepo{dir: filepath.Join(base, name), password: password, pwFile: filepath.Join(base, name+".pw")}
	if err := os.WriteFile(c.pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.restic = testutil.NewRestic(t, c.dir, password)
	c.hb = newHbackup(c.dir)
	c.hb.password = password
	return c
}

// resticSnapshot is what the copy tests need of restic's snapshot JSON.
type resticSnapshot struct {
	ID       string   `json:"id"`
	Original string   `json:"original"`
	Paths    []string `json:"paths"`
	Tags     []string `json:"tags"`
}

func (c *copyRepo) snapshots(t *testing.T) []resticSnapshot {
	t.Helper()
	var sns []resticSnapshot
	c.restic.RunJSON(t, &sns, "snapshots")
	return sns
}

// checkAll runs restic check --read-data, which must find no errors.
func (c *copyRepo) checkAll(t *testing.T) {
	t.Helper()
	out := c.restic.Run(t, "check", "--read-data")
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check %s:\n%s", c.dir, out)
	}
}

// assertCopies checks that dst holds a copy of every snapshot of src
// (by original ID) and that restic restores each copy exactly as the
// source snapshot.
func assertCopies(t *testing.T, src, dst *copyRepo) {
	t.Helper()
	base := t.TempDir()
	byOriginal := make(map[string]string)
	for _, sn := range dst.snapshots(t) {
		byOriginal[sn.Original] = sn.ID
	}
	srcSnaps := src.snapshots(t)
	for i, sn := range srcSnaps {
		persistent := sn.ID
		if sn.Original != "" {
			persistent = sn.Original
		}
		copyID, ok := byOriginal[persistent]
		if !ok {
			t.Fatalf("snapshot %s of %s has no copy in %s", sn.ID[:8], src.dir, dst.dir)
		}
		want := filepath.Join(base, "restore-src-"+sn.ID[:8])
		got := filepath.Join(base, "restore-dst-"+copyID[:8])
		src.restic.Run(t, "restore", sn.ID, "--target", want)
		dst.restic.Run(t, "restore", copyID, "--target", got)
		testutil.CompareTrees(t, want, got, testutil.CompareOptions{IgnoreRootMtime: true, Owner: testutil.IsRoot(), Xattrs: true})
		if i > 2 {
			break // restoring a few is enough
		}
	}
	if n := len(dst.snapshots(t)); n != len(srcSnaps) {
		t.Errorf("%s has %d snapshots, source has %d", dst.dir, n, len(srcSnaps))
	}
}

// resticCopyNothing runs restic's copy from src to dst and fails if it
// copied anything.
func resticCopyNothing(t *testing.T, src, dst *copyRepo) {
	t.Helper()
	before := len(dst.snapshots(t))
	out := dst.restic.Run(t, "copy", "--from-repo", src.dir, "--from-password-file", src.pwFile)
	if strings.Contains(string(out), "copy started") || len(dst.snapshots(t)) != before {
		t.Fatalf("restic copy copied again:\n%s", out)
	}
}

// hbackupCopy runs hbackup copy into dst and returns its stdout.
func hbackupCopy(t *testing.T, src, dst *copyRepo, extra ...string) string {
	t.Helper()
	args := append([]string{"copy", "--from-repo", src.dir, "--from-password-file", src.pwFile}, extra...)
	return string(dst.hb.run(t, args...))
}

// writeResticSource makes a restic repository with three snapshots of a
// changing test tree, with tags and two hosts.
func writeResticSource(t *testing.T, base string, version string) *copyRepo {
	t.Helper()
	a := newCopyRepo(t, base, "A", "source-pw")
	resticInit(t, a.restic, "--repository-version", version)
	data := filepath.Join(base, "data")
	testutil.MakeTestTree(t, data, testutil.TreeOptions{Seed: 5, NoUnreadable: true})
	a.restic.Run(t, "backup", "--host", "h1", "--tag", "one", data)
	testutil.WriteRandomFile(t, filepath.Join(data, "added.bin"), 2<<20, 77)
	a.restic.Run(t, "backup", "--host", "h1", "--tag", "two", data)
	a.restic.Run(t, "backup", "--host", "h2", data)
	return a
}

// TestCopyResticToHbackup: restic writes A (v1 and v2), hbackup copies it
// to B (initialised with and without A's chunker parameters) and to a
// second destination C in the same call; restic checks and restores the
// copies and considers them already copied.
func TestCopyResticToHbackup(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		for _, sameChunker := range []bool{true, false} {
			name := "v" + version
			if sameChunker {
				name += "-copy-chunker-params"
			}
			t.Run(name, func(t *testing.T) {
				base := t.TempDir()
				a := writeResticSource(t, base, version)
				b := newCopyRepo(t, base, "B", "dest-pw")
				c := newCopyRepo(t, base, "C", "third-pw")
				initArgs := []string{"init"}
				if sameChunker {
					initArgs = append(initArgs, "--copy-chunker-params", "--from-repo", a.dir, "--from-password-file", a.pwFile)
				}
				b.hb.run(t, initArgs...)
				c.hb.run(t, "init", "--repository-version", "1")

				out := hbackupCopy(t, a, b, "--to-repo", c.dir, "--to-password-file", c.pwFile)
				if n := strings.Count(out, "copy started"); n != 6 {
					t.Errorf("hbackup copy started %d copies, want 3 per destination:\n%s", n, out)
				}
				for _, d := range []*copyRepo{b, c} {
					d.checkAll(t)
					assertCopies(t, a, d)
					resticCopyNothing(t, a, d)
				}
				if out := hbackupCopy(t, a, b); strings.Contains(out, "copy started") {
					t.Errorf("second hbackup copy copied again:\n%s", out)
				}
				// Copying B back into A finds A's own snapshots.
				if out := string(a.hb.run(t, "copy", "--from-repo", b.dir, "--from-password-file", b.pwFile)); strings.Contains(out, "copy started") {
					t.Errorf("copy back copied again:\n%s", out)
				}
			})
		}
	}
}

// TestCopyHbackupToRestic: hbackup writes A, restic copies it to B, and
// hbackup's copy then finds nothing to do; a filtered copy by hbackup to a
// fresh repository copies only the matching snapshot.
func TestCopyHbackupToRestic(t *testing.T) {
	base := t.TempDir()
	a := newCopyRepo(t, base, "A", "source-pw")
	a.hb.run(t, "init")
	data := filepath.Join(base, "data")
	testutil.MakeTestTree(t, data, testutil.TreeOptions{Seed: 9, NoUnreadable: true})
	a.hb.run(t, "backup", "--host", "h1", "--tag", "one", data)
	testutil.WriteRandomFile(t, filepath.Join(data, "more.bin"), 1<<20, 3)
	a.hb.run(t, "backup", "--host", "h2", "--tag", "two", data)

	b := newCopyRepo(t, base, "B", "dest-pw")
	resticInit(t, b.restic, "--copy-chunker-params", "--from-repo", a.dir, "--from-password-file", a.pwFile)
	out := b.restic.Run(t, "copy", "--from-repo", a.dir, "--from-password-file", a.pwFile)
	if strings.Count(string(out), "copy started") != 2 {
		t.Fatalf("restic copy:\n%s", out)
	}
	if out := hbackupCopy(t, a, b); strings.Contains(out, "copy started") {
		t.Errorf("hbackup copied what restic had copied:\n%s", out)
	}

	c := newCopyRepo(t, base, "C", "third-pw")
	resticInit(t, c.restic)
	out2 := hbackupCopy(t, a, c, "--host", "h2")
	if strings.Count(out2, "copy started") != 1 {
		t.Fatalf("hbackup copy --host h2:\n%s", out2)
	}
	c.checkAll(t)
	if sns := c.snapshots(t); len(sns) != 1 || len(sns[0].Tags) != 1 || sns[0].Tags[0] != "two" {
		t.Fatalf("filtered copy: %+v", sns)
	}
	resticCopyNothingFiltered(t, a, c, "--host", "h2")
}

func resticCopyNothingFiltered(t *testing.T, src, dst *copyRepo, filter ...string) {
	t.Helper()
	args := append([]string{"copy", "--from-repo", src.dir, "--from-password-file", src.pwFile}, filter...)
	if out := dst.restic.Run(t, args...); strings.Contains(string(out), "copy started") {
		t.Fatalf("restic copy %v copied again:\n%s", filter, out)
	}
}

// TestCopyKilled kills hbackup copy with SIGKILL at several points: the
// destination stays valid for restic (after unlock), and a rerun
// completes the copy.
func TestCopyKilled(t *testing.T) {
	base := t.TempDir()
	a := newCopyRepo(t, base, "A", "source-pw")
	resticInit(t, a.restic)
	data := filepath.Join(base, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		for j := range 8 {
			testutil.WriteRandomFile(t, filepath.Join(data, "f"+string(rune('a'+i))+string(rune('a'+j))), 2<<20, int64(10*i+j))
		}
		a.restic.Run(t, "backup", data)
	}
	for _, after := range []int{1, 4, 9} {
		t.Run("after-"+string(rune('0'+after))+"-packs", func(t *testing.T) {
			b := newCopyRepo(t, t.TempDir(), "B", "dest-pw")
			b.hb.run(t, "init")
			cmd := exec.Command(hbackupBin, "-r", b.dir, "copy", "--pack-size", "4", "--flush-every", "10",
				"--from-repo", a.dir, "--from-password-file", a.pwFile)
			cmd.Env = append(cleanEnv(), "RESTIC_PASSWORD="+b.password)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for countPacks(t, b.dir) < after && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			if err := cmd.Wait(); err == nil {
				t.Log("copy finished before it was killed")
			}
			b.restic.Run(t, "unlock")
			b.checkAll(t)
			t.Logf("killed after %d packs; %d of 4 snapshots were saved", countPacks(t, b.dir), len(b.snapshots(t)))
			hbackupCopy(t, a, b)
			b.checkAll(t)
			assertCopies(t, a, b)
			resticCopyNothing(t, a, b)
		})
	}
}
