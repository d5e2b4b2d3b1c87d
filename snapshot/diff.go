package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
	"slices"

	"github.com/hbackup/hbackup/repo"
)

// DiffChange is one line of `diff`: a path and restic's marker: "+" added,
// "-" removed, "M" content modified, "U" metadata updated (only with
// metadata on), "T" type changed (possibly "TM" or "TU").
type DiffChange struct {
	Path     string
	Modifier string
}

// DiffStat counts the items and blobs one side of a diff adds or removes.
type DiffStat struct {
	Files     int    `json:"files"`
	Dirs      int    `json:"dirs"`
	Others    int    `json:"others"`
	DataBlobs int    `json:"data_blobs"`
	TreeBlobs int    `json:"tree_blobs"`
	Bytes     uint64 `json:"bytes"`
}

func (s *DiffStat) count(n *Node) {
	switch n.Type {
	case NodeTypeFile:
		s.Files++
	case NodeTypeDir:
		s.Dirs++
	default:
		s.Others++
	}
}

// DiffResult sums up a diff as restic does.
type DiffResult struct {
	ChangedFiles int
	Added        DiffStat
	Removed      DiffStat
}

type blobSet map[repo.BlobHandle]bool

// differ holds the state of one comparison.
type differ struct {
	r        BlobLoader
	metadata bool
	emit     func(DiffChange) error
	res      DiffResult
	// Blobs referenced by the first and second snapshot, and blobs of
	// subtrees both share (which are neither added nor removed).
	before, after, common blobSet
}

// Diff compares two snapshot trees and calls emit for each change, in
// path order. The blob statistics count blobs only one side uses, sized
// by their plaintext length from idx.
func Diff(ctx context.Context, r BlobLoader, idx BlobIndex, tree1, tree2 repo.ID, metadata bool, emit func(DiffChange) error) (DiffResult, error) {
	d := &differ{r: r, metadata: metadata, emit: emit, before: blobSet{}, after: blobSet{}, common: blobSet{}}
	d.before[repo.BlobHandle{ID: tree1, Type: repo.TreeBlob}] = true
	d.after[repo.BlobHandle{ID: tree2, Type: repo.TreeBlob}] = true
	if err := d.trees(ctx, "/", tree1, tree2); err != nil {
		return DiffResult{}, err
	}
	sum := func(set, other blobSet, st *DiffStat) {
		for h := range set {
			if other[h] || d.common[h] {
				continue
			}
			if h.Type == repo.DataBlob {
				st.DataBlobs++
			} else {
				st.TreeBlobs++
			}
			if pbs := idx.Lookup(h); len(pbs) > 0 {
				st.Bytes += uint64(pbs[0].PlaintextLength())
			}
		}
	}
	sum(d.before, d.after, &d.res.Removed)
	sum(d.after, d.before, &d.res.Added)
	return d.res, nil
}

// addBlobs records the blobs a node references directly.
func addBlobs(set blobSet, n *Node) {
	switch {
	case n == nil:
	case n.Type == NodeTypeFile:
		for _, id := range n.Content {
			set[repo.BlobHandle{ID: id, Type: repo.DataBlob}] = true
		}
	case n.Type == NodeTypeDir && n.Subtree != nil:
		set[repo.BlobHandle{ID: *n.Subtree, Type: repo.TreeBlob}] = true
	}
}

func (d *differ) trees(ctx context.Context, dir string, id1, id2 repo.ID) error {
	t1, err := LoadTree(ctx, d.r, id1)
	if err != nil {
		return err
	}
	t2, err := LoadTree(ctx, d.r, id2)
	if err != nil {
		return err
	}
	nodes1, nodes2 := map[string]*Node{}, map[string]*Node{}
	var names []string
	for _, n := range t1.Nodes {
		nodes1[n.Name] = n
		names = append(names, n.Name)
	}
	for _, n := range t2.Nodes {
		if _, ok := nodes1[n.Name]; !ok {
			names = append(names, n.Name)
		}
		nodes2[n.Name] = n
	}
	slices.Sort(names)
	for _, name := range names {
		n1, n2 := nodes1[name], nodes2[name]
		addBlobs(d.before, n1)
		addBlobs(d.after, n2)
		p := path.Join(dir, name)
		var err error
		switch {
		case n1 != nil && n2 != nil:
			err = d.both(ctx, p, n1, n2)
		case n1 != nil:
			err = d.oneSide(ctx, p, "-", n1, &d.res.Removed, d.before)
		default:
			err = d.oneSide(ctx, p, "+", n2, &d.res.Added, d.after)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *differ) both(ctx context.Context, p string, n1, n2 *Node) error {
	mod := ""
	if n1.Type != n2.Type {
		mod = "T"
	}
	if n2.Type == NodeTypeDir {
		p += "/"
	}
	if n1.Type == NodeTypeFile && n2.Type == NodeTypeFile && !slices.Equal(n1.Content, n2.Content) {
		mod += "M"
		d.res.ChangedFiles++
	} else if d.metadata && !sameNode(n1, n2) {
		mod += "U"
	}
	if mod != "" {
		if err := d.emit(DiffChange{Path: p, Modifier: mod}); err != nil {
			return err
		}
	}
	if n1.Type != NodeTypeDir || n2.Type != NodeTypeDir || n1.Subtree == nil || n2.Subtree == nil {
		return nil
	}
	if *n1.Subtree == *n2.Subtree {
		// Identical subtrees: their blobs are shared, not added or removed.
		return d.collect(ctx, d.common, *n1.Subtree)
	}
	return d.trees(ctx, p, *n1.Subtree, *n2.Subtree)
}

// oneSide reports a node present in only one snapshot, and everything
// below it.
func (d *differ) oneSide(ctx context.Context, p, mod string, n *Node, st *DiffStat, set blobSet) error {
	if n.Type == NodeTypeDir {
		p += "/"
	}
	if err := d.emit(DiffChange{Path: p, Modifier: mod}); err != nil {
		return err
	}
	st.count(n)
	if n.Type != NodeTypeDir || n.Subtree == nil {
		return nil
	}
	return Walk(ctx, d.r, *n.Subtree, p, func(q string, c *Node) (bool, error) {
		if c.Type == NodeTypeDir {
			q += "/"
		}
		addBlobs(set, c)
		st.count(c)
		return true, d.emit(DiffChange{Path: q, Modifier: mod})
	})
}

// collect adds every blob below tree to set.
func (d *differ) collect(ctx context.Context, set blobSet, tree repo.ID) error {
	return Walk(ctx, d.r, tree, "/", func(_ string, n *Node) (bool, error) {
		addBlobs(set, n)
		return true, nil
	})
}

// sameNode compares the metadata restic 0.14 knows, as its --metadata
// does. Symlink targets are compared as restic reads them (invalid UTF-8
// turned into U+FFFD), so a restic-written node equals the hbackup-written
// node of the same link, whose linktarget_raw restic 0.14 does not know.
func sameNode(a, b *Node) bool {
	ja, errA := json.Marshal(comparable014(a))
	jb, errB := json.Marshal(comparable014(b))
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func comparable014(n *Node) *Node {
	c := *n
	c.LinkTarget = string([]rune(n.LinkTarget))
	c.LinkTargetRaw = nil
	c.GenericAttributes = nil
	return &c
}
