package archiver

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// virtualDir is a directory of the snapshot's tree above or at the
// targets: the root stands for "/", and each component of a target path
// is a child. A target's own directory is read from disk in full.
type virtualDir struct {
	path     string // file system path of this directory ("" for the root)
	children map[string]*virtualDir
	target   bool // back up this path and everything below it
	// rootContent is set when "." is a target: the root itself is read
	// from disk, as restic does for `backup .`.
	rootContent string
}

func buildTargetTree(targets []string) (*virtualDir, error) {
	root := &virtualDir{children: map[string]*virtualDir{}}
	for _, t := range targets {
		if t == "." || t == "/" {
			if len(targets) > 1 && t == "." {
				return nil, fmt.Errorf("cannot back up %q together with other paths", t)
			}
			root.rootContent = t
			continue
		}
		comps := strings.Split(strings.TrimPrefix(filepath.ToSlash(t), "/"), "/")
		dir := root
		for i, c := range comps {
			child := dir.children[c]
			if child == nil {
				p := strings.Join(comps[:i+1], "/")
				if filepath.IsAbs(t) {
					p = "/" + p
				}
				child = &virtualDir{path: p, children: map[string]*virtualDir{}}
				dir.children[c] = child
			}
			dir = child
			if dir.target {
				break // a parent of this path is already backed up whole
			}
		}
		dir.target = true
		dir.children = map[string]*virtualDir{}
	}
	return root, nil
}

func (d *virtualDir) sortedNames() []string {
	names := make([]string, 0, len(d.children))
	for n := range d.children {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
