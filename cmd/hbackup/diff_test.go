package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDiffMarkersAndSummary(t *testing.T) {
	env, src := backedUpTestRepo(t)
	sns := testSnapshots(t, env)
	a, b := sns[0]["short_id"].(string), sns[1]["short_id"].(string)

	out := mustRun(t, env, "diff", a, b)
	want := "comparing snapshot " + a + " to " + b + ":\n\n" +
		"M    " + src + "/a.txt\n" +
		"+    " + src + "/d/c.txt\n" +
		"-    " + src + "/l\n\n" +
		"Files:           1 new,     0 removed,     1 changed\n" +
		"Dirs:            0 new,     0 removed\n" +
		"Others:          0 new,     1 removed\n" +
		"Data Blobs:      2 new,     1 removed\n"
	if !strings.HasPrefix(out, want) || !strings.Contains(out, "  Added:   ") {
		t.Fatalf("diff:\n%s\nwant prefix:\n%s", out, want)
	}
	// --metadata adds U for the directories whose contents changed.
	out = mustRun(t, env, "diff", "--metadata", a, b)
	if !strings.Contains(out, "U    "+src+"/\n") || !strings.Contains(out, "U    "+src+"/d/\n") {
		t.Fatalf("diff --metadata:\n%s", out)
	}
	// Reversed, as JSON lines: the added file is now removed.
	lines := strings.Split(strings.TrimSpace(mustRun(t, env, "diff", "--json", b, a)), "\n")
	var last diffStatsJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if last.MessageType != "statistics" || last.SourceSnapshot != b || last.Removed.Files != 1 || last.Added.Others != 1 || last.ChangedFiles != 1 {
		t.Fatalf("diff --json statistics: %+v", last)
	}
	var first diffChangeJSON
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Modifier != "M" || first.Path != src+"/a.txt" {
		t.Fatalf("first change %q: %v", lines[0], err)
	}
	// A snapshot compared with itself has no changes.
	if out := mustRun(t, env, "diff", a, a); strings.Contains(out, "M    ") || !strings.Contains(out, "Files:           0 new") {
		t.Fatalf("self diff:\n%s", out)
	}
	if _, _, code := runCLI(t, env, "diff", a); code == 0 {
		t.Fatal("one snapshot accepted")
	}
}
