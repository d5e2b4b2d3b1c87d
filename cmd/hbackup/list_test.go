package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestListFileTypesAndBlobs(t *testing.T) {
	env, _ := backedUpTestRepo(t)
	dir := env["RESTIC_REPOSITORY"]
	for kind, sub := range map[string]string{"packs": "data", "index": "index", "snapshots": "snapshots", "keys": "keys", "locks": "locks"} {
		var want []string
		_ = filepath.Walk(filepath.Join(dir, sub), func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				want = append(want, fi.Name())
			}
			return nil
		})
		got := strings.Fields(mustRun(t, env, "list", kind))
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("list %s: %v, want %v", kind, got, want)
		}
	}
	var trees, data int
	for _, line := range strings.Split(strings.TrimSpace(mustRun(t, env, "list", "blobs")), "\n") {
		typ, id, ok := strings.Cut(line, " ")
		if !ok || len(id) != 64 {
			t.Fatalf("blob line %q", line)
		}
		switch typ {
		case "tree":
			trees++
		case "data":
			data++
		}
	}
	// Each snapshot has its own trees down the source path; four contents.
	if trees < 6 || data != 4 {
		t.Fatalf("list blobs: %d trees, %d data", trees, data)
	}
	if _, _, code := runCLI(t, env, "list", "frobs"); code == 0 {
		t.Fatal("unknown type accepted")
	}
}
