package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestDumpFileTarZip(t *testing.T) {
	env, src := backedUpTestRepo(t)
	rel := strings.TrimPrefix(filepath.ToSlash(src), "/")
	if out := mustRun(t, env, "dump", "latest", "/"+rel+"/a.txt"); out != "changed\n" {
		t.Fatalf("dump latest file: %q", out)
	}
	if out := mustRun(t, env, "dump", "--host", "h1", "latest", rel+"/a.txt"); out != "hello\n" {
		t.Fatalf("dump with --host: %q", out)
	}

	tr := tar.NewReader(strings.NewReader(mustRun(t, env, "dump", "latest", "/"+rel+"/d")))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		names = append(names, h.Name+"="+string(body))
	}
	if want := rel + "/d/b.txt=world\n," + rel + "/d/c.txt=more\n"; strings.Join(names, ",") != want {
		t.Fatalf("tar entries %q, want %q", names, want)
	}

	// The first snapshot, whole, as zip: directories and the symlink too.
	out := mustRun(t, env, "dump", "--archive", "zip", "--tag", "first", "latest", "/")
	zr, err := zip.NewReader(bytes.NewReader([]byte(out)), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		got[f.Name] = string(b)
	}
	if got[rel+"/a.txt"] != "hello\n" || got[rel+"/l"] != "a.txt" || got[rel+"/d/"] != "" || len(got) < 5 {
		t.Fatalf("zip entries: %q", got)
	}
	if _, errb, code := runCLI(t, env, "dump", "latest", "/nope"); code == 0 || !strings.Contains(errb, "not found") {
		t.Fatalf("missing path: %d %s", code, errb)
	}
	if _, _, code := runCLI(t, env, "dump", "-a", "rar", "latest", "/"); code == 0 {
		t.Fatal("unknown archive format accepted")
	}
}
