package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestToolVia: a tool set up for a remote replaces HOME, keeps the rest of
// its environment, and puts its options before every command line.
func TestToolVia(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fake")
	script := "#!/bin/sh\necho \"HOME=$HOME PW=$RESTIC_PASSWORD_FILE $*\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	base := newTool("fake", bin, "/pw")
	remote := base.via([]string{"HOME=/remote-home"}, "-o", "sftp.command=ssh -F cfg host -s sftp")
	res, err := remote.exec(context.Background(), "-r", "sftp:host:/repo", "init")
	if err != nil {
		t.Fatal(err)
	}
	want := "HOME=/remote-home PW=/pw -o sftp.command=ssh -F cfg host -s sftp -r sftp:host:/repo init"
	if got := strings.TrimSpace(string(res.stdout)); got != want {
		t.Errorf("via ran\n  %s\nwant\n  %s", got, want)
	}
	if n := len(slices.DeleteFunc(slices.Clone(remote.env), func(kv string) bool { return !strings.HasPrefix(kv, "HOME=") })); n != 1 {
		t.Errorf("%d HOME entries in the environment, want 1", n)
	}
	if len(base.opts) != 0 {
		t.Errorf("via changed the original tool: %q", base.opts)
	}
}
