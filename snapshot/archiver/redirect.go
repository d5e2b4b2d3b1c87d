package archiver

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hbackup/hbackup/snapshot"
)

// A Redirect makes the archiver read the content of Path from Source while
// recording Path: Path appears in the snapshot's paths and trees exactly as
// if it had been read directly. This is how a backup reads a frozen copy,
// such as a ZFS snapshot mounted elsewhere, yet keeps parent detection and
// restores working on the real location.
type Redirect struct {
	// Path is the absolute path recorded in the snapshot.
	Path string
	// Source is the directory whose content is read instead.
	Source string
	// DeviceID replaces the device ID of every node read from Source's
	// file system. Each mount of a snapshot gets a new device number, and
	// restic stores device IDs in its trees, so without this every
	// directory would look changed from run to run. Zero keeps the device
	// ID of Path itself (its live file system), as a backup of the live
	// path would record.
	DeviceID uint64
}

// redirector translates recorded paths to the paths read from disk.
type redirector struct {
	// sorted by descending Path length, so nested redirects win
	entries []redirectEntry
}

type redirectEntry struct {
	Redirect
	sourceDev uint64 // device of Source, replaced by DeviceID
}

func newRedirector(rs []Redirect) (*redirector, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	rd := &redirector{}
	for _, r := range rs {
		if !filepath.IsAbs(r.Path) || !filepath.IsAbs(r.Source) {
			return nil, fmt.Errorf("redirect %q -> %q: both paths must be absolute", r.Path, r.Source)
		}
		e := redirectEntry{Redirect: r}
		e.Path, e.Source = filepath.Clean(r.Path), filepath.Clean(r.Source)
		fi, err := os.Stat(e.Source)
		if err != nil {
			return nil, fmt.Errorf("redirect source: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("redirect source %s is not a directory", e.Source)
		}
		e.sourceDev = deviceOf(fi)
		if e.DeviceID == 0 {
			live, err := os.Stat(e.Path)
			if err != nil {
				return nil, fmt.Errorf("redirect: device of %s: %w", e.Path, err)
			}
			e.DeviceID = deviceOf(live)
		}
		rd.entries = append(rd.entries, e)
	}
	sort.SliceStable(rd.entries, func(i, j int) bool { return len(rd.entries[i].Path) > len(rd.entries[j].Path) })
	return rd, nil
}

// match returns the redirect covering the absolute path abs, or nil.
func (rd *redirector) match(abs string) *redirectEntry {
	for i := range rd.entries {
		e := &rd.entries[i]
		if abs == e.Path || strings.HasPrefix(abs, e.Path) && (e.Path == "/" || abs[len(e.Path)] == '/') {
			return e
		}
	}
	return nil
}

// source returns where the item recorded at path is read from.
func (a *archiver) source(path string) string {
	if a.redirect == nil {
		return path
	}
	abs := a.abs(path)
	e := a.redirect.match(abs)
	if e == nil {
		return path
	}
	return e.Source + abs[len(e.Path):]
}

// nodeFromFileInfo builds the node of the item recorded at path, whose
// lstat result fi came from src (its source). pnode is its node in the
// parent snapshot, or nil; see keepXattrs.
func (a *archiver) nodeFromFileInfo(path, src string, fi os.FileInfo, pnode *snapshot.Node) (*snapshot.Node, error) {
	if !a.keepXattrs {
		pnode = nil
	}
	node, err := snapshot.NodeFromFileInfoSince(src, fi, a.names, pnode)
	a.redirectNode(path, node)
	return node, err
}

// nodeFromFile is nodeFromFileInfo for a file open as f.
func (a *archiver) nodeFromFile(path string, f *srcFile, fi os.FileInfo) (*snapshot.Node, error) {
	node, err := snapshot.NodeFromFile(f.fd, f.path, fi, a.names)
	a.redirectNode(path, node)
	return node, err
}

// redirectNode gives the node of an item recorded at path, if a redirect
// serves it, the name and device of the recorded item.
func (a *archiver) redirectNode(path string, node *snapshot.Node) {
	if node != nil && a.redirect != nil {
		if e := a.redirect.match(a.abs(path)); e != nil {
			// The source's root has its own name (a mount directory).
			node.Name = filepath.Base(path)
			if node.DeviceID == e.sourceDev {
				node.DeviceID = e.DeviceID
			}
		}
	}
}

// lstat reads the metadata of the item recorded at path from its source.
func (a *archiver) lstat(path string) (string, os.FileInfo, error) {
	src := a.source(path)
	fi, err := os.Lstat(src)
	return src, fi, err
}
