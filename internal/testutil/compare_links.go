package testutil

import (
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

type inodeKey struct{ dev, ino uint64 }

func inodeOf(n *node) inodeKey { return inodeKey{uint64(n.st.Dev), n.st.Ino} }

// compareHardlinks checks that paths sharing an inode in want share one in
// got, and vice versa. Only non-directories present in both trees count;
// the others are already reported as missing or extra.
func (d *differ) compareHardlinks() {
	var paths []string
	for rel, wn := range d.want {
		gn := d.got[rel]
		if gn != nil && !isDirNode(wn) && !isDirNode(gn) {
			paths = append(paths, rel)
		}
	}
	sort.Strings(paths)
	for _, group := range linkGroups(paths, d.want) {
		if parts := partition(group, d.got); len(parts) > 1 {
			d.out = append(d.out, fmt.Sprintf("hardlinks: want one inode for %q, got %d inodes %q", group, len(parts), parts))
		}
	}
	for _, group := range linkGroups(paths, d.got) {
		if parts := partition(group, d.want); len(parts) > 1 {
			d.out = append(d.out, fmt.Sprintf("hardlinks: want %d inodes %q, got one inode for %q", len(parts), parts, group))
		}
	}
}

func isDirNode(n *node) bool { return n.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// linkGroups returns the sets of two or more paths sharing an inode in tree,
// each sorted, ordered by their first path.
func linkGroups(paths []string, tree scannedTree) [][]string {
	var groups [][]string
	for _, g := range partition(paths, tree) {
		if len(g) > 1 {
			groups = append(groups, g)
		}
	}
	return groups
}

// partition splits sorted paths by their inode in tree, keeping order.
func partition(paths []string, tree scannedTree) [][]string {
	index := map[inodeKey]int{}
	var parts [][]string
	for _, rel := range paths {
		key := inodeOf(tree[rel])
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], rel)
	}
	return parts
}
