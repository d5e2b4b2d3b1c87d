package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Entry is one path of a scanned tree: what a restore must reproduce.
// Times and owners are left out on purpose; they vary with who restores.
type Entry struct {
	Rel    string      `json:"rel"`
	Type   string      `json:"type"` // file, dir, symlink or other
	Perm   fs.FileMode `json:"perm"`
	Size   int64       `json:"size,omitempty"`
	SHA256 string      `json:"sha256,omitempty"` // files
	Target string      `json:"target,omitempty"` // symlinks
}

func (e Entry) String() string {
	switch e.Type {
	case "file":
		return fmt.Sprintf("file %04o %d %s", e.Perm, e.Size, e.SHA256)
	case "symlink":
		return fmt.Sprintf("symlink -> %q", e.Target)
	default:
		return fmt.Sprintf("%s %04o", e.Type, e.Perm)
	}
}

// Manifest is the digest of a tree: every entry and one hash over them.
type Manifest struct {
	Entries  []Entry // in lexical path order
	Sum      string  // hex SHA-256 over all entries
	Files    int
	Dirs     int
	Symlinks int
	Bytes    int64
}

// Scan walks dir without following symlinks and hashes every file.
func Scan(dir string) (*Manifest, error) {
	m := &Manifest{}
	sum := sha256.New()
	buf := make([]byte, MiB)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := Entry{Rel: rel, Perm: info.Mode().Perm(), Type: "other"}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			e.Type, e.Perm = "symlink", 0 // Linux symlink modes mean nothing
			if e.Target, err = os.Readlink(path); err != nil {
				return err
			}
			m.Symlinks++
		case info.IsDir():
			e.Type = "dir"
			m.Dirs++
		case info.Mode().IsRegular():
			e.Type = "file"
			if e.Size, e.SHA256, err = hashFile(path, buf); err != nil {
				return err
			}
			m.Files++
			m.Bytes += e.Size
		}
		m.Entries = append(m.Entries, e)
		fmt.Fprintf(sum, "%q %s\n", e.Rel, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", dir, err)
	}
	m.Sum = hex.EncodeToString(sum.Sum(nil))
	return m, nil
}

func hashFile(path string, buf []byte) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf) // hide WriterTo so buf is used
	if err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Diff lists the differences between two manifests, one line per path,
// in path order; nil means the trees are equal.
func Diff(want, got *Manifest) []string {
	w, g := index(want), index(got)
	paths := make([]string, 0, len(w)+len(g))
	for rel := range w {
		paths = append(paths, rel)
	}
	for rel := range g {
		if _, ok := w[rel]; !ok {
			paths = append(paths, rel)
		}
	}
	sort.Strings(paths)
	var out []string
	for _, rel := range paths {
		we, inW := w[rel]
		ge, inG := g[rel]
		switch {
		case !inG:
			out = append(out, fmt.Sprintf("%s: missing (want %s)", rel, we))
		case !inW:
			out = append(out, fmt.Sprintf("%s: unexpected (got %s)", rel, ge))
		case we != ge:
			out = append(out, fmt.Sprintf("%s: want %s, got %s", rel, we, ge))
		}
	}
	return out
}

func index(m *Manifest) map[string]Entry {
	out := make(map[string]Entry, len(m.Entries))
	for _, e := range m.Entries {
		out[e.Rel] = e
	}
	return out
}
