package archiver

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	other := filepath.Join(dir, "other")
	link := filepath.Join(dir, "link")
	for _, p := range []string{file, other} {
		if err := os.WriteFile(p, []byte("content of "+filepath.Base(p)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	lstat := func(p string) os.FileInfo {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}

	f, err := openSource(file, lstat(file))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(got) != "content of file" {
		t.Errorf("read %q, %v", got, err)
	}

	// Replaced since lstat: another inode now has the name.
	fi := lstat(file)
	if err := os.Rename(other, file); err != nil {
		t.Fatal(err)
	}
	if _, err := openSource(file, fi); err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Errorf("replaced file: err = %v, want a 'changed while' error", err)
	}
	// A symlink is never followed, whatever lstat said before.
	if _, err := openSource(link, fi); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("symlink: err = %v, want ELOOP", err)
	}
	// Neither is a directory read as a file.
	if _, err := openSource(dir, lstat(dir)); err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Errorf("directory: err = %v, want a 'changed while' error", err)
	}
	if _, err := openSource(filepath.Join(dir, "missing"), fi); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: err = %v, want ErrNotExist", err)
	}
}
