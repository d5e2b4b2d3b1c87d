package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixturePassword is the password of every fixture repository.
const fixturePassword = "geheim"

// fixtureRepo is what README.md (and `restic check`, run by hand when the
// fixtures were added) says about one repository archive.
type fixtureRepo struct {
	snapshots, indexes, packs int
	version                   int      // repository format version
	checkSays                 []string // substrings of `restic check` output
	damaged                   bool     // `restic check` must fail
}

func fixtureRepos() map[string]fixtureRepo {
	notIndexed := "not referenced in any index"
	return map[string]fixtureRepo{
		"small-repo":                         {snapshots: 4, indexes: 1, packs: 3, version: 1},
		"repo-layout-default":                {snapshots: 3, indexes: 2, packs: 3, version: 1},
		"repo-mixed":                         {snapshots: 1, indexes: 1, packs: 1, version: 1, checkSays: []string{"contains a mix of tree and data blobs"}},
		"repo-same-timestamps":               {snapshots: 3, indexes: 1, packs: 1, version: 1},
		"repo-restore-permissions-test":      {snapshots: 1, indexes: 1, packs: 2, version: 1},
		"repo-duplicates":                    {snapshots: 1, indexes: 2, packs: 4, version: 1},
		"duplicate-packs-in-index-test-repo": {snapshots: 0, indexes: 6, packs: 20, version: 1, checkSays: []string{"contained in several indexes"}},
		"repo-obsolete-index":                {snapshots: 1, indexes: 2, packs: 2, version: 1, checkSays: []string{"contained in several indexes"}},
		"copy-unstable-json":                 {snapshots: 1, indexes: 1, packs: 1, version: 1},
		"repo-unreferenced-data":             {snapshots: 1, indexes: 1, packs: 3, version: 1, checkSays: []string{notIndexed}},
		"repo-data-missing": {snapshots: 1, indexes: 1, packs: 1, version: 1, damaged: true,
			checkSays: []string{"pack 1959b7f2802f1d83c9eeda21f3d5c5f4ff6c4b122a59b5f5ca5e28a4970a37b4: does not exist"}},
		"repo-index-missing": {snapshots: 2, indexes: 1, packs: 4, version: 1, damaged: true,
			checkSays: []string{notIndexed, "c5897731f7e9b913e3d6b90feeaaab07a831a50614c10e9dd9e098ca761ae961 not found in repository"}},
		"repo-index-missing-blob": {snapshots: 1, indexes: 1, packs: 3, version: 1, damaged: true,
			checkSays: []string{`file "test" blob f2ca1bb6c7e907d06dafe4687e579fce76b37e4e93b7605022da52e6ccc26fd2 not found in index`}},
		// More than README says: two packs are missing and a third is empty.
		"repo-unused-data-missing": {snapshots: 1, indexes: 4, packs: 3, version: 1, damaged: true,
			checkSays: []string{"does not exist", "unexpected file size: got 0"}},
		"restic-0.19.1-v2": {snapshots: 2, indexes: 2, packs: 4, version: 2},
	}
}

// fixtureTrees are the archives that hold plain trees, not repositories.
func fixtureTrees() []string { return []string{"backup-data", "test.hl"} }

func TestFixtureFilesComplete(t *testing.T) {
	dir := FixtureDir(t)
	archives, err := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range archives {
		got = append(got, strings.TrimSuffix(filepath.Base(a), ".tar.gz"))
	}
	sort.Strings(got)
	want := fixtureTrees()
	for name := range fixtureRepos() {
		want = append(want, name)
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("archives:\n got %v\nwant %v", got, want)
	}
	for _, doc := range []string{"README.md", "ATTRIBUTION.md"} {
		if _, err := os.Stat(filepath.Join(dir, doc)); err != nil {
			t.Error(err)
		}
	}
}

// countFiles counts regular files directly in dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n
}

// countPacks counts data/xx/<id> files and checks the default layout.
func countPacks(t *testing.T, repo string) int {
	t.Helper()
	packName := regexp.MustCompile(`^[0-9a-f]{64}$`)
	n := 0
	err := filepath.WalkDir(filepath.Join(repo, "data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name, parent := d.Name(), filepath.Base(filepath.Dir(p))
		if !packName.MatchString(name) || parent != name[:2] {
			t.Errorf("pack %s is not at data/<first two hex digits>/<id>", p)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFixtureRepoShapes(t *testing.T) {
	for name, want := range fixtureRepos() {
		t.Run(name, func(t *testing.T) {
			repo := filepath.Join(Fixture(t, name), "repo")
			if st, err := os.Lstat(filepath.Join(repo, "config")); err != nil || !st.Mode().IsRegular() {
				t.Fatalf("repo/config: %v", err)
			}
			if n := countFiles(t, filepath.Join(repo, "keys")); n != 1 {
				t.Errorf("%d keys", n)
			}
			got := fixtureRepo{
				snapshots: countFiles(t, filepath.Join(repo, "snapshots")),
				indexes:   countFiles(t, filepath.Join(repo, "index")),
				packs:     countPacks(t, repo),
			}
			if got.snapshots != want.snapshots || got.indexes != want.indexes || got.packs != want.packs {
				t.Errorf("snapshots/index/packs = %d/%d/%d, want %d/%d/%d",
					got.snapshots, got.indexes, got.packs, want.snapshots, want.indexes, want.packs)
			}
		})
	}
}

func TestFixtureTreeShapes(t *testing.T) {
	t.Run("backup-data", func(t *testing.T) {
		dir := Fixture(t, "backup-data")
		tests := filepath.Join(dir, "0", "tests")
		if lstat(t, filepath.Join(tests, "testfile")).Ino != lstat(t, filepath.Join(tests, "testfile-hardlink")).Ino {
			t.Error("0/tests/testfile is not hardlinked")
		}
		if target, err := os.Readlink(filepath.Join(tests, "testfile-symlink")); err != nil || target != "testfile" {
			t.Errorf("symlink -> %q, %v", target, err)
		}
		if n := countFiles(t, filepath.Join(dir, "0", "0", "9")); n != 69 {
			t.Errorf("0/0/9 has %d files", n)
		}
	})
	t.Run("test.hl", func(t *testing.T) {
		dir := Fixture(t, "test.hl")
		if lstat(t, filepath.Join(dir, "test-base")).Ino != lstat(t, filepath.Join(dir, "test-hardlink")).Ino {
			t.Error("test-base and test-hardlink are not one inode")
		}
	})
	t.Run("restic-0.19.1-v2 src", func(t *testing.T) {
		src := filepath.Join(Fixture(t, "restic-0.19.1-v2"), "src")
		for rel, typ := range map[string]string{
			"fifo": "fifo", "link": "symlink", "badlink": "symlink", "hello.txt": "file",
			"sub/hardlink": "file", "sub/new.txt": "file", "name\twith\ttabs": "file",
			`quote"and\back`: "file", "random.bin": "file",
		} {
			if got := typeName(lstat(t, filepath.Join(src, rel)).Mode); got != typ {
				t.Errorf("%q is a %s, want %s", rel, got, typ)
			}
		}
		if target, _ := os.Readlink(filepath.Join(src, "badlink")); target != "tgt\xff" {
			t.Errorf("badlink -> %q", target)
		}
		if st := lstat(t, filepath.Join(src, "random.bin")); st.Size != 3000000 {
			t.Errorf("random.bin has %d bytes", st.Size)
		}
		if lstat(t, filepath.Join(src, "hello.txt")).Ino != lstat(t, filepath.Join(src, "sub/hardlink")).Ino {
			t.Error("sub/hardlink is not hello.txt")
		}
	})
}

// fixtureRestic extracts the named repository fixture and returns the
// extraction directory and a Restic for its repo/. The restic check comes
// first so a skip does not extract anything.
func fixtureRestic(t *testing.T, name string) (string, *Restic) {
	t.Helper()
	RequireBinary(t, "restic")
	dir := Fixture(t, name)
	return dir, NewRestic(t, filepath.Join(dir, "repo"), fixturePassword)
}

type resticSnapshot struct {
	Time     time.Time `json:"time"`
	Hostname string    `json:"hostname"`
	Tags     []string  `json:"tags"`
	Paths    []string  `json:"paths"`
}

// TestFixtureSmallRepoOpens is the basic check that the real restic reads
// a fixture repository with the documented password.
func TestFixtureSmallRepoOpens(t *testing.T) {
	_, r := fixtureRestic(t, "small-repo")
	var snaps []resticSnapshot
	r.RunJSON(t, &snaps, "snapshots")
	if len(snaps) != 4 {
		t.Fatalf("%d snapshots, want 4", len(snaps))
	}
}

func TestFixtureResticCheck(t *testing.T) {
	RequireBinary(t, "restic") // skip or fail once, not per repository
	for name, want := range fixtureRepos() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, r := fixtureRestic(t, name)
			var cfg struct{ Version int }
			if err := json.Unmarshal(r.Run(t, "cat", "config"), &cfg); err != nil || cfg.Version != want.version {
				t.Errorf("config version %d (%v), want %d", cfg.Version, err, want.version)
			}
			stdout, stderr, code := r.RunErr("check")
			out := string(stdout) + string(stderr)
			if failed := code != 0; failed != want.damaged {
				t.Errorf("restic check exit code %d, damaged=%v:\n%s", code, want.damaged, out)
			}
			for _, s := range want.checkSays {
				if !strings.Contains(out, s) {
					t.Errorf("restic check output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestFixtureSameTimestamps pins down what "identical timestamps" means:
// the three snapshots share the second, not the nanoseconds.
func TestFixtureSameTimestamps(t *testing.T) {
	_, r := fixtureRestic(t, "repo-same-timestamps")
	var snaps []resticSnapshot
	r.RunJSON(t, &snaps, "snapshots")
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	for _, s := range snaps[1:] {
		if !s.Time.Truncate(time.Second).Equal(snaps[0].Time.Truncate(time.Second)) {
			t.Errorf("snapshot times %v and %v are in different seconds", s.Time, snaps[0].Time)
		}
	}
}

// TestFixtureV2RestoresSrc restores the newest snapshot of the 0.19.1
// repository and compares it with the archived src/. The archive lost what
// GNU tar format cannot hold (nanoseconds, xattrs), so mtimes are compared
// to the second and those two are checked on the restored side only.
func TestFixtureV2RestoresSrc(t *testing.T) {
	dir, r := fixtureRestic(t, "restic-0.19.1-v2")
	var snaps []resticSnapshot
	r.RunJSON(t, &snaps, "snapshots")
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots, want 2", len(snaps))
	}
	for _, s := range snaps {
		if s.Hostname != "fixturehost" || strings.Join(s.Tags, ",") != "fixture" || strings.Join(s.Paths, ",") != "/srv/hbackup-fixture/src" {
			t.Errorf("snapshot %+v", s)
		}
	}
	dst := t.TempDir()
	r.Run(t, "restore", "latest", "--target", dst)
	got := filepath.Join(dst, "src")

	d := Diff(filepath.Join(dir, "src"), got, CompareOptions{MtimePrecision: time.Second})
	var want []string
	if v := r.Version(t); !versionAtLeast(v, 0, 16) { // see TestResticRoundTrip
		want = []string{"\"badlink\": symlink target: want \"tgt\\xff\", got \"tgt\uFFFD\""}
	}
	if strings.Join(d, "\n") != strings.Join(want, "\n") {
		t.Errorf("restored snapshot differs from src/:\n%s\nwant:\n%s", joinLines(d), joinLines(want))
	}

	hello := filepath.Join(got, "hello.txt")
	st := lstat(t, hello)
	if mt := time.Unix(st.Mtim.Unix()).UTC(); mt.Nanosecond() != 123456789 {
		t.Errorf("restored hello.txt mtime %v, want nanoseconds .123456789", mt)
	}
	if x, err := userXattrs(hello); err != nil || x["user.note"] != "a note" {
		t.Errorf("restored hello.txt xattrs %q, %v", x, err)
	}
}
