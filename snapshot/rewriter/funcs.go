package rewriter

import (
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Excluder tells whether a path is excluded by name; *filter.Excluder
// is one.
type Excluder interface {
	ExcludedByName(path string) bool
}

// Exclude returns a TreeRewriter that drops every node whose path ex
// excludes, with everything below it, as restic's rewrite --exclude.
// excluded, if not nil, is told each dropped path.
func Exclude(ex Excluder, excluded func(path string)) *TreeRewriter {
	return &TreeRewriter{Node: func(n *snapshot.Node, p string) *snapshot.Node {
		if !ex.ExcludedByName(p) {
			return n
		}
		if excluded != nil {
			excluded(p)
		}
		return nil
	}}
}

// BlobIndex tells whether a data blob is stored, and its plaintext size;
// *repo.MasterIndex is one.
type BlobIndex interface {
	Lookup(h repo.BlobHandle) []repo.PackedBlob
}

// RepairEvent says what Repair changed at a path.
type RepairEvent int

const (
	MissingContent RepairEvent = iota // file lost blobs: they were removed from its content
	WrongSize                         // file's size did not match its content: fixed
	EmptiedDir                        // directory tree unreadable: now empty
	UnreadableRoot                    // root tree unreadable: snapshot dropped
)

// Repair returns a TreeRewriter that salvages what idx still has, as
// restic's repair snapshots: files lose the data blobs the index does not
// list (their size becomes that of what is left), directories whose tree
// cannot be loaded become empty, and a snapshot whose root tree cannot be
// loaded is dropped. report, if not nil, is told each change.
func Repair(idx BlobIndex, report func(ev RepairEvent, path string)) *TreeRewriter {
	if report == nil {
		report = func(RepairEvent, string) {}
	}
	return &TreeRewriter{
		AllowUnstable: true,
		Node: func(n *snapshot.Node, p string) *snapshot.Node {
			if n.Type != snapshot.NodeTypeFile {
				return n
			}
			content := make([]repo.ID, 0, len(n.Content))
			var size uint64
			for _, id := range n.Content {
				copies := idx.Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})
				if len(copies) == 0 {
					continue
				}
				content = append(content, id)
				size += uint64(copies[0].PlaintextLength())
			}
			switch {
			case len(content) != len(n.Content):
				report(MissingContent, p)
			case size != n.Size:
				report(WrongSize, p)
			default:
				return n
			}
			c := *n
			c.Content, c.Size = content, size
			return &c
		},
		FailedTree: func(_ repo.ID, p string, _ error) (*snapshot.Tree, error) {
			if p == "/" {
				report(UnreadableRoot, p)
				return nil, nil
			}
			report(EmptiedDir, p)
			return &snapshot.Tree{}, nil
		},
	}
}
