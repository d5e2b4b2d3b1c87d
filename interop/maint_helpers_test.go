package interop_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// mixedRepo is a repository holding a restic backup and then an hbackup
// backup of the same tree after some changes.
type mixedRepo struct {
	dir    string
	src    string
	restic *testutil.Restic
	hb     *hbackup
}

// prepare functions change the source tree before the first backup.
func newMixedRepo(t *testing.T, special bool, prepare ...func(src string)) *mixedRepo {
	t.Helper()
	base := t.TempDir()
	m := &mixedRepo{dir: filepath.Join(base, "repo"), src: filepath.Join(base, "src")}
	testutil.MakeTestTree(t, m.src, testutil.TreeOptions{Seed: 11, Special: special})
	for _, p := range prepare {
		p(m.src)
	}
	m.restic = testutil.NewRestic(t, m.dir, "geheim")
	m.hb = newHbackup(m.dir)
	resticInit(t, m.restic)
	m.restic.Run(t, "backup", "--tag", "r", "--host", "hr", m.src)
	if err := os.WriteFile(filepath.Join(m.src, "new-file"), []byte("added later\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(m.src, "new-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteRandomFile(t, filepath.Join(m.src, "new-dir", "big"), 2<<20, 3)
	m.hb.run(t, "backup", "-q", "--tag", "h", "--host", "hh", m.src)
	return m
}

// checkWithRestic runs restic check --read-data and fails on any error.
func (m *mixedRepo) checkWithRestic(t *testing.T) {
	t.Helper()
	out := m.restic.Run(t, "check", "--read-data")
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check:\n%s", out)
	}
}
