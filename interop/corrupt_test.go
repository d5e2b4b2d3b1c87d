package interop_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestCorruptedRepositoryFiles damages one file of each kind in a
// repository hbackup wrote and checks that the commands that need it fail
// with an error naming the file, and never panic.
func TestCorruptedRepositoryFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dir     string // repository subdirectory of the damaged file
		damage  func(t *testing.T, path string)
		command []string // command that must fail
	}{
		{"flipped byte in pack", "data", flipByte(100), []string{"restore", "latest", "--target", "OUT"}},
		{"truncated pack", "data", truncate(50), []string{"restore", "latest", "--target", "OUT"}},
		{"flipped byte in index", "index", flipByte(20), []string{"restore", "latest", "--target", "OUT"}},
		{"truncated snapshot", "snapshots", truncate(10), []string{"restore", "latest", "--target", "OUT"}},
		{"empty key file", "keys", truncate(0), []string{"snapshots"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			src := filepath.Join(base, "src")
			if err := os.MkdirAll(src, 0o755); err != nil {
				t.Fatal(err)
			}
			testutil.WriteRandomFile(t, filepath.Join(src, "data"), 2<<20, 1)
			repoDir := filepath.Join(base, "repo")
			hb := newHbackup(repoDir)
			hb.run(t, "init")
			hb.run(t, "backup", "--compression", "off", src)

			var victim string
			_ = filepath.Walk(filepath.Join(repoDir, tc.dir), func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() && (victim == "" || fi.Size() > mustSize(t, victim)) {
					victim = p // the largest: for data, the pack with file content
				}
				return nil
			})
			if err := os.Chmod(victim, 0o600); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, victim)

			// --no-cache: the backup filled the cache, whose intact
			// copies of index and snapshot files would hide the damage
			// (as restic's cache does); check never uses it.
			args := append([]string{"--no-cache"}, tc.command...)
			for i, a := range args {
				if a == "OUT" {
					args[i] = filepath.Join(base, "out")
				}
			}
			_, errb, code := hb.runErr(args...)
			if code == 0 {
				t.Fatalf("%v succeeded on a damaged repository", args)
			}
			if strings.Contains(string(errb), "panic") || strings.Contains(string(errb), "goroutine ") {
				t.Fatalf("panic:\n%s", errb)
			}
			if !strings.Contains(string(errb), filepath.Base(victim)[:8]) {
				t.Errorf("error does not name the damaged file %s:\n%s", filepath.Base(victim), errb)
			}
			if tc.dir == "snapshots" {
				// Listing skips the damaged snapshot with a warning, as restic.
				_, errb, code := hb.runErr("--no-cache", "snapshots")
				if code != 0 || !strings.Contains(string(errb), "could not load snapshot "+filepath.Base(victim)[:8]) {
					t.Errorf("snapshots with a damaged snapshot file: exit %d\n%s", code, errb)
				}
			}
		})
	}
}

func mustSize(t *testing.T, p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func flipByte(at int64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, at); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0xff
		if _, err := f.WriteAt(b, at); err != nil {
			t.Fatal(err)
		}
	}
}

func truncate(size int64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
	}
}
