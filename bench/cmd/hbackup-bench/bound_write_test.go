package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hbackup/hbackup/bench/dataset"
)

// TestWriteSample recreates a small tree and compares it with the source:
// content, modes, symlinks, and the mtimes of files and directories.
func TestWriteSample(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]struct {
		data string
		perm os.FileMode
	}{
		"top":     {"hello", 0o644},
		"a/empty": {"", 0o600},
		"a/b/big": {string(make([]byte, 3<<20)), 0o640},
		"c/exec":  {"#!/bin/sh\n", 0o755},
	}
	for name, f := range files {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(f.data), f.perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.perm); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../top", filepath.Join(src, "c", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "c"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"top", "a/b/big", "a/b", "c", ""} {
		if err := os.Chtimes(filepath.Join(src, p), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}

	out := t.TempDir()
	s, err := writeSample(context.Background(), src, out, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(5 + 3<<20 + 10); s.Bytes != want || s.Seconds <= 0 {
		t.Errorf("sample %+v; want %d bytes and a time", s, want)
	}
	want, err := dataset.Scan(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dataset.Scan(filepath.Join(out, src))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum != want.Sum {
		t.Errorf("the written tree differs from the source: %v", dataset.Diff(want, got))
	}
	for _, p := range []string{"top", "a/b/big", "a/b", "c", ""} {
		fi, err := os.Stat(filepath.Join(out, src, p))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("%q: mtime %v, want %v", p, fi.ModTime(), mtime)
		}
	}
	// A second write into the same place must fail, not overwrite.
	if _, err := writeSample(context.Background(), src, out, 2); err == nil {
		t.Error("writing over an existing tree succeeded")
	}
}
