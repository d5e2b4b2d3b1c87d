package snapshot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
)

// The interfaces below are the parts of repo.Repository this package needs,
// kept small so tests can use simple fakes.

// BlobLoader loads a blob's plaintext; buf may be reused for the result.
type BlobLoader interface {
	LoadBlob(ctx context.Context, t repo.BlobType, id repo.ID, buf []byte) ([]byte, error)
}

// BlobSaver stores a blob, deduplicating it; known reports that it existed.
type BlobSaver interface {
	SaveBlob(ctx context.Context, t repo.BlobType, data []byte) (id repo.ID, known bool, err error)
}

// UnpackedLoader loads a whole unpacked file (a snapshot, say), decrypted.
type UnpackedLoader interface {
	LoadUnpacked(ctx context.Context, t backend.FileType, id repo.ID) ([]byte, error)
}

// UnpackedSaver stores an unpacked file and returns its ID.
type UnpackedSaver interface {
	SaveUnpacked(ctx context.Context, t backend.FileType, data []byte) (repo.ID, error)
}

// Lister lists the IDs of the files of one type.
type Lister interface {
	List(ctx context.Context, t backend.FileType, fn func(id repo.ID, size int64) error) error
}

// ListLoader lists and loads unpacked files.
type ListLoader interface {
	Lister
	UnpackedLoader
}

// LoadTree loads and decodes the tree blob id.
func LoadTree(ctx context.Context, r BlobLoader, id repo.ID) (*Tree, error) {
	data, err := r.LoadBlob(ctx, repo.TreeBlob, id, nil)
	if err != nil {
		return nil, fmt.Errorf("load tree %s: %w", id.Str(), err)
	}
	t, err := DecodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", id.Str(), err)
	}
	return t, nil
}

// SaveTree encodes t and stores it as a tree blob, returning its ID.
func SaveTree(ctx context.Context, r BlobSaver, t *Tree) (repo.ID, error) {
	data, err := t.Encode()
	if err != nil {
		return repo.ID{}, err
	}
	id, _, err := r.SaveBlob(ctx, repo.TreeBlob, data)
	if err != nil {
		return repo.ID{}, fmt.Errorf("save tree: %w", err)
	}
	return id, nil
}

// fileName names a snapshot file in messages.
func fileName(id repo.ID) string { return backend.SnapshotFile.String() + "/" + id.String() }

// Load loads and decodes snapshots/<id>. It does not call Check: a damaged
// snapshot should still be listable and removable.
func Load(ctx context.Context, r UnpackedLoader, id repo.ID) (*Snapshot, error) {
	data, err := r.LoadUnpacked(ctx, backend.SnapshotFile, id)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", fileName(id), err)
	}
	sn, err := DecodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fileName(id), err)
	}
	sn.id = id
	return sn, nil
}

// Save checks and encodes sn, stores it as a snapshot file and records the
// new ID in sn. Write it only after the index that covers its blobs.
func Save(ctx context.Context, r UnpackedSaver, sn *Snapshot) (repo.ID, error) {
	if err := sn.Check(); err != nil {
		return repo.ID{}, fmt.Errorf("save snapshot: %w", err)
	}
	data, err := sn.Encode()
	if err != nil {
		return repo.ID{}, fmt.Errorf("save snapshot: %w", err)
	}
	id, err := r.SaveUnpacked(ctx, backend.SnapshotFile, data)
	if err != nil {
		return repo.ID{}, fmt.Errorf("save snapshot: %w", err)
	}
	sn.id = id
	return id, nil
}

// listIDs returns the IDs of all snapshot files.
func listIDs(ctx context.Context, r Lister) ([]repo.ID, error) {
	var ids []repo.ID
	err := r.List(ctx, backend.SnapshotFile, func(id repo.ID, _ int64) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	return ids, nil
}

// LoadAll loads every snapshot, sorted by time, oldest first; equal times
// are ordered by ID so the order is stable. If files fail to load, the
// error names the first of them in listing order.
func LoadAll(ctx context.Context, r ListLoader) ([]*Snapshot, error) {
	return LoadAllFunc(ctx, r, nil)
}

// snapshotLoaders is how many snapshot files LoadAllFunc loads at once.
// Each is one small file, from the cache or from the backend, and a
// backend's round trip (SFTP, REST, B2) is most of its cost: a year of
// daily snapshots loaded one by one waited for 365 of them.
const snapshotLoaders = 8

// LoadAllFunc is LoadAll, but passes each snapshot file that fails to load
// to onError, in listing order; when onError returns nil the file is
// skipped, as restic's listings skip (and report) unreadable snapshots. A
// nil onError makes the first failure the result.
func LoadAllFunc(ctx context.Context, r ListLoader, onError func(id repo.ID, err error) error) ([]*Snapshot, error) {
	ids, err := listIDs(ctx, r)
	if err != nil {
		return nil, err
	}
	loaded := make([]*Snapshot, len(ids))
	errs := make([]error, len(ids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(snapshotLoaders, len(ids)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				loaded[i], errs[i] = Load(ctx, r, ids[i])
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]*Snapshot, 0, len(ids))
	for i, id := range ids {
		if errs[i] == nil {
			out = append(out, loaded[i])
			continue
		}
		if onError == nil {
			return nil, errs[i]
		}
		if err := onError(id, errs[i]); err != nil {
			return nil, err
		}
	}
	sortByTime(out)
	return out, nil
}

// sortByTime sorts oldest first, ties by ID.
func sortByTime(sns []*Snapshot) {
	slices.SortFunc(sns, func(a, b *Snapshot) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return slices.Compare(a.id[:], b.id[:])
	})
}

// newer reports whether a should be preferred over b as "the newest"; ties
// in time go to the higher ID, matching LoadAll's order.
func newer(a, b *Snapshot) bool {
	if b == nil {
		return true
	}
	return cmp.Or(a.Time.Compare(b.Time), slices.Compare(a.id[:], b.id[:])) > 0
}
