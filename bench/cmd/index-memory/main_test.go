package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestEndToEnd runs the whole command on a small index with the real
// restic and an hbackup built from ./cmd/hbackup, then lists the
// repository again with both tools to count the blobs independently.
func TestEndToEnd(t *testing.T) {
	resticBin := testutil.RequireBinary(t, "restic")
	const blobs = 200_000
	work := t.TempDir()
	// The command runs as a process of its own, built here: it starts each
	// tool through a copy of itself, whose memory is a floor under every
	// figure, and the test binary (built with -race in CI) weighs more
	// than hbackup's whole baseline.
	bin := filepath.Join(t.TempDir(), "index-memory")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-blobs", strconv.Itoa(blobs), "-runs", "1", "-restic", resticBin, "-work", work)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr.String())
	}
	out := stdout.String()
	t.Logf("\n%s", out)
	for _, want := range []string{"restic:  restic 0.", "hbackup: hbackup ", "not a heap count", "200000 blobs in 2000 packs, 4 index files"} {
		if !bytes.Contains(stdout.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q", want)
		}
	}
	row := regexp.MustCompile(`(?m)^ *(restic|hbackup) +(list blobs|stats raw-data) +[0-9.]+ +[0-9.]+ +(-?[0-9.]+) +[0-9.]+ +[0-9.]+ +(\S+)$`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 4 {
		t.Fatalf("%d table rows, want 4 (2 tools x 2 commands):\n%s", len(rows), out)
	}
	for _, r := range rows {
		if perBlob, _ := strconv.ParseFloat(r[3], 64); perBlob <= 0 {
			t.Errorf("%s %s: %s bytes/blob, want > 0", r[1], r[2], r[3])
		}
		if r[2] == "list blobs" && r[4] != strconv.Itoa(blobs) {
			t.Errorf("%s listed %s blobs, want %d", r[1], r[4], blobs)
		}
	}
	repoDir := filepath.Join(work, "repo-index")
	for _, bin := range []string{resticBin, filepath.Join(work, "hbackup")} {
		if n := distinctBlobs(t, bin, repoDir); n != blobs {
			t.Errorf("%s list blobs: %d distinct lines, want %d", bin, n, blobs)
		}
	}
}

// distinctBlobs runs `BIN list blobs` and counts its distinct data blob lines.
func distinctBlobs(t *testing.T, bin, repoDir string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-r", repoDir, "--no-cache", "list", "blobs")
	cmd.Env = toolEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s list blobs: %v", bin, err)
	}
	line := regexp.MustCompile(`^data [0-9a-f]{64}$`)
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if !line.MatchString(sc.Text()) {
			t.Fatalf("%s list blobs: unexpected line %q", bin, sc.Text())
		}
		seen[sc.Text()] = true
	}
	return len(seen)
}

// TestSynthPacks: IDs are distinct, packs hold 100 blobs laid out back to
// back, and the last pack holds the remainder.
func TestSynthPacks(t *testing.T) {
	packs := synthPacks(300, 550)
	if len(packs) != 3 || len(packs[2].Blobs) != 50 {
		t.Fatalf("%d packs, last with %d blobs; want 3, the last with 50", len(packs), len(packs[len(packs)-1].Blobs))
	}
	seen := map[[32]byte]bool{}
	for _, p := range packs {
		seen[p.ID] = true
		var off uint32
		for _, b := range p.Blobs {
			seen[b.ID] = true
			if b.PackID != p.ID || b.Offset != off || b.Length < 1000 || b.UncompressedLength <= b.Length {
				t.Fatalf("blob %+v at offset %d of pack %v", b, off, p.ID)
			}
			off += b.Length
		}
	}
	if len(seen) != 3+250 {
		t.Errorf("%d distinct IDs, want %d", len(seen), 3+250)
	}
	if synthPacks(0, 100)[0].ID == packs[0].ID {
		t.Error("pack IDs repeat")
	}
}

func TestLauncherResultRoundTrip(t *testing.T) {
	s, err := parseLauncherResult(fmt.Sprintf(launcherFormat, 123456, 4096, 1500*time.Millisecond, 42))
	if err != nil {
		t.Fatal(err)
	}
	if s.maxRSS != 123456 || s.floor != 4096 || s.wall != 1500*time.Millisecond || s.lines != 42 {
		t.Errorf("parsed %+v", s)
	}
	if _, err := parseLauncherResult("garbage"); err == nil {
		t.Error("garbage parsed")
	}
}

func TestMedian(t *testing.T) {
	ss := []sample{{maxRSS: 5}, {maxRSS: 1}, {maxRSS: 3}}
	if m := median(ss, rss); m != 3 {
		t.Errorf("median %v, want 3", m)
	}
	if m := median(ss[:2], rss); m != 3 {
		t.Errorf("median of two %v, want 3", m)
	}
}
