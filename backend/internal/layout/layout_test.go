package layout

import (
	"testing"

	"github.com/hbackup/hbackup/backend"
)

func TestFilename(t *testing.T) {
	tests := []struct {
		h    backend.Handle
		file string
		dir  string
	}{
		{backend.Handle{Type: backend.ConfigFile}, "config", "."},
		{backend.Handle{Type: backend.ConfigFile, Name: "ignored"}, "config", "."},
		{backend.Handle{Type: backend.KeyFile, Name: "k1"}, "keys/k1", "keys"},
		{backend.Handle{Type: backend.LockFile, Name: "l1"}, "locks/l1", "locks"},
		{backend.Handle{Type: backend.SnapshotFile, Name: "s1"}, "snapshots/s1", "snapshots"},
		{backend.Handle{Type: backend.IndexFile, Name: "i1"}, "index/i1", "index"},
		{backend.Handle{Type: backend.PackFile, Name: "abcdef"}, "data/ab/abcdef", "data/ab"},
		{backend.Handle{Type: backend.PackFile, Name: "ab"}, "data/ab/ab", "data/ab"},
		{backend.Handle{Type: backend.PackFile, Name: "a"}, "data/a/a", "data/a"},
	}
	for _, tt := range tests {
		if got := Filename(tt.h); got != tt.file {
			t.Errorf("Filename(%v) = %q, want %q", tt.h, got, tt.file)
		}
		if got := Dirname(tt.h); got != tt.dir {
			t.Errorf("Dirname(%v) = %q, want %q", tt.h, got, tt.dir)
		}
		if err := Check(tt.h); err != nil {
			t.Errorf("Check(%v) = %v, want nil", tt.h, err)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	bad := []backend.Handle{
		{},
		{Type: backend.ConfigFile + 1, Name: "x"},
		{Type: backend.PackFile},
		{Type: backend.PackFile, Name: "."},
		{Type: backend.KeyFile, Name: ".."},
		{Type: backend.KeyFile, Name: "../config"},
		{Type: backend.IndexFile, Name: "a/b"},
		{Type: backend.IndexFile, Name: `a\b`},
		{Type: backend.IndexFile, Name: "a\x00b"},
		{Type: backend.SnapshotFile, Name: "abc-tmp-123"},
	}
	for _, h := range bad {
		if err := Check(h); err == nil {
			t.Errorf("Check(%#v) = nil, want an error", h)
		}
	}
}

func TestPaths(t *testing.T) {
	paths := Paths()
	if len(paths) != 5+256 {
		t.Fatalf("len(Paths()) = %d, want %d", len(paths), 5+256)
	}
	want := map[string]bool{"data": true, "keys": true, "locks": true, "snapshots": true, "index": true,
		"data/00": true, "data/0a": true, "data/a0": true, "data/ff": true}
	seen := make(map[string]int)
	for i, p := range paths {
		seen[p] = i
	}
	if len(seen) != len(paths) {
		t.Errorf("Paths() has duplicates")
	}
	for p := range want {
		if _, ok := seen[p]; !ok {
			t.Errorf("Paths() lacks %q", p)
		}
	}
	if seen["data"] > seen["data/00"] {
		t.Errorf("Paths() lists data/00 before its parent data")
	}
}
