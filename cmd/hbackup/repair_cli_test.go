package main

import (
	"strings"
	"testing"
)

// The repair, rebuild-index, rewrite and migrate commands validate their
// arguments and run on an hbackup repository.
func TestRepairRewriteMigrateCLI(t *testing.T) {
	env, _ := backedUpTestRepo(t)
	for _, bad := range [][]string{
		{"repair"},
		{"repair", "packs"},
		{"repair", "index", "--forget"},
		{"repair", "snapshots", "--read-all-packs"},
		{"rebuild-index", "extra"},
		{"rewrite"},
		{"migrate", "no_such_migration"},
	} {
		if _, _, code := runCLI(t, env, bad...); code != exitFatal {
			t.Errorf("%v: exit %d, want %d", bad, code, exitFatal)
		}
	}
	if out := mustRun(t, env, "repair", "index"); !strings.Contains(out, "no need to read any pack file") || !strings.HasSuffix(out, "done\n") {
		t.Fatalf("repair index: %s", out)
	}
	mustRun(t, env, "rebuild-index", "--read-all-packs")
	if out := mustRun(t, env, "repair", "snapshots"); !strings.Contains(out, "no snapshots were modified") {
		t.Fatalf("repair snapshots: %s", out)
	}
	if out := mustRun(t, env, "rewrite", "--exclude", "b.txt", "--host", "h1"); !strings.Contains(out, "modified 1 snapshots") {
		t.Fatalf("rewrite: %s", out)
	}
	if n := len(testSnapshots(t, env)); n != 3 {
		t.Fatalf("%d snapshots after rewrite", n)
	}
	if out := mustRun(t, env, "migrate"); !strings.Contains(out, "no migrations found") {
		t.Fatalf("migrate on a version 2 repository: %s", out)
	}
	if out := mustRun(t, env, "check"); !strings.Contains(out, "no errors were found") {
		t.Fatalf("check: %s", out)
	}
}
