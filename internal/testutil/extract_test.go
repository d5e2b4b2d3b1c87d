package testutil

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// writeTarGz writes hdrs (with bodies for regular files) as a PAX archive.
func writeTarGz(t *testing.T, path string, hdrs []*tar.Header, bodies map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, h := range hdrs {
		h.Format = tar.FormatPAX
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(bodies[h.Name]))
		}
		must(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(bodies[h.Name]))
			must(t, err)
		}
	}
	must(t, tw.Close())
	must(t, zw.Close())
	must(t, f.Close())
}

func TestExtractTarGzRestoresEntries(t *testing.T) {
	mt := time.Date(2020, 1, 2, 3, 4, 5, 678901234, time.UTC)
	at := func(i int) time.Time { return mt.Add(time.Duration(i) * time.Hour) }
	archive := filepath.Join(t.TempDir(), "a.tar.gz")
	writeTarGz(t, archive, []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o750, ModTime: at(0)},
		{Name: "ro/", Typeflag: tar.TypeDir, Mode: 0o555, ModTime: at(1)}, // filled after creation
		{Name: "ro/file", Typeflag: tar.TypeReg, Mode: 0o4755, ModTime: at(2),
			PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v\x00\xff"}},
		{Name: "ro/link", Typeflag: tar.TypeSymlink, Linkname: "file", ModTime: at(3)},
		{Name: "ro/hard", Typeflag: tar.TypeLink, Linkname: "ro/file"},
		{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o640, ModTime: at(4)},
		{Name: "no/dir/entries/file", Typeflag: tar.TypeReg, Mode: 0o600, ModTime: at(5)},
	}, map[string]string{"ro/file": "hello", "no/dir/entries/file": "x"})
	dest := filepath.Join(t.TempDir(), "dest")
	ExtractTarGz(t, archive, dest)

	for rel, w := range map[string]struct {
		typ  string
		mode uint32
		mt   time.Time
	}{
		".": {"dir", 0o750, at(0)}, "ro": {"dir", 0o555, at(1)},
		"ro/file": {"file", 0o4755, at(2)}, "ro/link": {"symlink", 0o777, at(3)},
		"fifo": {"fifo", 0o640, at(4)}, "no/dir/entries/file": {"file", 0o600, at(5)},
	} {
		st := lstat(t, filepath.Join(dest, rel))
		if typeName(st.Mode) != w.typ || st.Mode&0o7777 != w.mode {
			t.Errorf("%s: %s %04o, want %s %04o", rel, typeName(st.Mode), st.Mode&0o7777, w.typ, w.mode)
		}
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(w.mt) {
			t.Errorf("%s: mtime %v, want %v", rel, got.UTC(), w.mt)
		}
	}
	if lstat(t, filepath.Join(dest, "ro/hard")).Ino != lstat(t, filepath.Join(dest, "ro/file")).Ino {
		t.Error("hardlink is a separate inode")
	}
	if data, err := os.ReadFile(filepath.Join(dest, "ro/hard")); err != nil || string(data) != "hello" {
		t.Errorf("hardlink content %q, %v", data, err)
	}
	if target, err := os.Readlink(filepath.Join(dest, "ro/link")); err != nil || target != "file" {
		t.Errorf("symlink target %q, %v", target, err)
	}
	x, err := userXattrs(filepath.Join(dest, "ro/file"))
	if err != nil || x["user.k"] != "v\x00\xff" {
		t.Errorf("xattrs %q, %v", x, err)
	}
	must(t, os.Chmod(filepath.Join(dest, "ro"), 0o755)) // let TempDir clean up as non-root
}

func TestExtractTarGzRefusesEscapes(t *testing.T) {
	outside := t.TempDir()
	for name, hdrs := range map[string][]*tar.Header{
		"dot-dot":          {{Name: "../evil", Typeflag: tar.TypeReg}},
		"absolute":         {{Name: filepath.Join(outside, "evil"), Typeflag: tar.TypeReg}},
		"dot-dot inside":   {{Name: "a/../../evil", Typeflag: tar.TypeReg}},
		"through symlink":  {{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside}, {Name: "link/evil", Typeflag: tar.TypeReg}},
		"hardlink outside": {{Name: "h", Typeflag: tar.TypeLink, Linkname: "../outside"}},
		"file as root":     {{Name: ".", Typeflag: tar.TypeReg}},
	} {
		t.Run(name, func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "evil.tar.gz")
			writeTarGz(t, archive, hdrs, nil)
			dest := t.TempDir()
			rec := runRecorded(t, func(tb testing.TB) { ExtractTarGz(tb, archive, dest) })
			if !rec.failed {
				t.Fatal("extraction succeeded")
			}
			t.Logf("refused: %s", rec.msgs[0])
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("wrote outside the destination: %v", entries)
			}
		})
	}
}

// TestExtractTarGzOfTestTree archives the test tree with GNU tar (PAX
// format keeps nanoseconds and xattrs) and checks the extraction is equal
// apart from ownership, which ExtractTarGz deliberately does not restore.
func TestExtractTarGzOfTestTree(t *testing.T) {
	tarBin := RequireBinary(t, "tar")
	src := filepath.Join(t.TempDir(), "src")
	info := MakeTestTree(t, src, TreeOptions{Seed: 4, Special: true, NoUnreadable: !IsRoot()})
	archive := filepath.Join(t.TempDir(), "tree.tar.gz")
	cmd := exec.Command(tarBin, "--format=posix", "--xattrs", "--xattrs-include=user.*", "-C", src, "-czf", archive, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	ExtractTarGz(t, archive, dest)
	CompareTrees(t, src, dest, CompareOptions{Xattrs: info.Xattrs})
}

func TestCleanArchivePath(t *testing.T) {
	for in, want := range map[string]string{"./": "", ".": "", "./a/b/": "a/b", "a//b": "a/b", "a/../b": "b"} {
		if got, err := cleanArchivePath(in); err != nil || got != want {
			t.Errorf("cleanArchivePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/a", "..", "../a", "a/../../b"} {
		if got, err := cleanArchivePath(in); err == nil {
			t.Errorf("cleanArchivePath(%q) = %q, want an error", in, got)
		}
	}
}
