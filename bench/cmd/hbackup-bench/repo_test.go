package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestNewReposShareOneInit: every new repository, whichever tool it is
// for, is a copy of one restic init, so both tools derive their keys with
// the same scrypt parameters and chunk with the same polynomial.
func TestNewReposShareOneInit(t *testing.T) {
	resticBin := testutil.RequireBinary(t, "restic")
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("bench\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &bench{scratch: dir, log: io.Discard,
		restic: newTool("restic", resticBin, pw), hbackup: newTool("hbackup", "/nonexistent/hbackup", pw)}
	ctx := context.Background()
	var repos []string
	for _, tl := range []*tool{b.restic, b.hbackup, b.hbackup} {
		repo, err := b.newRepo(ctx, tl)
		if err != nil {
			t.Fatal(err)
		}
		repos = append(repos, repo)
	}
	if repos[1] == repos[2] || repos[0] == repos[1] {
		t.Fatalf("repositories not fresh: %v", repos)
	}
	keys := func(repo string) []byte {
		t.Helper()
		var all []byte
		for _, pattern := range []string{"config", "keys/*"} {
			names, err := filepath.Glob(filepath.Join(repo, pattern))
			if err != nil || len(names) != 1 {
				t.Fatalf("%s/%s: %v %v", repo, pattern, names, err)
			}
			data, err := os.ReadFile(names[0])
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, data...)
		}
		return all
	}
	want := keys(repos[0])
	for _, repo := range repos[1:] {
		if !bytes.Equal(keys(repo), want) {
			t.Errorf("%s has another config or key than %s", repo, repos[0])
		}
	}
	// The one init ran once: the copies keep the template's scratch name.
	if b.template == "" {
		t.Fatal("no template")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*-repo-*")); len(matches) != 4 {
		t.Errorf("scratch holds %v, want the template and 3 copies", matches)
	}
	if note := templateNote(b.template); !regexp.MustCompile(`scrypt N=\d+, r=8, p=\d+\)`).MatchString(note) {
		t.Errorf("the report's note does not give the key's parameters: %q", note)
	}
}
