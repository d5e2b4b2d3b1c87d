package checker

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hbackup/hbackup/repo"
)

// Causes of a PackError, for errors.Is. Damaged blob content inside a pack
// matches repo.ErrIntegrity instead.
var (
	// ErrPackMissing: the index lists a pack the backend does not have.
	ErrPackMissing = errors.New("does not exist")
	// ErrPackSize: the pack's size differs from what the index implies.
	ErrPackSize = errors.New("unexpected file size")
	// ErrPackHash: the pack's SHA-256 is not its name.
	ErrPackHash = errors.New("pack content does not match its ID")
	// ErrPackHeader: the pack header cannot be read or disagrees with the
	// index (a blob missing on either side, or at another position).
	ErrPackHeader = errors.New("pack header does not match the index")
	// ErrPackRead: the pack could not be downloaded completely.
	ErrPackRead = errors.New("failed to download")
)

// Hint is a finding that is legal in a restic repository (pitfall 21:
// duplicates, orphans and mixed packs) and does not make a check fail.
type Hint interface {
	error
	isHint()
}

// IsHint reports whether err is (or wraps) a Hint.
func IsHint(err error) bool {
	var h Hint
	return errors.As(err, &h)
}

// IndexError: an index file could not be loaded or decoded.
type IndexError struct {
	IndexID repo.ID
	Err     error
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("error loading index %v: %v", e.IndexID, e.Err)
}
func (e *IndexError) Unwrap() error { return e.Err }

// DuplicatePackHint: one pack is listed in several index files.
type DuplicatePackHint struct {
	PackID  repo.ID
	Indexes []repo.ID // sorted
}

func (e *DuplicatePackHint) Error() string {
	short := make([]string, len(e.Indexes))
	for i, id := range e.Indexes {
		short[i] = id.Str()
	}
	return fmt.Sprintf("pack %v contained in several indexes: {%s}", e.PackID, strings.Join(short, " "))
}
func (*DuplicatePackHint) isHint() {}

// MixedPackHint: a pack holds both data and tree blobs.
type MixedPackHint struct{ PackID repo.ID }

func (e *MixedPackHint) Error() string {
	return fmt.Sprintf("pack %v contains a mix of tree and data blobs", e.PackID.Str())
}
func (*MixedPackHint) isHint() {}

// OrphanedPackHint: a pack in the backend that no index lists. Prune
// deletes it; it usually holds data of an interrupted backup.
type OrphanedPackHint struct {
	PackID repo.ID
	Size   int64
}

func (e *OrphanedPackHint) Error() string {
	return fmt.Sprintf("pack %v: not referenced in any index", e.PackID)
}
func (*OrphanedPackHint) isHint() {}

// UnusedBlobHint: an indexed blob that no snapshot references.
type UnusedBlobHint struct{ Blob repo.BlobHandle }

func (e *UnusedBlobHint) Error() string {
	return fmt.Sprintf("unused blob %v/%v", e.Blob.Type, e.Blob.ID)
}
func (*UnusedBlobHint) isHint() {}

// PackError collects the problems found with one pack file.
type PackError struct {
	PackID repo.ID
	Errors []error
}

func (e *PackError) Error() string {
	if len(e.Errors) == 1 {
		return fmt.Sprintf("pack %v: %v", e.PackID, e.Errors[0])
	}
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("pack %v contains %d errors: %s", e.PackID, len(e.Errors), strings.Join(msgs, "; "))
}
func (e *PackError) Unwrap() []error { return e.Errors }

// SnapshotError: a snapshot file cannot be loaded or has no tree.
type SnapshotError struct {
	SnapshotID repo.ID
	Err        error
}

func (e *SnapshotError) Error() string {
	return fmt.Sprintf("snapshot %v: %v", e.SnapshotID, e.Err)
}
func (e *SnapshotError) Unwrap() error { return e.Err }

// TreeError collects the problems of one tree: it could not be loaded or
// decoded, or some of its nodes are invalid (NodeError, MissingBlobError).
type TreeError struct {
	TreeID repo.ID
	Errors []error
}

func (e *TreeError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("tree %v: %s", e.TreeID.Str(), strings.Join(msgs, "; "))
}
func (e *TreeError) Unwrap() []error { return e.Errors }

// NodeError: a node breaks the rules check applies to nodes (§10.2).
type NodeError struct {
	TreeID repo.ID
	Node   string // the node's name
	Err    error
}

func (e *NodeError) Error() string { return fmt.Sprintf("tree %v: %v", e.TreeID, e.Err) }
func (e *NodeError) Unwrap() error { return e.Err }

// MissingBlobError: a tree references a data blob the index lacks, or a
// subtree cannot be found.
type MissingBlobError struct {
	TreeID repo.ID
	Node   string
	Blob   repo.BlobHandle
}

func (e *MissingBlobError) Error() string {
	if e.Blob.Type == repo.TreeBlob {
		return fmt.Sprintf("id %v not found in repository", e.Blob.ID)
	}
	return fmt.Sprintf("tree %v: file %q blob %v not found in index", e.TreeID, e.Node, e.Blob.ID)
}
func (e *MissingBlobError) Unwrap() error { return repo.ErrBlobNotFound }

func sortIDs(ids []repo.ID) {
	slices.SortFunc(ids, func(a, b repo.ID) int { return bytes.Compare(a[:], b[:]) })
}
