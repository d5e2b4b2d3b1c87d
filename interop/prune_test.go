package interop_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// pruneGens is how many backups a prune history has; the last
// pruneKept are kept, the others forgotten.
const pruneGens, pruneKept = 6, 2

// pruneHistory is a repository with pruneGens snapshots. Generation g
// backs up its own directory src<g>, holding the files born in the last
// three generations plus one long-lived file and a compressible text, so
// forgetting old generations leaves partly used packs behind.
type pruneHistory struct {
	repo string
	srcs []string // per generation
	ids  []string // snapshot IDs per generation
}

// writePruneHistory backs generations up with restic or hbackup; writers
// holds one tool name per generation.
func writePruneHistory(t *testing.T, base string, writers []string) *pruneHistory {
	t.Helper()
	h := &pruneHistory{repo: filepath.Join(base, "repo")}
	restic := testutil.NewRestic(t, h.repo, "geheim")
	hb := newHbackup(h.repo)
	if writers[0] == "restic" {
		resticInit(t, restic)
	} else {
		hb.run(t, "init")
	}
	for g, who := range writers {
		src := filepath.Join(base, fmt.Sprintf("src%d", g))
		if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		testutil.WriteRandomFile(t, filepath.Join(src, "sub", "forever"), 1<<20, 999)
		for born := max(0, g-2); born <= g; born++ {
			for j := range 3 {
				testutil.WriteRandomFile(t, filepath.Join(src, fmt.Sprintf("f%d-%d", born, j)), 600<<10+int64(j)<<10, int64(born*10+j))
			}
		}
		text := strings.Repeat(fmt.Sprintf("generation %d line\n", g), 20000)
		if err := os.WriteFile(filepath.Join(src, "text"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"backup", "--pack-size", "4", "--host", "h", src}
		if who == "restic" {
			restic.Run(t, args...)
		} else {
			hb.run(t, args...)
		}
		h.srcs = append(h.srcs, src)
		var sns []struct {
			ID string `json:"id"`
		}
		restic.RunJSON(t, &sns, "snapshots", "--path", src)
		if len(sns) != 1 {
			t.Fatalf("generation %d: %d snapshots", g, len(sns))
		}
		h.ids = append(h.ids, sns[0].ID)
	}
	return h
}

// forgotten returns the snapshot IDs to forget.
func (h *pruneHistory) forgotten() []string { return h.ids[:len(h.ids)-pruneKept] }

// verifyKept has restic check every byte, and restores every kept
// snapshot with both tools and compares it with its source.
func (h *pruneHistory) verifyKept(t *testing.T, repoDir string) {
	t.Helper()
	restic := testutil.NewRestic(t, repoDir, "geheim")
	restic.Run(t, "check", "--read-data")
	newHbackup(repoDir).run(t, "check", "--read-data")
	for g := len(h.ids) - pruneKept; g < len(h.ids); g++ {
		// restic 0.14 has no "id:subfolder": the source's absolute path
		// is recreated below the target.
		rTarget, hTarget := t.TempDir(), t.TempDir()
		restic.Run(t, "restore", h.ids[g], "--target", rTarget)
		newHbackup(repoDir).run(t, "restore", h.ids[g], "--target", hTarget)
		opt := testutil.CompareOptions{IgnoreRootMtime: true}
		testutil.CompareTrees(t, h.srcs[g], filepath.Join(rTarget, h.srcs[g]), opt)
		testutil.CompareTrees(t, h.srcs[g], filepath.Join(hTarget, h.srcs[g]), opt)
	}
}

// pruneNumbers returns the summary lines of a prune report.
func pruneNumbers(out []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		for _, p := range []string{"to repack:", "this removes:", "to delete:", "total prune:", "remaining:", "unused size after prune:"} {
			if strings.HasPrefix(l, p) {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

func repacks(t *testing.T, out []byte) bool {
	t.Helper()
	lines := pruneNumbers(out)
	return len(lines) > 0 && !strings.Contains(lines[0], " 0 blobs")
}

// TestPruneResticRepository: restic writes, hbackup forgets and prunes,
// restic and hbackup read everything kept.
func TestPruneResticRepository(t *testing.T) {
	base := t.TempDir()
	h := writePruneHistory(t, base, slices.Repeat([]string{"restic"}, pruneGens))
	hb := newHbackup(h.repo)
	hb.run(t, append([]string{"forget"}, h.forgotten()...)...)
	out := hb.run(t, "prune", "--max-unused", "0")
	if !repacks(t, out) {
		t.Errorf("the history needs no repacking; the test is too weak:\n%s", out)
	}
	h.verifyKept(t, h.repo)
	// Nothing is left to prune, for either tool.
	for _, tool := range []string{"restic", "hbackup"} {
		var again []byte
		if tool == "restic" {
			again = testutil.NewRestic(t, h.repo, "geheim").Run(t, "prune", "--dry-run", "--max-unused", "0")
		} else {
			again = hb.run(t, "prune", "--dry-run", "--max-unused", "0")
		}
		if l := pruneNumbers(again); len(l) < 4 || !strings.Contains(l[3], " 0 blobs / 0 B") {
			t.Errorf("%s still finds data to prune: %q", tool, l)
		}
	}
}

// TestPruneHbackupRepositoryByRestic: hbackup writes, restic forgets and
// prunes, both tools read everything kept.
func TestPruneHbackupRepositoryByRestic(t *testing.T) {
	base := t.TempDir()
	h := writePruneHistory(t, base, slices.Repeat([]string{"hbackup"}, pruneGens))
	restic := testutil.NewRestic(t, h.repo, "geheim")
	restic.Run(t, append([]string{"forget"}, h.forgotten()...)...)
	out := restic.Run(t, "prune", "--max-unused", "0")
	if !repacks(t, out) {
		t.Errorf("the history needs no repacking; the test is too weak:\n%s", out)
	}
	h.verifyKept(t, h.repo)
}

// TestForgetPrune: forget --prune forgets, then prunes; with --dry-run it
// changes nothing but reports what prune would do without the snapshots.
func TestForgetPrune(t *testing.T) {
	base := t.TempDir()
	h := writePruneHistory(t, base, slices.Repeat([]string{"restic"}, pruneGens))
	hb := newHbackup(h.repo)
	args := append([]string{"forget", "--prune", "--max-unused", "0"}, h.forgotten()...)
	dry := hb.run(t, append(args, "--dry-run")...)
	want := testutil.NewRestic(t, h.repo, "geheim").Run(t, append(args, "--dry-run")...)
	if a, b := pruneNumbers(want), pruneNumbers(dry); !slices.Equal(a, b) || len(a) == 0 {
		t.Errorf("forget --prune --dry-run:\nrestic  %q\nhbackup %q", a, b)
	}
	if left := len(snapshotFiles(t, h.repo)); left != pruneGens {
		t.Fatalf("dry run left %d of %d snapshots", left, pruneGens)
	}
	out := hb.run(t, args...)
	if !bytes.Contains(out, []byte("snapshots have been removed, running prune")) || !repacks(t, out) {
		t.Errorf("forget --prune output:\n%s", out)
	}
	h.verifyKept(t, h.repo)
}

// TestPruneDryRunMatchesRestic compares the plans of both tools on one
// repository written by both, for several policies.
func TestPruneDryRunMatchesRestic(t *testing.T) {
	base := t.TempDir()
	h := writePruneHistory(t, base, []string{"restic", "hbackup", "restic", "hbackup", "restic", "hbackup"})
	restic := testutil.NewRestic(t, h.repo, "geheim")
	restic.Run(t, append([]string{"forget"}, h.forgotten()...)...)
	hb := newHbackup(h.repo)
	for _, args := range [][]string{
		{},
		{"--max-unused", "0"},
		{"--max-unused", "unlimited"},
		{"--max-unused", "20%"},
		{"--max-unused", "1M"},
		{"--max-unused", "0", "--max-repack-size", "3M"},
		{"--repack-uncompressed"},
		{"--repack-cacheable-only", "--max-unused", "0"},
	} {
		full := append([]string{"prune", "--dry-run", "-v"}, args...)
		want := restic.Run(t, full...)
		got := hb.run(t, full...)
		if !slices.Equal(reportLines(want), reportLines(got)) {
			t.Errorf("prune --dry-run -v %s differs:\nrestic:\n%s\nhbackup:\n%s", strings.Join(args, " "), want, got)
		}
	}
}

// reportLines drops progress lines, which carry timings.
func reportLines(out []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "[") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestPruneKilled kills hbackup prune with SIGKILL at several points:
// when the first new pack, the first new index file, the first removal
// of an index file and of a pack are seen, and after fixed delays. Each
// time restic check passes, kept snapshots restore, and a rerun
// completes with nothing left to prune.
func TestPruneKilled(t *testing.T) {
	base := t.TempDir()
	h := writePruneHistory(t, base, slices.Repeat([]string{"restic"}, pruneGens))
	testutil.NewRestic(t, h.repo, "geheim").Run(t, append([]string{"forget"}, h.forgotten()...)...)
	points := []string{"new pack", "new index", "index removed", "pack removed", "0ms", "30ms", "100ms", "300ms"}
	for _, point := range points {
		t.Run(strings.ReplaceAll(point, " ", "-"), func(t *testing.T) {
			t.Parallel() // each on its own copy
			repoDir := filepath.Join(t.TempDir(), "repo")
			copyDir(t, h.repo, repoDir)
			killed := killPrune(t, repoDir, point)
			t.Logf("killed at %s: %v", point, killed)
			restic := testutil.NewRestic(t, repoDir, "geheim")
			restic.Run(t, "unlock")
			h.verifyKept(t, repoDir)
			newHbackup(repoDir).run(t, "prune", "--max-unused", "0")
			h.verifyKept(t, repoDir)
			again := restic.Run(t, "prune", "--dry-run", "--max-unused", "0")
			if l := pruneNumbers(again); len(l) < 4 || !strings.Contains(l[3], " 0 blobs / 0 B") {
				t.Errorf("after the rerun restic still finds data to prune: %q", l)
			}
		})
	}
}

// killPrune starts hbackup prune and SIGKILLs it at the given point (a
// delay, or the first time the repository shows that change). It reports
// whether prune was still running when killed.
func killPrune(t *testing.T, repoDir, point string) bool {
	t.Helper()
	before := map[string]map[string]bool{"data": listRepoFiles(t, repoDir, "data"), "index": listRepoFiles(t, repoDir, "index")}
	cmd := exec.Command(hbackupBin, "-r", repoDir, "prune", "--max-unused", "0")
	cmd.Env = append(cleanEnv(), "RESTIC_PASSWORD=geheim")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if d, err := time.ParseDuration(point); err == nil {
		select {
		case <-done:
			return false
		case <-time.After(d):
		}
	} else {
		dir := map[string]string{"new pack": "data", "pack removed": "data", "new index": "index", "index removed": "index"}[point]
		appear := strings.HasPrefix(point, "new")
	poll:
		for {
			select {
			case <-done:
				return false
			default:
			}
			now := listRepoFiles(t, repoDir, dir)
			for name := range now {
				if appear && !before[dir][name] {
					break poll
				}
			}
			for name := range before[dir] {
				if !appear && !now[name] {
					break poll
				}
			}
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	return err != nil
}

// listRepoFiles returns the names of the files below repoDir/dir.
func listRepoFiles(t *testing.T, repoDir, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	_ = filepath.WalkDir(filepath.Join(repoDir, dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out[d.Name()] = true
		}
		return nil
	})
	return out
}
