package restorer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
)

// twoPackTree stores "bad" and "bad-too" (sharing a blob) in one pack and
// "good" in another, and returns the tree and the shared blob.
func twoPackTree(f *fixture) (repo.ID, repo.PackedBlob) {
	shared := pattern(1, 20_000)
	bad := f.file("bad", pattern(2, 1000), shared)
	badToo := f.file("bad-too", shared)
	f.flush()
	good := f.file("good", pattern(3, 5000))
	root := f.tree(bad, badToo, good)
	f.flush()
	return root, f.packOf(repo.Hash(shared))
}

func TestRestoreCorruptPackReported(t *testing.T) {
	f := newFixture(t)
	root, pb := twoPackTree(f)
	f.corrupt(pb)
	var log errorLog
	target := filepath.Join(t.TempDir(), "t")
	st, err := Restore(f.ctx, f.r, root, target, Options{OnError: log.onError})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bad", "bad-too"} {
		p := filepath.Join(target, name)
		err := log.find(p)
		if !errors.Is(err, repo.ErrIntegrity) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: reported %v, want an integrity error naming the file", name, err)
		}
	}
	wantContent(t, filepath.Join(target, "good"), pattern(3, 5000))
	if st.Errors != 2 || st.Files != 1 || len(log.errs) != 2 {
		t.Errorf("stats %+v, %d reports: want 2 errors, 1 file", *st, len(log.errs))
	}

	// Without OnError the restore fails, naming a file.
	_, err = Restore(f.ctx, f.r, root, filepath.Join(t.TempDir(), "t"), Options{})
	if !errors.Is(err, repo.ErrIntegrity) || !strings.Contains(err.Error(), "/bad") {
		t.Errorf("err = %v, want an integrity error naming bad", err)
	}
}

func TestRestoreMissingPack(t *testing.T) {
	f := newFixture(t)
	root, pb := twoPackTree(f)
	h := backend.Handle{Type: backend.PackFile, Name: pb.PackID.String()}
	must(t, f.be.Remove(f.ctx, h))
	var log errorLog
	target := filepath.Join(t.TempDir(), "t")
	st, err := Restore(f.ctx, f.r, root, target, Options{OnError: log.onError})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bad", "bad-too"} {
		if err := log.find(filepath.Join(target, name)); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("%s: reported %v, want ErrNotExist", name, err)
		}
	}
	wantContent(t, filepath.Join(target, "good"), pattern(3, 5000))
	if st.Errors != 2 {
		t.Errorf("Errors = %d, want 2", st.Errors)
	}
}

func TestRestoreMissingBlob(t *testing.T) {
	f := newFixture(t)
	n := f.file("ghost", []byte("known"))
	n.Content = append(n.Content, repo.Hash([]byte("never stored")))
	root := f.tree(n, f.file("real", []byte("real")))
	f.flush()
	var log errorLog
	target := filepath.Join(t.TempDir(), "t")
	if _, err := Restore(f.ctx, f.r, root, target, Options{OnError: log.onError}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(target, "ghost")
	if err := log.find(p); !errors.Is(err, repo.ErrBlobNotFound) || !strings.Contains(err.Error(), p) {
		t.Errorf("reported %v, want ErrBlobNotFound naming %s", err, p)
	}
	wantNotExist(t, p)
	wantContent(t, filepath.Join(target, "real"), []byte("real"))
}

func TestRestoreUsesIntactCopy(t *testing.T) {
	f := newFixture(t)
	data := pattern(5, 30_000)
	root := f.tree(f.file("f", data))
	f.flush()
	// A second session that has not read the index stores the blob again.
	r2, err := repo.Open(f.ctx, f.be, "pw", repo.Options{})
	must(t, err)
	_, known, err := r2.SaveBlob(f.ctx, repo.DataBlob, data)
	if err != nil || known {
		t.Fatalf("second save: known %v, %v", known, err)
	}
	must(t, r2.Flush(f.ctx))
	r3, err := repo.Open(f.ctx, f.be, "pw", repo.Options{})
	must(t, err)
	must(t, r3.LoadIndex(f.ctx))
	copies := r3.Index().Lookup(repo.BlobHandle{ID: repo.Hash(data), Type: repo.DataBlob})
	if len(copies) != 2 {
		t.Fatalf("%d copies, want 2", len(copies))
	}
	f.corrupt(copies[0]) // the copy the restorer picks

	target := filepath.Join(t.TempDir(), "t")
	st, err := Restore(f.ctx, r3, root, target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantContent(t, filepath.Join(target, "f"), data)
	if st.Errors != 0 || st.Files != 1 {
		t.Errorf("stats %+v", *st)
	}
}

func TestRestoreVerify(t *testing.T) {
	f := newFixture(t)
	a, b := pattern(1, 40_000), pattern(2, 12_345)
	links := hardlinked(f, a, "h1", "h2")
	root := f.tree(f.file("multi", a, b, a), f.file("empty"), links[0], links[1])
	f.flush()
	var log errorLog
	rs := newRestorer(f.r, filepath.Join(t.TempDir(), "t"), Options{Verify: true, OnError: log.onError})
	must(t, rs.run(f.ctx, root))
	if got := rs.stats(); got.Verified != 3 || got.Errors != 0 {
		t.Fatalf("stats %+v: want 3 verified (hardlinks once), no errors", *got)
	}

	// Tamper with the second blob of "multi" and run the verify step again.
	p := filepath.Join(rs.target, "multi")
	fh, err := os.OpenFile(p, os.O_WRONLY, 0)
	must(t, err)
	_, err = fh.WriteAt([]byte{'!'}, int64(len(a))+100)
	must(t, err)
	must(t, fh.Close())
	rs.nVerified.Store(0)
	must(t, rs.verifyAll(f.ctx))
	err = log.find(p)
	if !errors.Is(err, ErrContentMismatch) || !strings.Contains(err.Error(), "offset 40000") {
		t.Errorf("reported %v, want a mismatch at offset 40000 of %s", err, p)
	}
	if got := rs.stats(); got.Verified != 2 || got.Errors != 1 {
		t.Errorf("stats %+v: want 2 verified, 1 error", *got)
	}
}

func TestVerifyFile(t *testing.T) {
	a, b := pattern(1, 1000), pattern(2, 500)
	blobs := []blobRef{{repo.Hash(a), 1000}, {repo.Hash(b), 500}, {repo.Hash(a), 1000}}
	good := append(append(append([]byte{}, a...), b...), a...)
	tampered := append([]byte{}, good...)
	tampered[1200] ^= 1
	for _, c := range []struct {
		name    string
		content []byte
		want    string // "" for no error
	}{
		{"intact", good, ""},
		{"tampered", tampered, "500 bytes at offset 1000"},
		{"short", good[:2400], "file ends before offset 2500"},
		{"long", append(append([]byte{}, good...), 0), "longer than 2500 bytes"},
	} {
		p := filepath.Join(t.TempDir(), c.name)
		must(t, os.WriteFile(p, c.content, 0o600))
		_, err := verifyFile(p, blobs, nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.Is(err, ErrContentMismatch) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p)):
			t.Errorf("%s: err %v, want a mismatch naming the file and %q", c.name, err, c.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", "/", "x\x00"} {
		if err := checkName(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("checkName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"...", ".hidden", "a\\b", "bad\xffname", "new\nline"} {
		if err := checkName(name); err != nil {
			t.Errorf("checkName(%q) = %v", name, err)
		}
	}
}

func TestAllZero(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want bool
	}{{nil, true}, {[]byte{0}, true}, {make([]byte, 4096), true}, {[]byte{1}, false},
		{append(make([]byte, 4095), 1), false}, {[]byte{1, 1, 1}, false}} {
		if got := allZero(c.b); got != c.want {
			t.Errorf("allZero(%d bytes ending %v) = %v", len(c.b), c.b[max(0, len(c.b)-1):], got)
		}
	}
}
