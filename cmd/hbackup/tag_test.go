package main

import (
	"strings"
	"testing"
)

func TestTagAddRemoveSetKeepsOriginal(t *testing.T) {
	env, _ := backedUpTestRepo(t)
	before := testSnapshots(t, env)
	firstID := before[0]["id"].(string)

	if out := mustRun(t, env, "tag", "--add", "x,y", firstID[:8]); !strings.Contains(out, "modified tags on 1 snapshots") {
		t.Fatalf("tag --add: %s", out)
	}
	after := testSnapshots(t, env)
	if len(after) != 2 || after[0]["id"] == firstID || after[0]["original"] != firstID {
		t.Fatalf("rewritten snapshot: %v", after[0])
	}
	if got := tagsOf(after[0]); got != "first,x,y" {
		t.Fatalf("tags after add: %s", got)
	}
	// A second change keeps pointing original at the first version.
	mustRun(t, env, "tag", "--remove", "first", "--tag", "x")
	after = testSnapshots(t, env)
	if after[0]["original"] != firstID || tagsOf(after[0]) != "x,y" {
		t.Fatalf("after remove: %v", after[0])
	}
	// Nothing to change: the snapshot file stays.
	if out := mustRun(t, env, "tag", "--add", "x", "latest", "--host", "h1"); !strings.Contains(out, "no snapshots were modified") {
		t.Fatalf("no-op tag: %s", out)
	}
	// --set on all snapshots; the second gets original set too.
	mustRun(t, env, "tag", "--set", "z")
	after = testSnapshots(t, env)
	for i, sn := range after {
		if tagsOf(sn) != "z" || sn["original"] != before[i]["id"] {
			t.Fatalf("after --set, snapshot %d: %v", i, sn)
		}
	}
	if _, ok := after[1]["summary"]; !ok {
		t.Fatalf("summary lost when tagging: %v", after[1])
	}
	mustRun(t, env, "tag", "--set", "", "latest")
	if sn := testSnapshots(t, env)[1]; sn["tags"] != nil {
		t.Fatalf("--set \"\" left tags: %v", sn)
	}
	for _, bad := range [][]string{{"tag"}, {"tag", "--set", "a", "--add", "b"}} {
		if _, errb, code := runCLI(t, env, bad...); code == 0 {
			t.Fatalf("%v accepted: %s", bad, errb)
		}
	}
}

func tagsOf(sn map[string]any) string {
	l, _ := sn["tags"].([]any)
	var s []string
	for _, t := range l {
		s = append(s, t.(string))
	}
	return strings.Join(s, ",")
}
