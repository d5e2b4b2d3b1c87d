package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyListAddRemovePasswd(t *testing.T) {
	env, _ := backedUpTestRepo(t)
	var keys []keyJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "key", "list", "--json")), &keys); err != nil || len(keys) != 1 || !keys[0].Current {
		t.Fatalf("key list --json: %v %+v", err, keys)
	}
	first := keys[0].ID

	pwFile := filepath.Join(t.TempDir(), "new")
	if err := os.WriteFile(pwFile, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, "key", "add", "--new-password-file", pwFile, "--user", "bob", "--host", "hh")
	out := mustRun(t, env, "key", "list")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], " ID ") || !strings.Contains(out, "*"+first) ||
		!strings.Contains(out, "  bob   hh ") || strings.Count(lines[1], "-") != len(lines[2]) {
		t.Fatalf("key list table:\n%s", out)
	}

	// The new password opens the repository, and its key is then current.
	env2 := map[string]string{"RESTIC_REPOSITORY": env["RESTIC_REPOSITORY"], "RESTIC_PASSWORD": "second"}
	if err := json.Unmarshal([]byte(mustRun(t, env2, "key", "list", "--json")), &keys); err != nil {
		t.Fatal(err)
	}
	var second string
	for _, k := range keys {
		if k.Current {
			second = k.ID
		}
	}
	if second == "" || second == first {
		t.Fatalf("current key with the new password: %+v", keys)
	}

	// The key in use cannot be removed; another one can.
	if _, errb, code := runCLI(t, env2, "key", "remove", second); code == 0 || !strings.Contains(errb, "refusing to remove key currently used") {
		t.Fatalf("removing current key: %d %s", code, errb)
	}
	if out := mustRun(t, env2, "key", "remove", first); !strings.Contains(out, "removed key "+first) {
		t.Fatalf("key remove: %s", out)
	}
	if _, _, code := runCLI(t, env, "snapshots"); code != exitWrongPass {
		t.Fatalf("old password still opens the repository: exit %d", code)
	}

	// passwd replaces the key in use.
	if err := os.WriteFile(pwFile, []byte("third"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env2, "key", "passwd", "--new-password-file", pwFile)
	env3 := map[string]string{"RESTIC_REPOSITORY": env["RESTIC_REPOSITORY"], "RESTIC_PASSWORD": "third"}
	if err := json.Unmarshal([]byte(mustRun(t, env3, "key", "list", "--json")), &keys); err != nil || len(keys) != 1 || keys[0].ID == second {
		t.Fatalf("after passwd: %v %+v", err, keys)
	}
	if _, _, code := runCLI(t, env2, "snapshots"); code != exitWrongPass {
		t.Fatalf("password before passwd still works: exit %d", code)
	}
	if _, errb, code := runCLI(t, env3, "key", "frob"); code == 0 || !strings.Contains(errb, "unknown key subcommand") {
		t.Fatalf("unknown subcommand: %d %s", code, errb)
	}
}
