package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFindNamesAndIDs(t *testing.T) {
	env, src := backedUpTestRepo(t)
	out := mustRun(t, env, "find", "*.txt")
	// Newest snapshot first; blank line between snapshots.
	parts := strings.Split(out, "\n\n")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "Found matching entries in snapshot ") ||
		!strings.Contains(parts[0], src+"/d/c.txt") || strings.Contains(parts[1], "c.txt") {
		t.Fatalf("find *.txt:\n%s", out)
	}
	// A matching directory matches what is below it.
	var res []findSnapshotJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "find", "--json", "--host", "h1", "d")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Hits != 2 || res[0].Matches[0].Type != "dir" || res[0].Matches[1].Path != src+"/d/b.txt" {
		t.Fatalf("find --json d: %+v", res)
	}
	if out := mustRun(t, env, "find", "-l", "-i", "L"); !strings.Contains(out, src+"/l -> a.txt") || !strings.HasPrefix(strings.Split(out, "\n")[1], "Lrwxrwxrwx ") {
		t.Fatalf("find -l -i: %s", out)
	}
	if out := mustRun(t, env, "find", "--json", "nomatch"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("no match: %q", out)
	}

	// --blob finds the file holding a content blob, --tree a directory.
	var tree struct {
		Nodes []struct {
			Name    string   `json:"name"`
			Content []string `json:"content"`
			Subtree string   `json:"subtree"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, "cat", "tree", "latest:"+src)), &tree); err != nil {
		t.Fatal(err)
	}
	var blob, sub string
	for _, n := range tree.Nodes {
		switch n.Name {
		case "a.txt":
			blob = n.Content[0]
		case "d":
			sub = n.Subtree
		}
	}
	var hits []findObjectJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "find", "--json", "--blob", blob[:12])), &hits); err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Path != src+"/a.txt" || hits[0].ObjectType != "blob" || hits[0].ID != blob {
		t.Fatalf("find --blob: %+v", hits)
	}
	out = mustRun(t, env, "find", "--tree", sub)
	if !strings.Contains(out, "Found tree "+sub+"\n ... path "+src+"/d\n") {
		t.Fatalf("find --tree: %s", out)
	}
	// --pack: the pack holding a.txt's content leads to the file.
	packs := strings.Fields(mustRun(t, env, "list", "packs"))
	found := false
	for _, p := range packs {
		if strings.Contains(mustRun(t, env, "find", "--pack", p), "in file "+src+"/a.txt") {
			found = true
		}
	}
	if !found {
		t.Fatal("find --pack found no pack holding a.txt")
	}
	if _, _, code := runCLI(t, env, "find", "--blob", "--tree", "x"); code == 0 {
		t.Fatal("--blob with --tree accepted")
	}
}
