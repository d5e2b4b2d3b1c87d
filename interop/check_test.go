package interop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
	"golang.org/x/sync/errgroup"
)

// checkVerdict is what a `check --read-data` run says, reduced to what
// restic and hbackup must agree on: the exit code and, per kind of
// problem, the IDs it names. Wording and order may differ.
type checkVerdict struct {
	Code     int
	Missing  []string // packs that "does not exist"
	Size     []string // packs with "unexpected file size"
	Damaged  []string // every pack named in an error line
	Trees    []string // trees with errors (short IDs)
	Blobs    []string // file blobs "not found in index"
	Orphans  []string // hint: packs "not referenced in any index"
	Dups     []string // hint: packs "contained in several indexes"
	Mixed    []string // hint: packs that "contain a mix of tree and data blobs"
	Indexes  []string // unreadable index files
	Snaps    []string // unreadable snapshots (short IDs)
	Panicked bool
}

var (
	rePack       = regexp.MustCompile(`(?i)pack (?:ID does not match, want )?([0-9a-f]{64})`)
	rePackMiss   = regexp.MustCompile(`pack ([0-9a-f]{64}): does not exist`)
	rePackSize   = regexp.MustCompile(`pack ([0-9a-f]{64}): unexpected file size`)
	reTree       = regexp.MustCompile(`^error for tree ([0-9a-f]{8}):`)
	reBlob       = regexp.MustCompile(`blob ([0-9a-f]{64}) not found in index`)
	reOrphan     = regexp.MustCompile(`pack ([0-9a-f]{64}): not referenced in any index`)
	reDup        = regexp.MustCompile(`pack ([0-9a-f]{64}) contained in several indexes`)
	reMixed      = regexp.MustCompile(`pack ([0-9a-f]{8}) contains a mix of tree and data blobs`)
	reIndex      = regexp.MustCompile(`^error: error loading index ([0-9a-f]{64})`)
	reSnap       = regexp.MustCompile(`^error: .*snapshots?[/ ]([0-9a-f]{8})`)
	reRetryNoise = regexp.MustCompile(`returned error, retrying after`)
)

func parseCheck(stdout, stderr []byte, code int) checkVerdict {
	v := checkVerdict{Code: code, Panicked: strings.Contains(string(stderr), "goroutine ") || strings.Contains(string(stderr), "panic:")}
	add := func(list *[]string, re *regexp.Regexp, line string) {
		for _, m := range re.FindAllStringSubmatch(line, -1) {
			if !slices.Contains(*list, m[1]) {
				*list = append(*list, m[1])
			}
		}
	}
	for _, line := range strings.Split(string(stdout), "\n") {
		add(&v.Orphans, reOrphan, line)
		add(&v.Dups, reDup, line)
		add(&v.Mixed, reMixed, line)
	}
	for _, line := range strings.Split(string(stderr), "\n") {
		if reRetryNoise.MatchString(line) {
			continue // restic's backend retries, not findings
		}
		add(&v.Missing, rePackMiss, line)
		add(&v.Size, rePackSize, line)
		add(&v.Damaged, rePack, line)
		add(&v.Trees, reTree, line)
		add(&v.Blobs, reBlob, line)
		add(&v.Indexes, reIndex, line)
		add(&v.Snaps, reSnap, line)
	}
	for _, l := range [][]string{v.Missing, v.Size, v.Damaged, v.Trees, v.Blobs, v.Orphans, v.Dups, v.Mixed, v.Indexes, v.Snaps} {
		slices.Sort(l)
	}
	return v
}

func (v checkVerdict) String() string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// pendingCheck is a `restic check --read-data` running in the
// background: restic retries a missing pack for about a minute, so the
// tests start every restic run first and compare afterwards.
type pendingCheck struct {
	done         chan struct{}
	stdout, errb []byte
	code         int
}

// startResticCheck runs restic on a private copy of repoDir under base,
// so hbackup can check the original meanwhile without meeting restic's
// exclusive lock.
func startResticCheck(t *testing.T, g *errgroup.Group, base, repoDir string) *pendingCheck {
	t.Helper()
	dir, err := os.MkdirTemp(base, "restic-")
	if err != nil {
		t.Fatal(err)
	}
	copyDir(t, repoDir, filepath.Join(dir, "repo"))
	r := &testutil.Restic{Bin: testutil.RequireBinary(t, "restic"), Repo: filepath.Join(dir, "repo"),
		Password: "geheim", CacheDir: filepath.Join(dir, "cache")}
	p := &pendingCheck{done: make(chan struct{})}
	g.Go(func() error {
		defer close(p.done)
		p.stdout, p.errb, p.code = r.RunErr("check", "--read-data")
		return nil
	})
	return p
}

// compareCheck runs hbackup check --read-data on repoDir, waits for
// restic's run on its copy, and fails the test unless both reach the same
// verdict. It returns hbackup's.
func compareCheck(t *testing.T, repoDir string, restic *pendingCheck) checkVerdict {
	t.Helper()
	hbOut, hbErr, hbCode := newHbackup(repoDir).runErr("check", "--read-data")
	<-restic.done
	hb, r := parseCheck(hbOut, hbErr, hbCode), parseCheck(restic.stdout, restic.errb, restic.code)
	if hb.Panicked {
		t.Errorf("hbackup panicked:\n%s", hbErr)
	}
	if hb.String() != r.String() {
		t.Errorf("verdicts differ\nhbackup: %v\nrestic: %v\nhbackup output:\n%s%s\nrestic output:\n%s%s",
			hb, r, hbOut, hbErr, restic.stdout, restic.errb)
	}
	t.Logf("verdict of both: %v\nhbackup output:\n%s%s", hb, hbOut, hbErr)
	return hb
}

// TestCheckFixtures: on every repository of restic's test suite, intact
// or damaged, hbackup check --read-data reaches restic's verdict.
func TestCheckFixtures(t *testing.T) {
	testutil.RequireBinary(t, "restic")
	t.Parallel()
	base := t.TempDir()
	var g errgroup.Group
	t.Cleanup(func() { _ = g.Wait() }) // before base is removed
	damaged := map[string]bool{"repo-data-missing": true, "repo-index-missing": true,
		"repo-index-missing-blob": true, "repo-unused-data-missing": true}
	type job struct {
		name, repo string
		restic     *pendingCheck
	}
	var jobs []job
	for _, name := range []string{"small-repo", "repo-layout-default", "repo-mixed", "repo-same-timestamps",
		"repo-restore-permissions-test", "repo-duplicates", "duplicate-packs-in-index-test-repo",
		"repo-obsolete-index", "copy-unstable-json", "repo-unreferenced-data", "restic-0.19.1-v2",
		"repo-data-missing", "repo-index-missing", "repo-index-missing-blob", "repo-unused-data-missing"} {
		repoDir := filepath.Join(testutil.Fixture(t, name), "repo")
		jobs = append(jobs, job{name, repoDir, startResticCheck(t, &g, base, repoDir)})
	}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			v := compareCheck(t, j.repo, j.restic)
			if (v.Code != 0) != damaged[j.name] {
				t.Errorf("exit code %d, damaged=%v", v.Code, damaged[j.name])
			}
		})
	}
}

// TestCheckDamagedHbackupRepository damages a repository hbackup wrote in
// each way check must catch; both tools report the same problems.
func TestCheckDamagedHbackupRepository(t *testing.T) {
	testutil.RequireBinary(t, "restic")
	t.Parallel()
	base := t.TempDir()
	var g errgroup.Group
	t.Cleanup(func() { _ = g.Wait() })
	template := backedUpRepo(t, filepath.Join(base, "template"), 1)
	type job struct {
		name, repo string
		check      func(v checkVerdict) bool
		restic     *pendingCheck
	}
	var jobs []job
	for i, tc := range []struct {
		name   string
		damage func(t *testing.T, repoDir string)
		check  func(v checkVerdict) bool
	}{
		{"intact", func(*testing.T, string) {}, func(v checkVerdict) bool { return v.Code == 0 }},
		{"flipped byte in pack", func(t *testing.T, d string) { flipByte(100)(t, writable(t, largestPack(t, d))) },
			func(v checkVerdict) bool { return v.Code == 1 && len(v.Damaged) == 1 }},
		{"truncated pack", func(t *testing.T, d string) { truncate(50)(t, writable(t, largestPack(t, d))) },
			func(v checkVerdict) bool { return v.Code == 1 && len(v.Size) == 1 }},
		{"missing pack", func(t *testing.T, d string) { mustRemove(t, largestPack(t, d)) },
			func(v checkVerdict) bool { return v.Code == 1 && len(v.Missing) == 1 }},
		{"wrong MAC", func(t *testing.T, d string) {
			pb := someBlob(t, d, repo.DataBlob)
			flipByte(int64(pb.Offset+pb.Length-1))(t, writable(t, packPath(d, pb.PackID)))
		}, func(v checkVerdict) bool { return v.Code == 1 && len(v.Damaged) == 1 }},
		{"corrupted tree", func(t *testing.T, d string) {
			pb := someBlob(t, d, repo.TreeBlob)
			flipByte(int64(pb.Offset+20))(t, writable(t, packPath(d, pb.PackID)))
		}, func(v checkVerdict) bool { return v.Code == 1 && len(v.Trees) == 1 && len(v.Damaged) == 1 }},
		{"missing index entry", func(t *testing.T, d string) {
			dropIndexEntry(t, d, someBlob(t, d, repo.DataBlob).BlobHandle)
		}, func(v checkVerdict) bool { return v.Code == 1 && len(v.Blobs) == 1 && len(v.Size) == 1 }},
		{"pack not in any index", func(t *testing.T, d string) { addOrphanPack(t, d) },
			func(v checkVerdict) bool { return v.Code == 0 && len(v.Orphans) > 0 }},
		{"duplicate index", func(t *testing.T, d string) { duplicateIndex(t, d) },
			func(v checkVerdict) bool { return v.Code == 0 && len(v.Dups) > 0 }},
		{"unreadable index", func(t *testing.T, d string) {
			flipByte(40)(t, writable(t, filepath.Join(d, "index", indexFiles(t, d)[0].String())))
		}, func(v checkVerdict) bool { return v.Code == 1 && len(v.Indexes) == 1 }},
		{"unreadable snapshot", func(t *testing.T, d string) {
			snaps, _ := filepath.Glob(filepath.Join(d, "snapshots", "*"))
			flipByte(40)(t, writable(t, snaps[0]))
		}, func(v checkVerdict) bool { return v.Code == 1 && len(v.Snaps) == 1 }},
	} {
		repoDir := filepath.Join(base, fmt.Sprintf("case%d", i), "repo")
		copyDir(t, template, repoDir)
		tc.damage(t, repoDir)
		jobs = append(jobs, job{tc.name, repoDir, tc.check, startResticCheck(t, &g, base, repoDir)})
	}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			if v := compareCheck(t, j.repo, j.restic); !j.check(v) {
				t.Errorf("damage not reported as expected: %v", v)
			}
		})
	}
}

// copyDir copies a directory tree of regular files, keeping their modes.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// backedUpRepo makes a repository under base holding one hbackup backup
// of a few files, one of them large enough for several chunks.
func backedUpRepo(t *testing.T, base string, seed int64) string {
	t.Helper()
	src := filepath.Join(base, fmt.Sprintf("src%d", seed))
	if err := os.MkdirAll(filepath.Join(src, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteRandomFile(t, filepath.Join(src, "big"), 3<<20, seed)
	testutil.WriteRandomFile(t, filepath.Join(src, "dir", "small"), 1000, seed+1)
	repoDir := filepath.Join(base, "repo")
	hb := newHbackup(repoDir)
	if _, err := os.Stat(repoDir); err != nil {
		hb.run(t, "init")
	}
	hb.run(t, "backup", src)
	return repoDir
}

func packPath(repoDir string, id repo.ID) string {
	return filepath.Join(repoDir, "data", id.String()[:2], id.String())
}

// largestPack returns the path of the biggest pack: file content.
func largestPack(t *testing.T, repoDir string) string {
	t.Helper()
	var best string
	var size int64
	_ = filepath.Walk(filepath.Join(repoDir, "data"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Size() > size {
			best, size = p, fi.Size()
		}
		return nil
	})
	if best == "" {
		t.Fatal("no pack")
	}
	return best
}

func writable(t *testing.T, p string) string {
	t.Helper()
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// someBlob returns the indexed blob of type bt with the smallest ID.
func someBlob(t *testing.T, repoDir string, bt repo.BlobType) repo.PackedBlob {
	t.Helper()
	r := openRepo(t, repoDir)
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	var best *repo.PackedBlob
	r.Index().Each(func(pb repo.PackedBlob) {
		if pb.Type == bt && (best == nil || pb.ID.String() < best.ID.String()) {
			best = &pb
		}
	})
	if best == nil {
		t.Fatalf("no %v blob", bt)
	}
	return *best
}

func indexFiles(t *testing.T, repoDir string) []repo.ID {
	t.Helper()
	var ids []repo.ID
	err := openRepo(t, repoDir).List(context.Background(), backend.IndexFile, func(id repo.ID, _ int64) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// dropIndexEntry rewrites the index files without the blob h.
func dropIndexEntry(t *testing.T, repoDir string, h repo.BlobHandle) {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, repoDir)
	type blobJSON struct {
		ID                 repo.ID       `json:"id"`
		Type               repo.BlobType `json:"type"`
		Offset             uint32        `json:"offset"`
		Length             uint32        `json:"length"`
		UncompressedLength uint32        `json:"uncompressed_length,omitempty"`
	}
	type packJSON struct {
		ID    repo.ID    `json:"id"`
		Blobs []blobJSON `json:"blobs"`
	}
	for _, id := range indexFiles(t, repoDir) {
		f, err := r.LoadIndexFile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Packs []packJSON `json:"packs"`
		}
		for _, p := range f.Packs {
			jp := packJSON{ID: p.ID, Blobs: []blobJSON{}}
			for _, b := range p.Blobs {
				if b.BlobHandle != h {
					jp.Blobs = append(jp.Blobs, blobJSON{b.ID, b.Type, b.Offset, b.Length, b.UncompressedLength})
				}
			}
			out.Packs = append(out.Packs, jp)
		}
		data, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.SaveUnpacked(ctx, backend.IndexFile, data); err != nil {
			t.Fatal(err)
		}
		mustRemove(t, filepath.Join(repoDir, "index", id.String()))
	}
}

// addOrphanPack backs up new data, then deletes that backup's index and
// snapshot files: its packs stay behind, listed nowhere.
func addOrphanPack(t *testing.T, repoDir string) {
	t.Helper()
	oldIdx := indexFiles(t, repoDir)
	oldSnaps, _ := filepath.Glob(filepath.Join(repoDir, "snapshots", "*"))
	backedUpRepo(t, filepath.Dir(repoDir), 99)
	for _, id := range indexFiles(t, repoDir) {
		if !slices.Contains(oldIdx, id) {
			mustRemove(t, filepath.Join(repoDir, "index", id.String()))
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(repoDir, "snapshots", "*"))
	for _, s := range snaps {
		if !slices.Contains(oldSnaps, s) {
			mustRemove(t, s)
		}
	}
}

// duplicateIndex stores the content of an index file a second time.
func duplicateIndex(t *testing.T, repoDir string) {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, repoDir)
	data, err := r.LoadUnpacked(ctx, backend.IndexFile, indexFiles(t, repoDir)[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveUnpacked(ctx, backend.IndexFile, data); err != nil {
		t.Fatal(err)
	}
}
