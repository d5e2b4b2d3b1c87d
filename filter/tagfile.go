package filter

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// tagFile implements one --exclude-if-present name[:header] spec.
type tagFile struct {
	name   string
	header []byte // empty: the file's presence is enough
	warnf  func(format string, args ...any)

	mu     sync.Mutex
	tagged map[string]bool // directory -> holds a valid tag file
}

func newTagFile(spec string, warnf func(string, ...any)) (*tagFile, error) {
	if spec == "" {
		return nil, errors.New("name for exclusion tagfile is empty")
	}
	name, header, _ := strings.Cut(spec, ":")
	if name == "" {
		return nil, errors.New("no name for exclusion tagfile provided")
	}
	return &tagFile{name: name, header: []byte(header), warnf: warnf, tagged: map[string]bool{}}, nil
}

// excludes reports whether path lies directly in a directory holding a valid
// tag file. The tag file itself is kept. Deeper entries need no check: the
// archiver never enters their excluded parent.
func (t *tagFile) excludes(path string) bool {
	if filepath.Base(path) == t.name {
		return false
	}
	dir := filepath.Dir(path)
	t.mu.Lock()
	v, ok := t.tagged[dir]
	t.mu.Unlock()
	if ok {
		return v
	}
	// Look outside the lock so parallel walkers do not queue on disk I/O;
	// two of them may rarely check the same directory twice.
	v = t.check(dir)
	t.mu.Lock()
	t.tagged[dir] = v
	t.mu.Unlock()
	return v
}

func (t *tagFile) check(dir string) bool {
	name := filepath.Join(dir, t.name)
	if _, err := os.Lstat(name); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.warnf("could not access exclusion tagfile: %v", err)
		}
		return false
	}
	if len(t.header) == 0 {
		return true
	}
	f, err := os.Open(name)
	if err != nil {
		t.warnf("could not open exclusion tagfile: %v", err)
		return false
	}
	defer func() { _ = f.Close() }()
	buf := make([]byte, len(t.header))
	_, err = io.ReadFull(f, buf)
	switch {
	case err == io.EOF:
		t.warnf("invalid (too short) signature in exclusion tagfile %q", name)
		return false
	case err != nil:
		t.warnf("could not read signature from exclusion tagfile %q: %v", name, err)
		return false
	case !bytes.Equal(buf, t.header):
		t.warnf("invalid signature in exclusion tagfile %q", name)
		return false
	}
	return true
}
