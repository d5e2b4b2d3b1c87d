package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// backedUpTestRepo makes a repository with two backups of a small tree
// (the second after a change) and returns its environment and source.
func backedUpTestRepo(t *testing.T) (env map[string]string, src string) {
	t.Helper()
	dir := t.TempDir()
	src = filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(rel, content string) {
		if err := os.WriteFile(filepath.Join(src, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "hello\n")
	write("d/b.txt", "world\n")
	if err := os.Symlink("a.txt", filepath.Join(src, "l")); err != nil {
		t.Fatal(err)
	}
	env = map[string]string{"RESTIC_REPOSITORY": filepath.Join(dir, "repo"), "RESTIC_PASSWORD": "pw"}
	mustRun(t, env, "init")
	mustRun(t, env, "backup", "-q", "--tag", "first", "--host", "h1", src)
	write("a.txt", "changed\n")
	write("d/c.txt", "more\n")
	if err := os.Remove(filepath.Join(src, "l")); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, "backup", "-q", "--host", "h2", src)
	return env, src
}

func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, errb, code := runCLI(t, env, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
	}
	return out
}

// testSnapshots returns `snapshots --json`, oldest first.
func testSnapshots(t *testing.T, env map[string]string) []map[string]any {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, env, "snapshots", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	return list
}
