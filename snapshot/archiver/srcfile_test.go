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

// readsCounted hands out data in pieces of at most piece bytes and counts
// the calls to Read.
type readsCounted struct {
	data  []byte
	piece int
	calls int
}

func (r *readsCounted) Read(p []byte) (int, error) {
	r.calls++
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.piece)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadSmall(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      string
		piece     int
		size      int // as lstat gave it
		want      string
		wantErr   error
		wantCalls int
	}{
		// The size lstat gave is read: no read for the end of the file.
		{"as long as lstat said", "0123456789", 100, 10, "0123456789", io.EOF, 1},
		{"in pieces", "0123456789", 4, 10, "0123456789", io.EOF, 3},
		// Grown since lstat: what lstat saw, the rest for the next backup.
		{"grew", "0123456789abc", 100, 10, "0123456789abc", io.ErrUnexpectedEOF, 2},
		{"grew, in pieces", "0123456789abc", 5, 10, "0123456789", io.EOF, 2},
		// Shrunk since lstat: up to the end of the file.
		{"shrank", "01234", 100, 10, "01234", io.ErrUnexpectedEOF, 2},
		{"empty", "", 100, 0, "", io.EOF, 1},
		// Grown past the buffer: the buffer full, the rest for the chunker.
		{"grew past the buffer", strings.Repeat("x", 40), 100, 10, strings.Repeat("x", 16), nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &readsCounted{data: []byte(tc.data), piece: tc.piece}
			buf := make([]byte, 16)
			n, err := readSmall(r, buf, tc.size)
			if got := string(buf[:n]); got != tc.want || !errors.Is(err, tc.wantErr) && err != tc.wantErr {
				t.Errorf("read %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if r.calls != tc.wantCalls {
				t.Errorf("%d calls to Read, want %d", r.calls, tc.wantCalls)
			}
		})
	}
}
