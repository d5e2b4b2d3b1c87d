package archiver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"golang.org/x/sys/unix"
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
	// of a no-change backup, and one walker kept one core busy. Walkers
	// also wait, on parent trees loading and trees being saved: with one
	// per core the walk of the data set kept ~1.3 of 2 cores busy, and 8
	// per core made a no-change backup 0.63 -> 0.55 s (16 walkers; 8
	// gave 0.58 s).
	dirSlots chan struct{}
	// keepXattrs: the parent snapshot was written by hbackup, so an item
	// whose inode and ctime are unchanged keeps its parent node's
	// extended attributes (snapshot.NodeFromFileInfoSince) instead of
	// listing them again: in a no-change backup of 20,000 files the
	// listxattr calls took as much CPU as the lstat calls. A parent from
	// another program might have left attributes out.
	keepXattrs bool
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
	node, err := a.nodeFromFileInfo(d.path, src, fi, pnode)
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
	dirSrc := a.source(dir)
	d, err := openSourceDir(dirSrc)
	if err != nil {
		return repo.ID{}, err
	}
	// Every return below first waits for the readers of its files (wg).
	defer d.close()
	parent := a.loadParentTree(ctx, parentTree)
	tree := &snapshot.Tree{Nodes: make([]*snapshot.Node, 0, len(d.entries))}
	var wg sync.WaitGroup
	var pending []*pendingItem
	for _, e := range d.entries {
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return repo.ID{}, err
		}
		name := e.Name()
		path := filepath.Join(dir, name)
		pnode := parent.Find(name)
		// The entry's source is the one in d, unless a redirect gives
		// it another: then it is looked up by its own path.
		var src string
		var fi os.FileInfo
		if a.redirect == nil || a.source(path) == filepath.Join(dirSrc, name) {
			src = filepath.Join(dirSrc, name)
			switch a.listedFileAction(e, pnode, path) {
			case skipListed:
				continue
			case openListedFile:
				tree.Nodes = append(tree.Nodes, a.saveListedFile(ctx, d, name, path, src, &wg, &pending))
				continue
			}
			fi, err = d.lstat(name, src)
		} else {
			src, fi, err = a.lstat(path)
		}
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
		node, err := a.saveItem(ctx, path, src, fi, pnode, &wg, &pending)
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

// sourceDir is a directory being walked, kept open so that its entries
// are looked up and opened relative to it, not by a path the kernel
// resolves from the root for each call.
type sourceDir struct {
	f       *os.File
	entries []os.DirEntry // sorted by raw name, as restic stores them
}

func openSourceDir(path string) (*sourceDir, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	slices.SortFunc(entries, func(x, y os.DirEntry) int { return strings.Compare(x.Name(), y.Name()) })
	return &sourceDir{f: f, entries: entries}, nil
}

// fd is the directory's descriptor, valid until close.
func (d *sourceDir) fd() int { return int(d.f.Fd()) }

func (d *sourceDir) close() { _ = d.f.Close() }

// lstat is os.Lstat of the entry name, whose path is src.
func (d *sourceDir) lstat(name, src string) (os.FileInfo, error) {
	fi := &statInfo{name: name}
	for {
		// unix.Stat_t is syscall.Stat_t, field for field (statSizesMatch).
		err := unix.Fstatat(d.fd(), name, (*unix.Stat_t)(unsafe.Pointer(&fi.st)), unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "lstat", Path: src, Err: err}
		}
		return fi, nil
	}
}

type listedAction int

const (
	lstatListed    listedAction = iota // look the entry up as usual
	skipListed                         // excluded by its path
	openListedFile                     // a new regular file: open it straight away
)

// listedFileAction decides how to back up a directory entry before any
// lstat: a regular file (as the listing says) that the parent snapshot
// does not have is opened and described by fstat (saveListedFile), unless
// an exclusion, or a device limit, needs its file info first.
func (a *archiver) listedFileAction(e os.DirEntry, pnode *snapshot.Node, path string) listedAction {
	if !e.Type().IsRegular() || pnode != nil || a.devices != nil {
		return lstatListed
	}
	if a.opts.Excluder == nil {
		return openListedFile
	}
	px, ok := a.opts.Excluder.(PathExcluder)
	if !ok {
		return lstatListed
	}
	excluded, decided := px.ExcludedByPath(a.abs(path))
	switch {
	case !decided:
		return lstatListed
	case excluded:
		return skipListed
	}
	return openListedFile
}

// saveListedFile backs up a new regular file of d without an lstat: a
// reader opens it, builds its node from fstat and reads it. The node
// returned is filled in then, like a queued file's content.
func (a *archiver) saveListedFile(ctx context.Context, d *sourceDir, name, path, src string, wg *sync.WaitGroup, pending *[]*pendingItem) *snapshot.Node {
	node := &snapshot.Node{Name: name, Type: snapshot.NodeTypeFile}
	a.progress.Files.Add(1)
	a.progress.FilesNew.Add(1)
	pf := &pendingItem{node: node}
	*pending = append(*pending, pf)
	a.readFile(ctx, path, pf, wg, func() ([]repo.ID, uint64, error) {
		f, fi, err := openListed(d.fd(), name, src)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		built, err := a.nodeFromFile(path, f, fi)
		if err != nil {
			return nil, 0, err
		}
		*node = *built
		return a.saveOpened(ctx, f, src, fi)
	})
	return node
}

// readFile has a reader save a regular file's content (save), then
// completes its pending node: a file that cannot be read is reported
// and left out; a repository failure stops the backup.
func (a *archiver) readFile(ctx context.Context, path string, pf *pendingItem, wg *sync.WaitGroup, save func() ([]repo.ID, uint64, error)) {
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
		content, size, err := save()
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
		pf.node.Content, pf.node.Size = content, size
		return nil
	})
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
		node, err := a.nodeFromFileInfo(path, src, fi, pnode)
		if err != nil {
			return nil, a.fail(path, err)
		}
		id, err := a.saveTreeBlob(ctx, &snapshot.Tree{})
		node.Subtree = &id
		return node, err
	}
	node, err := a.nodeFromFileInfo(path, src, fi, pnode)
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
		a.readFile(ctx, path, pf, wg, func() ([]repo.ID, uint64, error) {
			return a.saveFile(ctx, src, fi)
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
