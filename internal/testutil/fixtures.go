package testutil

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory holding go.mod, found by walking up from
// the working directory (a package's directory under `go test`).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	root, err := findModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func findModuleRoot() (string, error) {
	start, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding module root: %w", err)
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("finding module root: no go.mod in %s or above", start)
		}
	}
}

// FixtureDir returns the directory of the restic fixture archives,
// testdata/restic-fixtures under the module root.
func FixtureDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(ModuleRoot(t), "testdata", "restic-fixtures")
}

// Fixture extracts testdata/restic-fixtures/<name>.tar.gz into a new
// temporary directory and returns that directory. A missing archive fails
// the test: the fixtures are part of the source tree.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	archive := filepath.Join(FixtureDir(t), name+".tar.gz")
	dest := t.TempDir()
	// Registered after TempDir, so it runs before TempDir's removal and a
	// read-only directory from an archive cannot make that removal fail.
	t.Cleanup(func() { makeRemovable(dest) })
	ExtractTarGz(t, archive, dest)
	return dest
}

// makeRemovable gives the owner full access to every directory below root.
func makeRemovable(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if info, err := d.Info(); err == nil {
				_ = os.Chmod(p, info.Mode().Perm()|0o700)
			}
		}
		return nil
	})
}
