// Package layout maps backend handles to paths in restic's default
// repository layout, and gives the permissions of the files and
// directories. It is shared by the backends that store files in a
// directory tree (local and sftp), so all of them agree on where each
// file lives and who may read it.
package layout

import (
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/backend"
)

// TempMarker separates a file's final name from the random suffix of the
// temporary file it is written to. Listings skip names containing it.
const TempMarker = "-tmp-"

// Filename returns the path of h relative to the repository root, with
// '/' as separator: "config", "keys/<name>", "data/<name[:2]>/<name>".
// h should pass Check.
func Filename(h backend.Handle) string {
	if h.Type == backend.ConfigFile {
		return "config"
	}
	return Dirname(h) + "/" + h.Name
}

// Dirname returns the directory holding h, relative to the repository
// root: "." for config, "data/<name[:2]>" for packs, the type's
// directory otherwise.
func Dirname(h backend.Handle) string {
	switch h.Type {
	case backend.ConfigFile:
		return "."
	case backend.PackFile:
		// Packs are spread over 256 subdirectories so no single
		// directory grows huge. A name shorter than two characters
		// is its own prefix.
		prefix := h.Name
		if len(prefix) > 2 {
			prefix = prefix[:2]
		}
		return "data/" + prefix
	}
	return h.Type.String()
}

// Paths returns every directory of a new repository, parents before
// children: the type directories, then data/00 to data/ff.
func Paths() []string {
	paths := make([]string, 0, len(backend.AllTypes)+256)
	for _, t := range backend.AllTypes {
		paths = append(paths, t.String())
	}
	for i := range 256 {
		paths = append(paths, fmt.Sprintf("data/%02x", i))
	}
	return paths
}

// Check reports whether h is valid and its name is safe to use as a
// single path element: no separators, no "." or "..", and no TempMarker
// (such a file would be hidden from List).
func Check(h backend.Handle) error {
	if err := h.Valid(); err != nil {
		return err
	}
	if h.Type == backend.ConfigFile {
		return nil
	}
	switch {
	case h.Name == "." || h.Name == "..":
		return fmt.Errorf("invalid file name %q", h.Name)
	case strings.ContainsAny(h.Name, "/\\\x00"):
		return fmt.Errorf("invalid file name %q: contains a path separator or NUL", h.Name)
	case strings.Contains(h.Name, TempMarker):
		return fmt.Errorf("invalid file name %q: contains %q", h.Name, TempMarker)
	}
	return nil
}
