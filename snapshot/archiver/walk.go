package archiver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

type archiver struct {
	repo     *repo.Repository
	opts     Options
	names    *snapshot.UserNames
	progress *Progress
	devices  map[uint64]bool // allowed devices with OneFileSystem
	files    *workerPool     // file content readers, bounded
	cancel   func()          // stops the walk and the readers after a fatal error
	cwd      string
	buffers  bufferPool
	savers   *saverPool   // store the chunks of files being read
	reading  atomic.Int32 // files being read
	redirect *redirector  // nil without Options.Redirects
	// dirSlots bounds the subdirectories walked by goroutines of their
	// own; when none is free, a directory is walked by its parent's
	// goroutine. Reading parent trees, lstat and encoding trees is most
	// of a no-change backup, and one walker kept one core busy.
	dirSlots chan struct{}
}

// pendingItem is a node completed by another goroutine: a file whose
// content a reader saves, or a directory walked concurrently.
type pendingItem struct {
	node    *snapshot.Node
	skipped bool  // unreadable, left out of the tree
	err     error // fatal, set by a directory walker
}

// saveVirtualDir writes the tree of a directory above the targets.
func (a *archiver) saveVirtualDir(ctx context.Context, d *virtualDir, parentTree *repo.ID) (repo.ID, error) {
	if d.rootContent != "" {
		return a.saveDir(ctx, d.rootContent, parentTree)
	}
	parent := a.loadParentTree(ctx, parentTree)
	tree := &snapshot.Tree{}
	var wg sync.WaitGroup
	defer wg.Wait() // no walker outlives an early return
	var pending []*pendingItem
	for _, name := range d.sortedNames() {
		child := d.children[name]
		src, fi, err := a.lstat(child.path)
		if err != nil {
			if err := a.fail(child.path, err); err != nil {
				return repo.ID{}, err
			}
			continue
		}
		pnode := parent.Find(name)
		var node *snapshot.Node
		if child.target {
			node, err = a.saveItem(ctx, child.path, src, fi, pnode, &wg, &pending)
		} else {
			node, err = a.intermediateDir(ctx, child, src, fi, pnode)
		}
		if err != nil {
			return repo.ID{}, err
		}
		if node != nil {
			node.Name = name
			if err := tree.Insert(node); err != nil {
				return repo.ID{}, err
			}
		}
	}
	wg.Wait()
	return a.finishTree(ctx, tree, pending)
}

func (a *archiver) intermediateDir(ctx context.Context, d *virtualDir, src string, fi os.FileInfo, pnode *snapshot.Node) (*snapshot.Node, error) {
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", d.path)
	}
	node, err := a.nodeFromFileInfo(d.path, src, fi)
	if err != nil {
		return nil, err
	}
	id, err := a.saveVirtualDir(ctx, d, parentSubtree(pnode))
	if err != nil {
		return nil, err
	}
	a.countDir(id, pnode) // restic counts the directories above the targets too
	node.Subtree = &id
	return node, nil
}

// countDir classifies a saved directory as new, changed or unmodified
// against its parent snapshot's node.
func (a *archiver) countDir(id repo.ID, pnode *snapshot.Node) {
	a.progress.Dirs.Add(1)
	switch {
	case pnode == nil || pnode.Type != snapshot.NodeTypeDir:
		a.progress.DirsNew.Add(1)
	case pnode.Subtree != nil && *pnode.Subtree == id:
		a.progress.DirsUnmodified.Add(1)
	default:
		a.progress.DirsChanged.Add(1)
	}
}

// saveDir reads a directory from disk and writes its tree.
func (a *archiver) saveDir(ctx context.Context, dir string, parentTree *repo.ID) (repo.ID, error) {
	names, err := readDirNames(a.source(dir))
	if err != nil {
		return repo.ID{}, err
	}
	parent := a.loadParentTree(ctx, parentTree)
	tree := &snapshot.Tree{Nodes: make([]*snapshot.Node, 0, len(names))}
	var wg sync.WaitGroup
	var pending []*pendingItem
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return repo.ID{}, err
		}
		path := filepath.Join(dir, name)
		src, fi, err := a.lstat(path)
		if err != nil {
			if err := a.fail(path, err); err != nil {
				wg.Wait()
				return repo.ID{}, err
			}
			continue
		}
		if a.opts.Excluder != nil && a.opts.Excluder.Excluded(a.abs(path), fi) {
			continue
		}
		node, err := a.saveItem(ctx, path, src, fi, parent.Find(name), &wg, &pending)
		if err != nil {
			wg.Wait()
			return repo.ID{}, err
		}
		if node != nil {
			// Sorted input, so appending keeps the tree sorted.
			tree.Nodes = append(tree.Nodes, node)
		}
	}
	wg.Wait()
	return a.finishTree(ctx, tree, pending)
}

// readDirNames lists a directory sorted by raw name, as restic stores it.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

// saveItem builds the node of one file system entry. Regular file content
// is saved by a worker; the node is complete once wg is done. A nil node
// means the item is not stored.
func (a *archiver) saveItem(ctx context.Context, path, src string, fi os.FileInfo, pnode *snapshot.Node, wg *sync.WaitGroup, pending *[]*pendingItem) (*snapshot.Node, error) {
	mode := fi.Mode()
	if mode&(os.ModeSocket|os.ModeIrregular) != 0 {
		return nil, nil // restic does not store sockets or irregular files
	}
	if a.devices != nil && !a.devices[deviceOf(fi)] {
		if !fi.IsDir() {
			return nil, nil
		}
		// A mount point: keep the directory, empty, as restic does.
		node, err := a.nodeFromFileInfo(path, src, fi)
		if err != nil {
			return nil, a.fail(path, err)
		}
		id, err := a.saveTreeBlob(ctx, &snapshot.Tree{})
		node.Subtree = &id
		return node, err
	}
	node, err := a.nodeFromFileInfo(path, src, fi)
	if err != nil {
		return nil, a.fail(path, err)
	}
	switch {
	case mode.IsRegular():
		a.progress.Files.Add(1)
		if a.unchanged(node, uint64(fi.Size()), pnode) {
			node.Content = pnode.Content
			node.Size = uint64(fi.Size())
			a.progress.FilesUnmodified.Add(1)
			a.progress.Bytes.Add(uint64(fi.Size()))
			return node, nil
		}
		if pnode != nil {
			a.progress.FilesChanged.Add(1)
		} else {
			a.progress.FilesNew.Add(1)
		}
		pf := &pendingItem{node: node}
		*pending = append(*pending, pf)
		wg.Add(1)
		a.files.Go(func() (err error) {
			defer wg.Done()
			defer func() {
				if err != nil {
					a.cancel()
				}
			}()
			if err := ctx.Err(); err != nil {
				return err // queued before a failure stopped the backup
			}
			content, size, err := a.saveFile(ctx, src, fi)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.As(err, new(repositoryError)) {
					return err
				}
				if ferr := a.fail(path, err); ferr != nil {
					return ferr
				}
				pf.skipped = true
				return nil
			}
			node.Content, node.Size = content, size
			return nil
		})
		return node, nil
	case mode.IsDir():
		select {
		case a.dirSlots <- struct{}{}:
		default:
			// No free walker: walk it here.
			keep, err := a.saveSubdir(ctx, path, node, pnode)
			if !keep {
				return nil, err
			}
			return node, nil
		}
		pd := &pendingItem{node: node}
		*pending = append(*pending, pd)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-a.dirSlots }()
			keep, err := a.saveSubdir(ctx, path, node, pnode)
			pd.skipped, pd.err = !keep, err
			if err != nil {
				a.cancel() // stop the siblings too
			}
		}()
		return node, nil
	}
	return node, nil
}

// saveSubdir walks a directory and completes its node. keep is false if
// the directory could not be read and is left out (OnError allowed it),
// or if err is fatal.
func (a *archiver) saveSubdir(ctx context.Context, path string, node, pnode *snapshot.Node) (keep bool, err error) {
	id, err := a.saveDir(ctx, path, parentSubtree(pnode))
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, errAbort) || errors.As(err, new(repositoryError)) {
			return false, err
		}
		var pe *os.PathError
		if errors.As(err, &pe) || errors.Is(err, syscall.EACCES) {
			return false, a.fail(path, err)
		}
		return false, err
	}
	a.countDir(id, pnode)
	node.Subtree = &id
	return true, nil
}

// errAbort marks an error that OnError chose to make fatal.
var errAbort = errors.New("backup aborted")

// fail reports an unreadable item; nil means skip it and go on.
func (a *archiver) fail(path string, err error) error {
	a.progress.Errors.Add(1)
	if a.opts.OnError == nil {
		return fmt.Errorf("%w: %s: %w", errAbort, path, err)
	}
	if ferr := a.opts.OnError(path, err); ferr != nil {
		return fmt.Errorf("%w: %w", errAbort, ferr)
	}
	return nil
}

// unchanged reports whether a file can reuse its parent node's content
// without being read: same type, size, mtime, ctime and inode, and every
// content blob still in the index.
func (a *archiver) unchanged(node *snapshot.Node, size uint64, pnode *snapshot.Node) bool {
	if pnode == nil || pnode.Type != snapshot.NodeTypeFile || pnode.Size != size {
		return false
	}
	if !pnode.ModTime.Equal(node.ModTime) {
		return false
	}
	if !a.opts.IgnoreCtime && !a.opts.IgnoreInode && !pnode.ChangeTime.Equal(node.ChangeTime) {
		return false
	}
	if !a.opts.IgnoreInode && pnode.Inode != node.Inode {
		return false
	}
	for _, id := range pnode.Content {
		if !a.repo.Index().Has(repo.BlobHandle{ID: id, Type: repo.DataBlob}) {
			a.opts.Logger.Warn("parent content missing from index, re-reading file", "file", node.Name)
			return false
		}
	}
	return pnode.Content != nil
}

func (a *archiver) finishTree(ctx context.Context, tree *snapshot.Tree, pending []*pendingItem) (repo.ID, error) {
	// A failed walker cancels its siblings: report its error, not theirs.
	var first error
	for _, p := range pending {
		if p.err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = p.err
		}
	}
	if first != nil {
		return repo.ID{}, first
	}
	if err := ctx.Err(); err != nil {
		return repo.ID{}, err
	}
	if len(pending) > 0 {
		skip := map[*snapshot.Node]bool{}
		for _, pf := range pending {
			if pf.skipped {
				skip[pf.node] = true
			}
		}
		if len(skip) > 0 {
			kept := tree.Nodes[:0]
			for _, n := range tree.Nodes {
				if !skip[n] {
					kept = append(kept, n)
				}
			}
			tree.Nodes = kept
		}
	}
	return a.saveTreeBlob(ctx, tree)
}

func (a *archiver) saveTreeBlob(ctx context.Context, tree *snapshot.Tree) (repo.ID, error) {
	data, err := tree.Encode()
	if err != nil {
		return repo.ID{}, err
	}
	id := repo.Hash(data)
	known, size, err := a.saveBlob(ctx, repo.TreeBlob, id, data)
	if err != nil {
		return repo.ID{}, repositoryError{err}
	}
	if !known {
		a.progress.TreeBlobs.Add(1)
		a.progress.DataAdded.Add(uint64(len(data)))
		a.progress.DataAddedPacked.Add(uint64(size))
	}
	return id, nil
}

// saveBlob stores a blob, or in a dry run only checks whether it is known.
func (a *archiver) saveBlob(ctx context.Context, t repo.BlobType, id repo.ID, data []byte) (bool, int, error) {
	if a.opts.DryRun {
		return a.repo.Index().Has(repo.BlobHandle{ID: id, Type: t}), 0, nil
	}
	return a.repo.SaveBlobID(ctx, t, id, data)
}

func (a *archiver) loadParentTree(ctx context.Context, id *repo.ID) *snapshot.Tree {
	if id == nil {
		return &snapshot.Tree{}
	}
	t, err := snapshot.LoadTree(ctx, a.repo, *id)
	if err != nil {
		a.opts.Logger.Warn("cannot load parent tree, backing up without it", "tree", id.Str(), "err", err)
		return &snapshot.Tree{}
	}
	return t
}

func parentSubtree(pnode *snapshot.Node) *repo.ID {
	if pnode == nil || pnode.Type != snapshot.NodeTypeDir {
		return nil
	}
	return pnode.Subtree
}

func (a *archiver) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(a.cwd, path)
}

func deviceOf(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

func (a *archiver) targetDevices(targets []string) (map[uint64]bool, error) {
	devs := map[uint64]bool{}
	for _, t := range targets {
		_, fi, err := a.lstat(t)
		if err != nil {
			return nil, err
		}
		devs[deviceOf(fi)] = true
	}
	return devs, nil
}
