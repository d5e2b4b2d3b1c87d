package restorer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// ErrInvalidName is returned (wrapped) for a node name that could make a
// restore write outside its directory: "", ".", "..", or one holding "/"
// or a NUL byte. Restic never stores such names; a damaged or malicious
// snapshot might.
var ErrInvalidName = errors.New("invalid node name")

// checkName rejects names that are not a single path component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w %q", ErrInvalidName, name)
	}
	return nil
}

// dirState is a directory on the walk. An unselected directory is created
// only when something below it is restored.
type dirState struct {
	parent  *dirState
	path    string         // path under the target
	node    *snapshot.Node // nil for the target itself
	created bool
	failed  bool // creating it failed and was reported
	// fresh: this restore made the directory, so it held nothing before
	// and nothing needs clearing in it. Every create below uses O_EXCL or
	// fails on an existing name, so a damaged tree that repeats a name
	// gets an error, never a write through whatever is there.
	fresh bool
}

// plan walks the tree, creating directories, special files and empty
// regular files, and records the blobs each file needs.
func (rs *restorer) plan(ctx context.Context, tree repo.ID) error {
	root := &dirState{path: rs.target, created: true, fresh: rs.targetFresh}
	rs.trees = newTreeAhead(ctx, rs.repo)
	err := rs.walk(ctx, root, tree, "")
	rs.trees.stop()
	if err != nil {
		return err
	}
	rs.opts.Progress.PlanDone.Store(true)
	return nil
}

// walk restores the children of the directory d, whose tree is id and
// whose path inside the snapshot is item ("" for the root).
func (rs *restorer) walk(ctx context.Context, d *dirState, id repo.ID, item string) error {
	tree, err := rs.trees.load(ctx, id)
	if err != nil {
		return rs.fail(ctx, d.path, fmt.Errorf("restore %s: %w", d.path, err))
	}
	// Decide first, so the subtrees to descend into can load meanwhile.
	type choice struct{ selected, descend, badName bool }
	choices := make([]choice, len(tree.Nodes))
	var next []repo.ID
	for i, n := range tree.Nodes {
		if checkName(n.Name) != nil {
			choices[i].badName = true
			continue
		}
		isDir := n.Type == snapshot.NodeTypeDir
		c := &choices[i]
		c.selected, c.descend = rs.opts.Select(item+"/"+n.Name, isDir)
		if isDir && c.descend && n.Subtree != nil && !n.Subtree.IsNull() {
			next = append(next, *n.Subtree)
		}
	}
	rs.trees.want(next)
	for i, n := range tree.Nodes {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := choices[i]
		if c.badName {
			if err := rs.fail(ctx, d.path, fmt.Errorf("restore %s: %w", d.path, checkName(n.Name))); err != nil {
				return err
			}
			continue
		}
		path, childItem := d.path+"/"+n.Name, item+"/"+n.Name
		switch {
		case n.Type == snapshot.NodeTypeDir:
			err = rs.walkDir(ctx, d, n, path, childItem, c.selected, c.descend)
		case c.selected:
			err = rs.restoreItem(ctx, d, n, path)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (rs *restorer) walkDir(ctx context.Context, parent *dirState, n *snapshot.Node, path, item string, selected, descend bool) error {
	if !selected && !descend {
		return nil
	}
	if n.Subtree == nil || n.Subtree.IsNull() {
		return rs.fail(ctx, path, fmt.Errorf("restore %s: directory node has no subtree", path))
	}
	d := &dirState{parent: parent, path: path, node: n}
	if selected {
		if ok, err := rs.ensureDir(ctx, d); !ok || err != nil {
			return err
		}
	}
	if !descend {
		return nil
	}
	return rs.walk(ctx, d, *n.Subtree, item)
}

// ensureDir creates d and any missing parents. It returns false when d
// cannot be created and the error was skipped through OnError.
func (rs *restorer) ensureDir(ctx context.Context, d *dirState) (bool, error) {
	switch {
	case d.created:
		return true, nil
	case d.failed:
		return false, nil
	}
	if ok, err := rs.ensureDir(ctx, d.parent); !ok || err != nil {
		d.failed = true
		return false, err
	}
	err := d.parent.clear(d.path, true)
	if err == nil {
		// Made 0700 for now; restoreMetadata sets the real mode.
		err = os.Mkdir(d.path, 0o700)
		d.fresh = err == nil
		if errors.Is(err, fs.ErrExist) && !d.parent.fresh {
			err = d.node.CreateAt(d.path) // reuses an existing directory
		}
	}
	if err != nil {
		d.failed = true
		return false, rs.fail(ctx, d.path, fmt.Errorf("restore %s: %w", d.path, err))
	}
	d.created = true
	rs.dirs = append(rs.dirs, created{path: d.path, node: d.node})
	rs.nDirs.Add(1)
	return true, nil
}

// clear makes room for a new item at path in d (see clearPath); in a
// fresh directory there is nothing to remove.
func (d *dirState) clear(path string, wantDir bool) error {
	if d.fresh {
		return nil
	}
	return clearPath(path, wantDir)
}

// restoreItem creates a selected non-directory node in directory d.
func (rs *restorer) restoreItem(ctx context.Context, d *dirState, n *snapshot.Node, path string) error {
	switch n.Type {
	case snapshot.NodeTypeFile:
		return rs.planFile(ctx, d, n, path)
	case snapshot.NodeTypeSocket:
		// A socket cannot be restored meaningfully; restic skips it too.
		rs.log.Debug("restore: skipping socket", "path", path)
		return nil
	}
	if ok, err := rs.ensureDir(ctx, d); !ok || err != nil {
		return err
	}
	err := d.clear(path, false)
	if err == nil {
		err = n.CreateAt(path)
	}
	if err != nil {
		return rs.fail(ctx, path, fmt.Errorf("restore %s: %w", path, err))
	}
	rs.specials = append(rs.specials, created{path: path, node: n})
	rs.nOthers.Add(1)
	return nil
}
