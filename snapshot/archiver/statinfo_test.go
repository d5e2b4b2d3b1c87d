package archiver

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hbackup/hbackup/snapshot"
)

// sourceTypes makes one entry of each kind the walk meets in dir.
func sourceTypes(t *testing.T, dir string) []string {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "file"), []byte("twelve bytes"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "setid"), nil, 0o755))
	must(os.Chmod(filepath.Join(dir, "setid"), 0o755|os.ModeSetuid|os.ModeSetgid))
	must(os.Mkdir(filepath.Join(dir, "sticky"), 0o700))
	must(os.Chmod(filepath.Join(dir, "sticky"), 0o1777|os.ModeSticky))
	must(os.Symlink("file", filepath.Join(dir, "link")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	names := []string{"file", "setid", "sticky", "link", "fifo"}
	if l, err := net.Listen("unix", filepath.Join(dir, "socket")); err == nil {
		t.Cleanup(func() { l.Close() })
		names = append(names, "socket")
	}
	return names
}

// listedDir makes sourceTypes' entries and opens their directory.
func listedDir(t *testing.T) (string, *sourceDir, []string) {
	t.Helper()
	dir := t.TempDir()
	names := sourceTypes(t, dir)
	d, err := openSourceDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	return dir, d, names
}

// TestSourceDirLstat: the walk's fstatat answers as os.Lstat does, for
// every kind of entry and for /dev/null.
func TestSourceDirLstat(t *testing.T) {
	dir, d, names := listedDir(t)
	check := func(d *sourceDir, dirPath, name string) {
		t.Helper()
		path := filepath.Join(dirPath, name)
		got, err := d.lstat(name, path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name() != want.Name() || got.Size() != want.Size() || got.Mode() != want.Mode() ||
			!got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir() {
			t.Errorf("%s: got %s %d %v %v, want %s %d %v %v", name, got.Name(), got.Size(), got.Mode(), got.ModTime(),
				want.Name(), want.Size(), want.Mode(), want.ModTime())
		}
		if *got.Sys().(*syscall.Stat_t) != *want.Sys().(*syscall.Stat_t) {
			t.Errorf("%s: stat %+v, want %+v", name, got.Sys(), want.Sys())
		}
	}
	for _, name := range names {
		check(d, dir, name)
	}
	var listed []string
	for _, e := range d.entries {
		listed = append(listed, e.Name())
	}
	if want := "fifo file link setid socket sticky"; strings.Join(listed, " ") != want && len(names) == 6 {
		t.Errorf("entries %q, want sorted %q", listed, want)
	}
	dev, err := openSourceDir("/dev")
	if err != nil {
		t.Fatal(err)
	}
	defer dev.close()
	check(dev, "/dev", "null")
	if _, err := d.lstat("missing", filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing entry: %v, want ErrNotExist", err)
	}
}

// TestOpenListed: a listed file is opened relative to its directory and
// described by fstat as os.Lstat would; anything that is no longer a
// regular file is refused, a FIFO without blocking.
func TestOpenListed(t *testing.T) {
	dir, d, _ := listedDir(t)
	path := filepath.Join(dir, "file")
	want, err := os.Lstat(path) // before reading, which may change the atime
	if err != nil {
		t.Fatal(err)
	}
	f, fi, err := openListed(d.fd(), "file", path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name() != "file" || fi.Size() != 12 || fi.Mode() != want.Mode() || fi.st != *want.Sys().(*syscall.Stat_t) {
		t.Errorf("file info %s %d %v %+v, want file 12 %v %+v", fi.Name(), fi.Size(), fi.Mode(), fi.st, want.Mode(), want.Sys())
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(got) != "twelve bytes" {
		t.Errorf("read %q, %v", got, err)
	}
	for _, name := range []string{"fifo", "sticky"} {
		if _, _, err := openListed(d.fd(), name, filepath.Join(dir, name)); err == nil || !strings.Contains(err.Error(), "no longer a regular file") {
			t.Errorf("%s: err = %v, want 'no longer a regular file'", name, err)
		}
	}
	if _, _, err := openListed(d.fd(), "link", filepath.Join(dir, "link")); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("symlink: err = %v, want ELOOP", err)
	}
	if _, _, err := openListed(d.fd(), "missing", filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Errorf("missing: err = %v, want ErrNotExist naming the path", err)
	}
}

type pathOnly struct {
	excluded, decided bool
}

func (p pathOnly) Excluded(string, os.FileInfo) bool { return p.excluded }
func (p pathOnly) ExcludedByPath(string) (bool, bool) {
	return p.excluded, p.decided
}

type needsInfo struct{}

func (needsInfo) Excluded(string, os.FileInfo) bool { return false }

func TestListedFileAction(t *testing.T) {
	dir, d, _ := listedDir(t)
	entry := func(name string) os.DirEntry {
		for _, e := range d.entries {
			if e.Name() == name {
				return e
			}
		}
		t.Fatalf("no entry %s", name)
		return nil
	}
	parentFile := &snapshot.Node{Name: "file", Type: snapshot.NodeTypeFile}
	for _, c := range []struct {
		what    string
		entry   string
		pnode   *snapshot.Node
		ex      Excluder
		devices map[uint64]bool
		want    listedAction
	}{
		{"new file", "file", nil, nil, nil, openListedFile},
		{"file in the parent", "file", parentFile, nil, nil, lstatListed},
		{"symlink", "link", nil, nil, nil, lstatListed},
		{"directory", "sticky", nil, nil, nil, lstatListed},
		{"fifo", "fifo", nil, nil, nil, lstatListed},
		{"one file system", "file", nil, nil, map[uint64]bool{1: true}, lstatListed},
		{"kept by path", "file", nil, pathOnly{false, true}, nil, openListedFile},
		{"excluded by path", "file", nil, pathOnly{true, true}, nil, skipListed},
		{"size limit", "file", nil, pathOnly{false, false}, nil, lstatListed},
		{"excluder without paths", "file", nil, needsInfo{}, nil, lstatListed},
	} {
		a := &archiver{opts: Options{Excluder: c.ex}, devices: c.devices}
		if got := a.listedFileAction(entry(c.entry), c.pnode, filepath.Join(dir, c.entry)); got != c.want {
			t.Errorf("%s: %v, want %v", c.what, got, c.want)
		}
	}
}
