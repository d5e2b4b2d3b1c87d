package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/snapshot"
)

func TestStatsModes(t *testing.T) {
	env, _ := backedUpTestRepo(t)
	stats := func(args ...string) snapshot.Stats {
		t.Helper()
		var s snapshot.Stats
		out := mustRun(t, env, append([]string{"stats", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return s
	}
	// Snapshot 1 holds hello\n (6), world\n (6) and a symlink; snapshot 2
	// changed\n (8), world\n and more\n (5).
	if s := stats("--mode", "restore-size", "--host", "h2", "latest"); s.TotalSize != 19 || s.SnapshotsCount != 1 {
		t.Fatalf("restore-size latest: %+v", s)
	}
	if s := stats(); s.TotalSize != 31 || s.SnapshotsCount != 2 || s.TotalBlobCount != 0 {
		t.Fatalf("restore-size: %+v", s)
	}
	if s := stats("--mode", "files-by-contents"); s.TotalSize != 25 {
		t.Fatalf("files-by-contents: %+v", s)
	}
	if s := stats("--mode", "blobs-per-file"); s.TotalSize != 25 || s.TotalBlobCount != 4 || s.TotalFileCount != 3 {
		t.Fatalf("blobs-per-file: %+v", s)
	}
	if s := stats("--mode", "raw-data"); s.TotalBlobCount < 6 || s.TotalSize < 100 || s.TotalFileCount != 0 {
		t.Fatalf("raw-data: %+v", s)
	}
	out := mustRun(t, env, "stats", "--mode", "files-by-contents")
	if !strings.Contains(out, "Stats in files-by-contents mode:\nSnapshots processed:   2\n") || !strings.Contains(out, "         Total Size:   25 B \n") {
		t.Fatalf("text output:\n%s", out)
	}
	if _, errb, code := runCLI(t, env, "stats", "--mode", "bogus"); code == 0 || !strings.Contains(errb, "unknown counting mode") {
		t.Fatalf("bad mode: %d %s", code, errb)
	}
}
